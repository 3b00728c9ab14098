import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type _Record as StreamRecordOut,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamTrigger } from '#shared/topology/topology.types.ts';
import { matchesAnyPattern } from './event-filter.ts';
import type { LocalFunction } from './lambda-runtime.ts';

export interface StreamFailure {
  function: string;
  reason: string;
  records: DynamoDBRecord[];
}

/**
 * How often the shard list is read again while every known shard is open. DescribeStream on
 * every poll doubled the requests an idle hub sends DynamoDB Local (each subscribed function
 * polls on its own); a new shard only follows a closed one, which triggers a read at once.
 */
const SHARD_DISCOVERY_MS = 5_000;

interface ShardState {
  shard: Shard;
  iterator: string | undefined;
  done: boolean;
}

/**
 * Polls a DynamoDB stream and invokes a function with `DynamoDBStreamEvent` batches, as Lambda's
 * event source mapping does: filter criteria, batch size and window, in-order per shard,
 * retries, bisect on error, partial batch responses and an on-failure destination
 * (`onFailure`; in AWS an SQS queue).
 */
export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private running = false;
  private loop: Promise<void> | undefined;
  private lastError: unknown;
  private wake: (() => void) | undefined;
  private discoveredAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly client: DynamoDBStreamsClient,
    private readonly streamArn: string,
    private readonly trigger: StreamTrigger,
    private readonly fn: LocalFunction,
    private readonly onFailure: (failure: StreamFailure) => void,
    private readonly options: { startingPosition: 'TRIM_HORIZON' | 'LATEST'; idleMs?: number } = {
      startingPosition: trigger.startingPosition,
    },
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
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const idleMs = this.options.idleMs ?? 100;
    while (this.running) {
      try {
        if (this.shouldDiscover()) await this.discoverShards();
        let delivered = 0;
        for (const state of this.shards.values()) {
          if (!this.running) break;
          if (state.done || !this.parentDone(state)) continue;
          delivered += await this.pollShard(state);
        }
        this.lastError = undefined;
        if (delivered === 0) await this.sleep(idleMs);
      } catch (error) {
        if (!this.running) break;
        this.lastError = error;
        await this.sleep(1_000);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(done, ms);
      this.wake = () => {
        clearTimeout(timer);
        done();
      };
    });
  }

  private parentDone(state: ShardState): boolean {
    const parent = state.shard.ParentShardId ? this.shards.get(state.shard.ParentShardId) : undefined;
    return !parent || parent.done;
  }

  /** At start, when a shard has ended (its child may be new), and every SHARD_DISCOVERY_MS. */
  private shouldDiscover(): boolean {
    return Date.now() - this.discoveredAt >= SHARD_DISCOVERY_MS || [...this.shards.values()].every((state) => state.done);
  }

  private async discoverShards(): Promise<void> {
    this.discoveredAt = Date.now();
    let exclusiveStartShardId: string | undefined;
    const firstDiscovery = this.shards.size === 0;
    do {
      const page = await this.client.send(new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
      for (const shard of page.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
        // Shards that appear after start are read from their beginning; LATEST applies only to
        // the open shards found at start.
        const position = firstDiscovery ? this.options.startingPosition : 'TRIM_HORIZON';
        if (firstDiscovery && position === 'LATEST' && shard.SequenceNumberRange?.EndingSequenceNumber) {
          this.shards.set(shard.ShardId, { shard, iterator: undefined, done: true });
          continue;
        }
        const iterator = await this.client.send(
          new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shard.ShardId, ShardIteratorType: position }),
        );
        this.shards.set(shard.ShardId, { shard, iterator: iterator.ShardIterator, done: !iterator.ShardIterator });
      }
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
  }

  /** Reads what the shard has (up to one batch window) and delivers it in order. */
  private async pollShard(state: ShardState): Promise<number> {
    if (!state.iterator) {
      state.done = true;
      return 0;
    }
    let page: GetRecordsCommandOutput;
    try {
      page = await this.client.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
    } catch (error) {
      if (error instanceof ExpiredIteratorException) {
        state.iterator = undefined;
        state.done = true;
        this.discoveredAt = Number.NEGATIVE_INFINITY;
        return 0;
      }
      throw error;
    }
    const records = (page.Records ?? []).map((record) => toLambdaRecord(record, this.streamArn));
    const matching = records.filter((record) => matchesAnyPattern(record, this.trigger.filters));
    for (let start = 0; start < matching.length; start += this.trigger.batchSize) {
      await this.deliver(matching.slice(start, start + this.trigger.batchSize));
    }
    state.iterator = page.NextShardIterator;
    if (!state.iterator) {
      state.done = true;
      // The shard is closed: its child is open already, so look for it now, not at the next round.
      this.discoveredAt = Number.NEGATIVE_INFINITY;
    }
    return records.length;
  }

  /**
   * Delivers one batch until it succeeds or its retries are spent. With partial batch responses
   * a reported failure retries from that record on; with bisect a failing batch is split in two
   * and each half retried on its own, as Lambda does.
   */
  private async deliver(batch: DynamoDBRecord[], attempt = 0): Promise<void> {
    if (batch.length === 0 || !this.running) return;
    let failedFrom: number | undefined;
    let reason = '';
    try {
      const response = (await this.fn.invoke({ Records: batch } satisfies DynamoDBStreamEvent)) as DynamoDBBatchResponse | undefined;
      const failures = this.trigger.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
      if (failures.length > 0) {
        const sequenceNumbers = failures.map((failure) => failure.itemIdentifier);
        const index = batch.findIndex((record) => sequenceNumbers.includes(record.dynamodb?.SequenceNumber ?? ''));
        // An identifier that names no record of the batch fails the whole batch (Lambda does so).
        failedFrom = index === -1 ? 0 : index;
        reason = 'batch item failure reported';
      }
    } catch (error) {
      failedFrom = 0;
      reason = error instanceof Error ? error.message : String(error);
    }
    if (failedFrom === undefined) return;
    const remaining = batch.slice(failedFrom);
    if (attempt >= this.trigger.maxRetryAttempts) {
      this.onFailure({ function: this.fn.spec.name, reason, records: remaining });
      return;
    }
    await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** attempt)));
    if (this.trigger.bisectBatchOnError && remaining.length > 1) {
      const middle = Math.ceil(remaining.length / 2);
      await this.deliver(remaining.slice(0, middle), attempt + 1);
      await this.deliver(remaining.slice(middle), attempt + 1);
      return;
    }
    await this.deliver(remaining, attempt + 1);
  }
}

type LambdaImage = NonNullable<DynamoDBRecord['dynamodb']>['Keys'];

/** The SDK's stream record as the Lambda event carries it. */
const toLambdaRecord = (record: StreamRecordOut, streamArn: string): DynamoDBRecord => {
  const data = record.dynamodb ?? {};
  // DynamoDB Local reports TTL deletions with an event name the SDK does not know; they are removals.
  const eventName = record.eventName === 'INSERT' || record.eventName === 'MODIFY' ? record.eventName : 'REMOVE';
  const created = data.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? 'us-east-1',
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    dynamodb: {
      // Lambda delivers epoch seconds; the SDK parses them into a Date.
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : undefined,
      // The SDK's AttributeValue union and aws-lambda's are the same wire shape.
      Keys: data.Keys as LambdaImage,
      NewImage: data.NewImage as LambdaImage,
      OldImage: data.OldImage as LambdaImage,
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    },
  };
};
