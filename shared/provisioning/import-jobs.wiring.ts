import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { makeDirectory } from '../directory/directory.service.ts';
import { sqsImportChunks } from '../queues/sqs-import-chunks.ts';
import { DynamoDirectoryStore } from '../store/directory.repository.ts';
import type { createDocumentClient } from '../store/dynamodb.client.ts';
import { DynamoImportJobStore } from '../store/import-job.repository.ts';
import { makeChunkImporter } from '../transfer/import-chunk.ts';
import { makeImportJobs } from '../transfer/import-job.service.ts';

export interface ImportJobsWiringOptions {
  documents: ReturnType<typeof createDocumentClient>;
  tableName: string;
  sqs: SQSClient;
  /** The import queue (HUB_QUEUE_URLS.import). */
  queueUrl: string;
  onUnknownAttributes?: (resourceType: string, names: string[]) => void;
  clock?: () => Date;
}

/**
 * Import jobs wired to the table and the import queue: what the `import-worker` function, the
 * admin API and the operator CLI (against an AWS stage) all run. The directory is the SCIM API's
 * own use cases on the same table.
 */
export const wireImportJobs = (options: ImportJobsWiringOptions) => {
  const clock = options.clock ?? (() => new Date());
  const store = new DynamoDirectoryStore(options.documents, options.tableName);
  const directory = makeDirectory({
    store,
    clock,
    newId: randomUUID,
    onUnknownAttributes: options.onUnknownAttributes ?? (() => undefined),
  });
  const jobs = makeImportJobs({
    jobs: new DynamoImportJobStore(options.documents, options.tableName),
    queue: sqsImportChunks(options.sqs, options.queueUrl),
    importer: makeChunkImporter({ directory, store }),
    clock,
    newId: () => `imp_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
  });
  return { jobs, directory };
};
