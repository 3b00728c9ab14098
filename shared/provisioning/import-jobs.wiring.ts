import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { makeDirectory } from '../directory/directory.service.ts';
import { sqsImportChunks } from '../queues/sqs-import-chunks.ts';
import { DynamoDirectoryStore } from '../store/directory.repository.ts';
import type { createDocumentClient } from '../store/dynamodb.client.ts';
import { DynamoExportJobStore } from '../store/export-job.repository.ts';
import { DynamoImportJobStore } from '../store/import-job.repository.ts';
import { makeExportJobs } from '../transfer/export-job.service.ts';
import { makeChunkImporter } from '../transfer/import-chunk.ts';
import { makeImportJobs } from '../transfer/import-job.service.ts';
import { makeObjectImports } from '../transfer/import-object.service.ts';
import type { ObjectStore } from '../transfer/object-store.port.ts';

export interface ImportJobsWiringOptions {
  documents: ReturnType<typeof createDocumentClient>;
  tableName: string;
  sqs: SQSClient;
  /** The import queue (HUB_QUEUE_URLS.import). */
  queueUrl: string;
  onUnknownAttributes?: (resourceType: string, names: string[]) => void;
  clock?: () => Date;
  /** The import bucket (IMPORT_BUCKET): chunks too large for a message, uploads, exports. */
  objects?: ObjectStore;
}

/**
 * Import jobs wired to the table and the import queue: what the `import-worker` function, the
 * admin API and the operator CLI (against an AWS stage) all run. The directory is the SCIM API's
 * own use cases on the same table.
 */
export const wireImportJobs = (options: ImportJobsWiringOptions) => {
  const clock = options.clock ?? (() => new Date());
  // Rows of a chunk share transactions (each row whole in one), so an import costs a call per few dozen rows.
  const store = new DynamoDirectoryStore(options.documents, options.tableName, { batchWrites: true });
  const directory = makeDirectory({
    store,
    clock,
    newId: randomUUID,
    onUnknownAttributes: options.onUnknownAttributes ?? (() => undefined),
  });
  const queue = sqsImportChunks(options.sqs, options.queueUrl);
  const jobs = makeImportJobs({
    jobs: new DynamoImportJobStore(options.documents, options.tableName),
    queue,
    importer: makeChunkImporter({ directory, store }),
    clock,
    newId: () => `imp_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
    ...(options.objects ? { objects: options.objects } : {}),
  });
  const objects = options.objects;
  const transfers = objects && {
    uploads: makeObjectImports({ jobs, objects, queue }),
    exports: makeExportJobs({
      exports: new DynamoExportJobStore(options.documents, options.tableName),
      queue,
      objects,
      clock,
      newId: () => `exp_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
      directory,
    }),
  };
  return { jobs, directory, transfers };
};
