import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { makeDeletionDrain } from '#shared/directory/deletion-drain.ts';
import { logBatchFailures } from '#shared/observability/failures.middleware.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { DynamoDeletionDrainStore } from '#shared/store/deletion-drain.repository.ts';
import { DynamoDirectoryStore } from '#shared/store/directory.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { makeDrainBatch } from './drain-batch.ts';

const env = readEnv(TableEnvSchema);
const logger = createLogger('deletion-drain');
const documents = createDocumentClient();
const drain = makeDeletionDrain({
  drains: new DynamoDeletionDrainStore(documents, env.TABLE_NAME, new DynamoDirectoryStore(documents, env.TABLE_NAME)),
  clock: () => new Date(),
});
const drainBatch = makeDrainBatch(drain, (detail) =>
  detail.error ? logger.error('a deletion drain run failed', detail) : logger.info('deletion drain run', detail),
);

/** Stream-triggered on every drain written or moved on; on a schedule, nudges drains that stopped. */
export const handler = middy<DynamoDBStreamEvent | ScheduledEvent, DynamoDBBatchResponse | { nudged: number }>()
  .use(injectLambdaContext(logger))
  .use(logBatchFailures(logger))
  .handler(async (event) => ('Records' in event ? drainBatch(event.Records) : { nudged: await drain.sweep() }));
