import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { HubQueuesEnvSchema } from '#shared/config/hub-queues.ts';
import { SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE } from '#shared/config/sdk-retries.ts';
import { logBatchFailures } from '#shared/observability/failures.middleware.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { wireImportJobs } from '#shared/provisioning/import-jobs.wiring.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { ChunkMessageSchema } from '#shared/transfer/transfer.types.ts';

const env = readEnv(TableEnvSchema.merge(HubQueuesEnvSchema));
const logger = createLogger('import-worker');
// A chunk that fails returns to the import queue and is applied again, idempotently.
const { jobs } = wireImportJobs({
  documents: createDocumentClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE),
  tableName: env.TABLE_NAME,
  sqs: new SQSClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE),
  queueUrl: env.HUB_QUEUE_URLS.import ?? '',
  onUnknownAttributes: (resourceType, names) => logger.warn('ignored unknown attributes in an imported row', { resourceType, names }),
});

/** Applies import chunks: each one's rows through the directory, counted once into its job. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .use(logBatchFailures(logger))
  .handler(async (event) => {
    const failures: string[] = [];
    for (const record of event.Records) {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch {
        body = undefined;
      }
      const parsed = ChunkMessageSchema.safeParse(body);
      if (!parsed.success) {
        // Nothing a retry could fix: it goes to the DLQ after the queue's receives.
        logger.error('unreadable import chunk', { messageId: record.messageId, issues: parsed.success ? undefined : parsed.error.issues.slice(0, 5) });
        failures.push(record.messageId);
        continue;
      }
      try {
        const outcome = await jobs.processChunk(parsed.data);
        logger.info('import chunk', { jobId: parsed.data.jobId, chunk: parsed.data.chunk, rows: parsed.data.records.length, outcome });
      } catch (error) {
        logger.error('import chunk failed: it runs again', { messageId: record.messageId, jobId: parsed.data.jobId, chunk: parsed.data.chunk, error });
        failures.push(record.messageId);
      }
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  });
