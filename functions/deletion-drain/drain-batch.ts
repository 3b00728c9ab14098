import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { DeletionDrain } from '#shared/directory/deletion-drain.ts';
import { drainOfStreamImage } from '#shared/store/deletion-drain.repository.ts';

/**
 * Runs the drain of every drain record in a stream batch, in order. The first record that fails
 * is reported as the batch item failure, so Lambda retries from it; the runs before it are
 * done, and a run repeated is harmless.
 */
export const makeDrainBatch =
  (drain: Pick<DeletionDrain, 'run'>, onRun: (detail: Record<string, unknown>) => void = () => undefined) =>
  async (records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse> => {
    for (const record of records) {
      const pending = drainOfStreamImage(record.dynamodb?.NewImage);
      if (!pending) continue;
      try {
        onRun({ drain: pending, ...(await drain.run(pending)) });
      } catch (error) {
        onRun({ drain: pending, error: error instanceof Error ? error.message : String(error) });
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
      }
    }
    return { batchItemFailures: [] };
  };
