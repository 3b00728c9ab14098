import type { APIGatewayProxyEvent } from 'aws-lambda';

/** Who the operator is when nothing but the local operator token vouched for the request. */
export const LOCAL_OPERATOR = 'operator token';

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 256) : undefined);

/**
 * The operator behind an admin request, as the API's authorizer names them: a Cognito user
 * pool authorizer's claims (email, else the username), a Lambda authorizer's `operator` context
 * value, or the IAM caller's ARN. Locally the operator token is the only credential, and the
 * request names no one else.
 */
export const operatorOf = (event: APIGatewayProxyEvent): string => {
  const authorizer = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  const claims = (authorizer?.claims ?? undefined) as Record<string, unknown> | undefined;
  return (
    text(claims?.email) ?? text(claims?.['cognito:username']) ?? text(authorizer?.operator) ?? text(event.requestContext?.identity?.userArn) ?? LOCAL_OPERATOR
  );
};
