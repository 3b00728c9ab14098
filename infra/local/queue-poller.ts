import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueTrigger } from '#shared/topology/topology.types.ts';
import type { LocalFunction } from './lambda-runtime.ts';
import type { LocalQueue } from './queues.ts';

/**
 * Polls one queue and invokes a function with `SQSEvent` batches, as Lambda's SQS event source
 * mapping does: messages the handler reports in `batchItemFailures` (or all of them, when it
 * throws) are left on the queue, so they come back after the visibility timeout and move to the
 * DLQ after the queue's maxReceiveCount; the others are deleted.
 */
export class QueuePoller {
  private running = false;
  private loop: Promise<void> | undefined;
  private lastError: unknown;

  constructor(
    private readonly client: SQSClient,
    private readonly queue: LocalQueue,
    private readonly trigger: QueueTrigger,
    private readonly fn: LocalFunction,
    private readonly options: { waitTimeSeconds?: number } = {},
  ) {}

  get healthy(): boolean {
    return this.running && this.lastError === undefined;
  }

  get problem(): string | undefined {
    return this.lastError === undefined ? undefined : String(this.lastError);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
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
        if (messages.length > 0 && this.running) await this.deliver(messages);
      } catch (error) {
        if (!this.running) break;
        this.lastError = error;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async deliver(messages: Message[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, this.queue));
    let failed: Set<string>;
    try {
      const response = (await this.fn.invoke({ Records: records } satisfies SQSEvent)) as SQSBatchResponse | undefined;
      failed = new Set(this.trigger.reportBatchItemFailures ? (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : []);
    } catch (error) {
      console.error(`${this.fn.spec.name} failed a batch from ${this.queue.name}:`, error instanceof Error ? error.message : error);
      return;
    }
    const done = messages.filter((message) => message.MessageId && !failed.has(message.MessageId));
    if (done.length === 0) return;
    await this.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queue.url,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
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
