import type { APIGatewayProxyEvent } from 'aws-lambda';

/** Who a local call is from: the holder of the operator token, the only operator a local hub has. */
export const LOCAL_OPERATOR = 'operator token';

/**
 * The operator behind an admin request, for audit records and decisions: the email (an ID
 * token's), else the user name, else the subject of the operators' pool token the console sent, a Lambda authorizer's
 * `operator` context value, the IAM caller's ARN for the CLI, and the operator token's holder
 * locally. Claims come from API Gateway's Cognito authorizer (`requestContext.authorizer.claims`):
 * an access token names its user `username`, an ID token `cognito:username`.
 */
export const operatorOf = (event: APIGatewayProxyEvent): string => {
  const authorizer = event.requestContext?.authorizer as { claims?: Record<string, unknown>; operator?: unknown } | null | undefined;
  const claims = authorizer?.claims;
  for (const value of [claims?.email, claims?.username, claims?.['cognito:username'], claims?.sub, authorizer?.operator]) {
    if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 256);
  }
  return event.requestContext?.identity?.userArn ?? LOCAL_OPERATOR;
};
