import { type SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { ChunkQueue } from '../transfer/import-job.ports.ts';
import type { ImportQueueMessage } from '../transfer/transfer.types.ts';

/**
 * Import chunks onto the import queue. A standard queue: chunks of one job run side by side (a
 * file's rows never share a userName), and a chunk delivered twice is counted once by its job.
 */
export const sqsImportChunks = (sqs: SQSClient, queueUrl: string): ChunkQueue => ({
  send: async (message: ImportQueueMessage) => {
    if (!queueUrl) throw new Error('no import queue: the function needs a queues grant and the topology an import queue');
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
  },
});
