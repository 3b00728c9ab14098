import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's limit of items in one TransactWriteItems call. */
export const MAX_TRANSACTION_ITEMS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one TransactWriteItems. A cancellation caused only by a concurrent transaction on the
 * same items (`TransactionConflict`) is retried with jittered backoff: the whole transaction
 * failed, so trying again cannot apply anything twice. Any other cancellation is handed to
 * `onCancelled` with the reason code per item, in the order of `items`.
 */
export const transactWrite = async (
  client: DynamoDBDocumentClient,
  items: TransactItem[],
  onCancelled: (reasons: Array<string | undefined>) => Error,
  attempts = 8,
): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      const conflictOnly =
        reasons.some((code) => code === 'TransactionConflict') &&
        reasons.every((code) => code === 'TransactionConflict' || code === 'None' || code === undefined);
      if (conflictOnly && attempt < attempts) {
        await sleep(Math.random() * 20 * 2 ** attempt);
        continue;
      }
      throw onCancelled(reasons);
    }
  }
};
