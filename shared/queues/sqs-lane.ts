import { ChangeMessageVisibilityBatchCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { dlqUrlOf } from '../config/connector-queues.ts';
import { type ChangeMessage, messageGroupOf } from '../sync/change-message.ts';
import type { QueuePort, ReceivedChange } from '../sync/change-worker.ts';

/** SQS caps a visibility timeout at 12 hours. */
const MAX_VISIBILITY_SECONDS = 43_200;
/** SQS takes at most 10 entries per batch call. */
const BATCH = 10;

/**
 * The worker's queue port on one connector's FIFO lane: waits as visibility extensions of the
 * received copies, re-enqueues as fresh copies in the same message group, dead letters as sends
 * to the lane's DLQ. `receipts` maps the batch's message ids to their receipt handles.
 */
export const sqsLane = (sqs: SQSClient, queueUrl: string, receipts: ReadonlyMap<string, string>): QueuePort => ({
  delay: async (messageIds, ms) => {
    for (let start = 0; start < messageIds.length; start += BATCH) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: messageIds.slice(start, start + BATCH).map((id, index) => ({
            Id: String(index),
            ReceiptHandle: receipts.get(id),
            VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(ms / 1000)),
          })),
        }),
      );
    }
  },
  requeue: async (change: ReceivedChange, message: ChangeMessage) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        MessageGroupId: messageGroupOf(message),
        // A fresh id: the original's may still be inside SQS's five-minute deduplication window.
        MessageDeduplicationId: `${change.messageId}:${message.attempts ?? 0}:${message.notBefore ?? 0}`.slice(0, 128),
      }),
    );
  },
  deadLetter: async (change: ReceivedChange, reason: string) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrlOf(queueUrl),
        MessageBody: change.body,
        MessageGroupId: messageGroupOf(change.message),
        MessageDeduplicationId: change.messageId,
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
      }),
    );
  },
});

/** One message for a FIFO queue. */
export interface FifoMessage {
  queueUrl: string;
  body: string;
  groupId: string;
  deduplicationId: string;
}

/**
 * Sends messages to their queues with SendMessageBatch, ten at a time per queue, and returns
 * the indexes of those SQS refused or that could not be sent (`onFailure` says why), so the
 * caller can report exactly those records as failed.
 */
export const sendFifoBatches = async (
  sqs: SQSClient,
  messages: readonly FifoMessage[],
  onFailure: (detail: { queueUrl: string; code?: string; reason?: string; error?: Error }) => void,
): Promise<Set<number>> => {
  const failed = new Set<number>();
  const byQueue = new Map<string, number[]>();
  messages.forEach((message, index) => {
    byQueue.set(message.queueUrl, [...(byQueue.get(message.queueUrl) ?? []), index]);
  });
  for (const [queueUrl, indexes] of byQueue) {
    for (let start = 0; start < indexes.length; start += BATCH) {
      const part = indexes.slice(start, start + BATCH);
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: part.map((index) => {
              const message = messages[index] as FifoMessage;
              return { Id: String(index), MessageBody: message.body, MessageGroupId: message.groupId, MessageDeduplicationId: message.deduplicationId };
            }),
          }),
        );
        for (const failure of result.Failed ?? []) {
          onFailure({ queueUrl, code: failure.Code, reason: failure.Message });
          failed.add(Number(failure.Id));
        }
      } catch (error) {
        onFailure({ queueUrl, error: error as Error });
        for (const index of part) failed.add(index);
      }
    }
  }
  return failed;
};

/** Puts one change on a connector's FIFO lane, in its resource's message group. */
export const enqueueChange = async (sqs: SQSClient, queueUrl: string, message: ChangeMessage, deduplicationId: string): Promise<void> => {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(message),
      MessageGroupId: messageGroupOf(message),
      MessageDeduplicationId: deduplicationId.slice(0, 128),
    }),
  );
};
