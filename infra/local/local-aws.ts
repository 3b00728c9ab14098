/**
 * Credentials and region for the local stand-ins. DynamoDB Local rejects access key ids with
 * characters other than letters and digits, so these are plain words.
 */
export const localAwsConfig = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

/**
 * The environment that points every AWS SDK v3 client of a handler at the local stand-ins.
 * SDK v3 reads the service-specific `AWS_ENDPOINT_URL_<SERVICE>` variables itself, so handlers
 * carry no local-only code.
 */
export const localAwsEnvironment = (endpoints: { dynamodb: string; sqs: string; cognito?: string }): Record<string, string> => ({
  AWS_REGION: localAwsConfig.region,
  AWS_DEFAULT_REGION: localAwsConfig.region,
  AWS_ACCESS_KEY_ID: localAwsConfig.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: localAwsConfig.credentials.secretAccessKey,
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
  AWS_ENDPOINT_URL_SQS: endpoints.sqs,
  ...(endpoints.cognito ? { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoints.cognito } : {}),
});
