import { ChangeMessageVisibilityBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** A dead-lettered message as operators see it (it is left in the DLQ). */
export interface DeadLetter {
  messageId: string;
  groupId: string | undefined;
  receiveCount: number;
  sentAt: string | undefined;
  /** Why the worker dead-lettered it (the `reason` message attribute), when it said. */
  reason?: string;
  /** The message body, parsed when it is JSON. */
  body: unknown;
}

const parseBody = (body: string | undefined): unknown => {
  try {
    return JSON.parse(body ?? '');
  } catch {
    return body;
  }
};

/** How long listed dead letters stay hidden while the list is read; they are made visible again right after. */
const PEEK_VISIBILITY_SECONDS = 5;

/**
 * Up to `limit` dead letters, left in the DLQ. A FIFO queue holds back a group's later messages
 * while one of it is in flight, so the listing receives until it has enough or the queue gives
 * no more (at least the first message of every group), keeping what it saw hidden meanwhile
 * (nothing consumes a DLQ but a redrive), then makes them visible again. The count beside the
 * listing is the queue's whole depth.
 */
export const peekDeadLetters = async (sqs: SQSClient, dlqUrl: string, limit: number): Promise<DeadLetter[]> => {
  const seen: Message[] = [];
  while (seen.length < limit) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: limit - seen.length,
        VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['reason'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    seen.push(...messages);
  }
  if (seen.length > 0) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: seen.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
  return seen.map((message) => ({
    messageId: message.MessageId ?? '',
    groupId: message.Attributes?.MessageGroupId,
    // This look was a receive too: report the count before it.
    receiveCount: Math.max(0, Number(message.Attributes?.ApproximateReceiveCount ?? 1) - 1),
    sentAt: message.Attributes?.SentTimestamp ? new Date(Number(message.Attributes.SentTimestamp)).toISOString() : undefined,
    ...(message.MessageAttributes?.reason?.StringValue ? { reason: message.MessageAttributes.reason.StringValue } : {}),
    body: parseBody(message.Body),
  }));
};
