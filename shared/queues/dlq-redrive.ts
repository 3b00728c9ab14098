import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Moves messages from a connector's DLQ back to its queue, for an operator who fixed the cause.
 * Each message gets a fresh deduplication id (the original one may still be inside SQS's
 * five-minute window) and keeps its FIFO group, so per-resource order holds. SQS's own
 * StartMessageMoveTask does not move FIFO dead-letter queues, hence this.
 */
export const redriveDeadLetters = async (sqs: SQSClient, dlqUrl: string, queueUrl: string, options: { max?: number } = {}): Promise<number> => {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  while (moved < max) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 30,
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: message.Body ?? '',
          MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
          MessageDeduplicationId: `redrive-${message.MessageId}-${Date.now()}`.slice(0, 128),
        }),
      );
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    moved += messages.length;
  }
  return moved;
};
