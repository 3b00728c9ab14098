import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../../infra/local/lambda-runtime.ts';
import { StreamPoller } from '../../../infra/local/stream-poller.ts';
import type { StreamTrigger } from '../../../shared/topology/topology.types.ts';

const trigger: StreamTrigger = {
  kind: 'stream',
  filters: [],
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  maxRetryAttempts: 0,
  bisectBatchOnError: false,
  reportBatchItemFailures: false,
  startingPosition: 'TRIM_HORIZON',
};

const noop: LocalFunction = {
  spec: { name: 'reader' } as LocalFunction['spec'],
  environment: {},
  invoke: async () => undefined,
};

/**
 * A stream of one shard, as DynamoDB Streams answers: it counts the requests the poller sends,
 * and closes the first shard (no next iterator) when told, with a child shard to follow.
 */
const fakeStream = () => {
  const calls: string[] = [];
  let closeFirst = false;
  const shards = [{ ShardId: 'shard-1', SequenceNumberRange: { StartingSequenceNumber: '1' } }];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push(name);
      if (name === 'DescribeStream') return { StreamDescription: { Shards: [...shards] } };
      if (name === 'GetShardIterator') return { ShardIterator: `${command.input.ShardId}:it` };
      const shard = String(command.input.ShardIterator).split(':')[0];
      if (shard === 'shard-1' && closeFirst) return { Records: [] };
      return { Records: [], NextShardIterator: `${shard}:it` };
    },
  };
  return {
    client: client as unknown as DynamoDBStreamsClient,
    calls,
    closeFirstShard: () => {
      closeFirst = true;
      shards.push({ ShardId: 'shard-2', ParentShardId: 'shard-1', SequenceNumberRange: { StartingSequenceNumber: '2' } } as (typeof shards)[number]);
    },
  };
};

const until = async (condition: () => boolean) => {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('the local stream poller', () => {
  it('reads the shard list once while its shards stay open, not on every poll', async () => {
    const stream = fakeStream();
    const poller = new StreamPoller(stream.client, 'arn:stream', trigger, noop, () => undefined, { startingPosition: 'TRIM_HORIZON', idleMs: 1 });
    poller.start();
    await until(() => stream.calls.filter((c) => c === 'GetRecords').length >= 50);
    await poller.stop();
    expect(stream.calls.filter((c) => c === 'DescribeStream')).toHaveLength(1);
  });

  it('looks for the next shard as soon as one closes, and reads it', async () => {
    const stream = fakeStream();
    const poller = new StreamPoller(stream.client, 'arn:stream', trigger, noop, () => undefined, { startingPosition: 'TRIM_HORIZON', idleMs: 1 });
    poller.start();
    await until(() => stream.calls.includes('GetRecords'));
    stream.closeFirstShard();
    await until(() => stream.calls.filter((c) => c === 'GetShardIterator').length === 2);
    await poller.stop();
    expect(stream.calls.filter((c) => c === 'DescribeStream')).toHaveLength(2);
  });
});
