import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { TokenRepository } from '#shared/store/token.repository.ts';
import { authorizerErrors, makeAuthorizer } from './authorizer.ts';

const env = readEnv(TableEnvSchema);
const tokens = new TokenRepository(createDocumentClient(), env.TABLE_NAME);
const logger = createLogger('scim-authorizer');

/** REQUEST authorizer in front of the SCIM routes; API Gateway caches its answers per token. */
export const handler = middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>()
  .use(injectLambdaContext(logger, { correlationIdPath: 'requestContext.requestId' }))
  .use(authorizerErrors(logger))
  .handler(makeAuthorizer({ findToken: (hash) => tokens.findByHash(hash) }));
