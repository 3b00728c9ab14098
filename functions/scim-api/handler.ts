import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { makeDirectory } from '#shared/directory/directory.service.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { DynamoDirectoryStore } from '#shared/store/directory.repository.ts';
import { routeScimRequest } from './scim-router.ts';
import { scimErrorResponses } from './scim-errors.middleware.ts';

const env = readEnv(
  TableEnvSchema.extend({
    SCIM_BASE_URL: z.url().optional(),
    // Lower than the defaults only to reach them cheaply (the integration tests do); unset in the stack.
    SCIM_MAX_SCANNED: z.coerce.number().int().positive().optional(),
    SCIM_MAX_INLINE_MEMBERS: z.coerce.number().int().nonnegative().optional(),
    SCIM_MEMBER_BYTES_PER_RESPONSE: z.coerce.number().int().positive().optional(),
  }),
);
const logger = createLogger('scim-api');
const directory = makeDirectory({
  store: new DynamoDirectoryStore(createDocumentClient(), env.TABLE_NAME),
  clock: () => new Date(),
  newId: randomUUID,
  onUnknownAttributes: (resourceType, names) => logger.warn('ignored unknown attributes', { resourceType, names }),
  limits: { maxScanned: env.SCIM_MAX_SCANNED, maxInlineMembers: env.SCIM_MAX_INLINE_MEMBERS, memberBytesPerResponse: env.SCIM_MEMBER_BYTES_PER_RESPONSE },
});

/** The authorizer's answer for this token, as API Gateway passes it (context values arrive as strings). */
const strictUnknownAttributes = (event: APIGatewayProxyEvent): boolean => String(event.requestContext?.authorizer?.strictUnknownAttributes) === 'true';

export const handler = middy<APIGatewayProxyEvent>()
  .use(injectLambdaContext(logger, { correlationIdPath: 'requestContext.requestId' }))
  .use(scimErrorResponses(logger))
  .handler((event) => routeScimRequest(event, { directory, baseUrl: env.SCIM_BASE_URL }, { strictUnknownAttributes: strictUnknownAttributes(event) }));
