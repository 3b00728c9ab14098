import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueTrigger } from '#shared/topology/topology.types.ts';
import type { LocalFunction } from './lambda-runtime.ts';
import type { LocalQueue } from './queues.ts';

/**
 * The most batches of one lane a local poller runs at once, when the runner is not told
 * otherwise: the smallest MaximumConcurrency an SQS event source mapping accepts, which the
 * stack gives a connector lane unless its rate calls for more.
 */
export const DEFAULT_LANE_CONCURRENCY = 2;

/**
 * Polls one queue and invokes a function with `SQSEvent` batches, as Lambda's SQS event source
 * mapping does: messages the handler reports in `batchItemFailures` (or all of them, when it
 * throws) are left on the queue, so they come back after the visibility timeout and move to the
 * DLQ after the queue's maxReceiveCount; the others are deleted.
 *
 * It scales as Lambda's FIFO scaling does: one poller while the queue is quiet; each batch that
 * arrives starts one more, up to `maxConcurrency` batches in flight, and a poller that finds the
 * queue empty goes away (the last one stays). The queue itself keeps a FIFO group to one batch at
 * a time: while a group's messages are in flight, SQS (and fauxqs) hands out none of that group,
 * so order within a group holds however many batches run. The poller checks it as well, and
 * refuses to run a batch that shares a group with one in flight (it leaves it to come back).
 */
export class QueuePoller {
  private running = false;
  private readonly loops = new Set<Promise<void>>();
  private readonly groupsInFlight = new Set<string>();
  private lastError: unknown;
  private peak = 0;

  constructor(
    private readonly client: SQSClient,
    private readonly queue: LocalQueue,
    private readonly trigger: QueueTrigger,
    private readonly fn: LocalFunction,
    private readonly options: { waitTimeSeconds?: number; maxConcurrency?: number } = {},
  ) {}

  get healthy(): boolean {
    return this.running && this.lastError === undefined;
  }

  get problem(): string | undefined {
    return this.lastError === undefined ? undefined : String(this.lastError);
  }

  /** The queue this poller reads. */
  get queueName(): string {
    return this.queue.name;
  }

  /** The most batches this poller has had in flight at once. */
  get peakConcurrency(): number {
    return this.peak;
  }

  private get maxConcurrency(): number {
    return Math.max(1, this.options.maxConcurrency ?? DEFAULT_LANE_CONCURRENCY);
  }

  start(): void {
    this.running = true;
    this.spawn();
  }

  async stop(): Promise<void> {
    this.running = false;
    while (this.loops.size > 0) await Promise.all([...this.loops]);
  }

  private spawn(): void {
    const loop: Promise<void> = this.run().finally(() => this.loops.delete(loop));
    this.loops.add(loop);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const received = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queue.url,
            MaxNumberOfMessages: Math.min(10, this.trigger.batchSize),
            WaitTimeSeconds: this.options.waitTimeSeconds ?? 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        this.lastError = undefined;
        const messages = received.Messages ?? [];
        if (messages.length === 0) {
          // Scale in: the queue has nothing for this poller; one stays to notice the next message.
          if (this.loops.size > 1) return;
          continue;
        }
        if (!this.running) break;
        // Scale out: there was work, so there may be more for another batch.
        if (this.loops.size < this.maxConcurrency) this.spawn();
        await this.deliver(messages);
      } catch (error) {
        if (!this.running) break;
        this.lastError = error;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async deliver(messages: Message[]): Promise<void> {
    const groups = [...new Set(messages.flatMap((m) => (m.Attributes?.MessageGroupId ? [m.Attributes.MessageGroupId] : [])))];
    if (groups.some((group) => this.groupsInFlight.has(group))) {
      // The queue broke FIFO's promise; leave the batch to come back rather than reorder a group.
      this.lastError = new Error(`${this.queue.name} handed out a message group that is already in flight`);
      return;
    }
    for (const group of groups) this.groupsInFlight.add(group);
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
    let done: Message[] = [];
    try {
      done = await this.invoke(messages);
    } finally {
      this.inFlight -= 1;
      // Released before the delete: the moment the queue sees the batch deleted it hands out the
      // group's next messages, possibly to a poller already waiting, which must not refuse them.
      for (const group of groups) this.groupsInFlight.delete(group);
    }
    if (done.length === 0) return;
    await this.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queue.url,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }

  private inFlight = 0;

  /** Runs the function on the batch; returns the messages it handled, which are to be deleted. */
  private async invoke(messages: Message[]): Promise<Message[]> {
    const records = messages.map((message) => toSqsRecord(message, this.queue));
    let failed: Set<string>;
    try {
      const response = (await this.fn.invoke({ Records: records } satisfies SQSEvent)) as SQSBatchResponse | undefined;
      failed = new Set(this.trigger.reportBatchItemFailures ? (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : []);
    } catch (error) {
      // A batch cut short by Ctrl-C is not news; it comes back after its visibility timeout.
      if (this.running) console.error(`${this.fn.spec.name} failed a batch from ${this.queue.name}:`, error instanceof Error ? error.message : error);
      return [];
    }
    return messages.filter((message) => message.MessageId && !failed.has(message.MessageId));
  }
}

const toSqsRecord = (message: Message, queue: LocalQueue): SQSRecord => {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: value.DataType ?? 'String', stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: 'us-east-1',
  };
};
