import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { DynamoGrantStore } from '#shared/store/grant.repository.ts';
import { makeGrantExpiry } from '#shared/sync/on-demand.service.ts';

const env = readEnv(TableEnvSchema);
const logger = createLogger('grant-expiry');
const expire = makeGrantExpiry({ grants: new DynamoGrantStore(createDocumentClient(), env.TABLE_NAME), clock: () => new Date() });

/**
 * Scheduled every minute: deletes the temporary access grants whose time has come. Each
 * deletion reaches the grant's connector lane through the table's stream, where the user's sync
 * deprovisions them. DynamoDB's own TTL deletes within days, so it cannot be the clock.
 */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .handler(async () => {
    const { ended } = await expire();
    if (ended.length > 0) logger.info('temporary access ended', { grants: ended.map((g) => `${g.connectorId}/${g.userId}`) });
    return { ended: ended.length };
  });
