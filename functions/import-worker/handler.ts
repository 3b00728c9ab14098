import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ImportBucketEnvSchema, readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { HubQueuesEnvSchema } from '#shared/config/hub-queues.ts';
import { SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE } from '#shared/config/sdk-retries.ts';
import { objectStoreOf } from '#shared/objects/object-store.wiring.ts';
import { logBatchFailures } from '#shared/observability/failures.middleware.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { wireImportJobs } from '#shared/provisioning/import-jobs.wiring.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { ImportJobError } from '#shared/transfer/import-job.service.ts';
import { ImportQueueMessageSchema } from '#shared/transfer/transfer.types.ts';

const env = readEnv(TableEnvSchema.merge(HubQueuesEnvSchema).merge(ImportBucketEnvSchema));
const logger = createLogger('import-worker');
// A message that fails returns to the import queue and runs again, idempotently.
const { jobs, transfers } = wireImportJobs({
  documents: createDocumentClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE),
  tableName: env.TABLE_NAME,
  sqs: new SQSClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE),
  queueUrl: env.HUB_QUEUE_URLS.import ?? '',
  objects: objectStoreOf(env.IMPORT_BUCKET),
  onUnknownAttributes: (resourceType, names) => logger.warn('ignored unknown attributes in an imported row', { resourceType, names }),
});
const { uploads, exports } = transfers!;

const isS3Event = (event: SQSEvent | S3Event): event is S3Event => event.Records.some((record) => 'eventSource' in record && record.eventSource === 'aws:s3');

/**
 * An upload under imports/: its import job starts (or resumes) with the options of the upload's
 * metadata and the file is cut into chunks. Metadata the import cannot use makes a failed job
 * that says why.
 */
const onUpload = async (event: S3Event, context: Context): Promise<void> => {
  for (const record of event.Records) {
    // S3 event keys are URL-encoded, spaces as `+`.
    const key = decodeURIComponent(record.s3.object.key.replaceAll('+', ' '));
    try {
      const { job, resumed, mapping } = await uploads.start(key);
      if (job.state === 'failed') {
        logger.warn('import upload refused', { key, jobId: job.jobId, reason: job.error });
        continue;
      }
      const outcome = await uploads.cut(job.jobId, key, mapping, () => context.getRemainingTimeInMillis());
      logger.info('import upload', { key, jobId: job.jobId, resumed, outcome });
    } catch (error) {
      // A key no run could fix (gone, or not an import): said once, not retried.
      if (error instanceof ImportJobError) logger.error('import upload refused', { key, code: error.code, reason: error.message });
      else throw error;
    }
  }
};

/** Import queue messages: chunks to apply, files to cut on, exports to write. */
const onMessages = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const failures: string[] = [];
  for (const record of event.Records) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const parsed = ImportQueueMessageSchema.safeParse(body);
    if (!parsed.success) {
      // Nothing a retry could fix: it goes to the DLQ after the queue's receives.
      logger.error('unreadable import message', { messageId: record.messageId, issues: parsed.error.issues.slice(0, 5) });
      failures.push(record.messageId);
      continue;
    }
    const message = parsed.data;
    try {
      if (!('kind' in message)) {
        const outcome = await jobs.processChunk(message);
        logger.info('import chunk', { jobId: message.jobId, chunk: message.chunk, byReference: 'recordsKey' in message, outcome });
      } else if (message.kind === 'cut') {
        const outcome = await uploads.cut(message.jobId, message.key, message.mapping, () => context.getRemainingTimeInMillis());
        logger.info('import cut', { jobId: message.jobId, key: message.key, outcome });
      } else {
        logger.info('export', { exportId: message.exportId, outcome: await exports.run(message.exportId) });
      }
    } catch (error) {
      logger.error('import message failed: it runs again', { messageId: record.messageId, message: 'kind' in message ? message.kind : 'chunk', error });
      failures.push(record.messageId);
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};

/**
 * Import and export jobs: the import queue's messages, and the import bucket's notifications of
 * uploads under imports/.
 */
export const handler = middy<SQSEvent | S3Event, SQSBatchResponse | undefined>()
  .use(injectLambdaContext(logger))
  .use(logBatchFailures(logger))
  .handler(async (event, context) => {
    if (isS3Event(event)) {
      await onUpload(event, context);
      return undefined;
    }
    return onMessages(event, context);
  });
