import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveOptions {
  /** Move at most this many messages. */
  max?: number;
  /**
   * Stop starting new messages after this many milliseconds (the caller's time budget, e.g. what
   * is left of a Lambda's timeout minus a margin). Checked between messages, never inside one.
   */
  budgetMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export interface RedriveResult {
  moved: number;
  /** ApproximateNumberOfMessages of the DLQ after the run: what a next run would move. */
  remaining: number;
  /**
   * Why it stopped: the DLQ looked empty, `max` was reached, the time budget ran out, or what is
   * left was dead-lettered after the run began (`returned`: changes this run moved that failed
   * again, which a second pass would only move round in a loop).
   */
  stoppedBy: 'empty' | 'max' | 'budget' | 'returned';
}

/**
 * How long received dead letters stay hidden while they are moved. A run that stops on its
 * budget makes the ones it did not move visible again at once, so a next run finds them.
 */
const RECEIVE_VISIBILITY_SECONDS = 30;

/**
 * Moves messages from a connector's DLQ back to its queue, for an operator who fixed the cause.
 * Each message is sent, then deleted from the DLQ, one at a time: a run cut short (timeout,
 * crash, budget) never loses a message and duplicates at most the one in flight, whose resend
 * carries a deduplication id derived from its MessageId, so SQS drops a second send within five
 * minutes. The message keeps its FIFO group, so per-resource order holds. SQS's own
 * StartMessageMoveTask does not move FIFO dead-letter queues, hence this.
 *
 * A run moves only what was dead-lettered before it began. A change that fails for good comes
 * back to the DLQ within seconds of its move; without that bound the run would take it again and
 * again until its budget or `max` ran out. The DLQ is FIFO, so the first message sent after the
 * run began (SQS's SentTimestamp; a redriven copy is a new message) means everything older has
 * moved: the run stops there with `returned`.
 */
export const redriveWithinBudget = async (sqs: SQSClient, dlqUrl: string, queueUrl: string, options: RedriveOptions = {}): Promise<RedriveResult> => {
  const now = options.now ?? Date.now;
  const deadline = options.budgetMs === undefined ? Number.POSITIVE_INFINITY : now() + options.budgetMs;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  // SentTimestamp is SQS's wall clock, so the run's start is too (not the injectable budget clock).
  const startedAt = Date.now();
  let moved = 0;
  let stoppedBy: RedriveResult['stoppedBy'] = 'empty';
  outer: while (true) {
    if (moved >= max) {
      stoppedBy = 'max';
      break;
    }
    if (now() >= deadline) {
      stoppedBy = 'budget';
      break;
    }
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        // Long polling only while the budget allows it.
        WaitTimeSeconds: Math.max(0, Math.min(1, Math.floor((deadline - now()) / 1000) - 1)),
        VisibilityTimeout: RECEIVE_VISIBILITY_SECONDS,
        MessageSystemAttributeNames: ['MessageGroupId', 'SentTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    for (const [index, message] of messages.entries()) {
      const returned = Number(message.Attributes?.SentTimestamp ?? 0) >= startedAt;
      if (returned || now() >= deadline) {
        stoppedBy = returned ? 'returned' : 'budget';
        const unmoved = messages.slice(index);
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: dlqUrl,
            Entries: unmoved.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
          }),
        );
        break outer;
      }
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: message.Body ?? '',
          MessageAttributes: message.MessageAttributes,
          MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
          MessageDeduplicationId: `redrive-${message.MessageId}`.slice(0, 128),
        }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
      moved += 1;
    }
  }
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  const remaining = Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  return { moved, remaining, stoppedBy };
};

/** redriveWithinBudget without a budget: how many messages moved. */
export const redriveDeadLetters = async (sqs: SQSClient, dlqUrl: string, queueUrl: string, options: { max?: number } = {}): Promise<number> =>
  (await redriveWithinBudget(sqs, dlqUrl, queueUrl, options)).moved;
