import type { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { bearerTokenFrom, hashToken, type TokenGrant } from '#shared/auth/bearer-token.ts';
import type { TokenRecord } from '#shared/store/token.repository.ts';

/**
 * Only stored tokens are accepted: there is no token from the environment in the deployed code
 * path. The local runner's `SCIM_BEARER_TOKEN` is stored (hashed) in the table at start, like
 * `npm run tokens -- create` does.
 */
export interface AuthorizerDeps {
  findToken(hash: string): Promise<TokenRecord | undefined>;
}

/**
 * API Gateway caches the answer per token for every route of the API, so an Allow covers the
 * whole stage (`.../<stage>/*`), not just the method that asked first.
 */
const stageWildcard = (methodArn: string): string => {
  const [prefix, stage] = methodArn.split('/');
  return `${prefix}/${stage}/*`;
};

const allow = (methodArn: string, grant: TokenGrant): APIGatewayAuthorizerResult => ({
  principalId: grant.tokenId,
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(methodArn) }],
  },
  context: { tokenId: grant.tokenId, strictUnknownAttributes: grant.strictUnknownAttributes },
});

/** Throwing `Unauthorized` is how a Lambda authorizer tells API Gateway to answer 401. */
class TokenRefused extends Error {
  constructor() {
    super('Unauthorized');
  }
}
const unauthorized = () => new TokenRefused();

/**
 * A refused token is the authorizer's answer, not a failure; anything else (the table cannot be
 * read) is logged with the Lambda context and rethrown, so API Gateway answers 500 and caches
 * nothing.
 */
export const authorizerErrors = (logger: Logger): middy.MiddlewareObj<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult> => ({
  onError: async (request) => {
    if (request.error instanceof TokenRefused) return;
    logger.error('the authorizer could not check a token', { error: request.error as Error });
  },
});

export const makeAuthorizer =
  (deps: AuthorizerDeps) =>
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
    const token = bearerTokenFrom(header);
    if (!token) throw unauthorized();
    const stored = await deps.findToken(hashToken(token));
    if (!stored || stored.revoked) throw unauthorized();
    return allow(event.methodArn, { tokenId: stored.id, strictUnknownAttributes: stored.strictUnknownAttributes });
  };
