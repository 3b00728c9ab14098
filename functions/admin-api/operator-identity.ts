import type { APIGatewayProxyEvent } from 'aws-lambda';

/** Who a local call is from: the holder of the operator token, the only operator a local hub has. */
export const LOCAL_OPERATOR = 'operator';

/**
 * The operator behind an admin request, for audit records and decisions: the user name (or,
 * failing it, the subject) of the operators' pool token the console sent, the IAM caller's ARN
 * for the CLI, and the operator token's holder locally. Claims come from API Gateway's Cognito
 * authorizer (`requestContext.authorizer.claims`): an access token names its user `username`,
 * an ID token `cognito:username`.
 */
export const operatorOf = (event: APIGatewayProxyEvent): string => {
  const claims = (event.requestContext?.authorizer as { claims?: Record<string, unknown> } | null | undefined)?.claims;
  for (const claim of ['username', 'cognito:username', 'sub']) {
    const value = claims?.[claim];
    if (typeof value === 'string' && value !== '') return value;
  }
  return event.requestContext?.identity?.userArn ?? LOCAL_OPERATOR;
};
