import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeDrainBatch } from '../../../functions/deletion-drain/drain-batch.ts';
import type { PendingDrain } from '../../../shared/directory/directory.ports.ts';

const drainRecord = (sequence: string, id: string, cursor?: string): DynamoDBRecord => ({
  eventName: cursor ? 'MODIFY' : 'INSERT',
  dynamodb: {
    SequenceNumber: sequence,
    Keys: { pk: { S: `GROUP#${id}` }, sk: { S: 'DRAIN' } },
    NewImage: {
      pk: { S: `GROUP#${id}` },
      sk: { S: 'DRAIN' },
      resourceType: { S: 'Group' },
      id: { S: id },
      updated: { S: '2026-11-29T10:00:00.000Z' },
      ...(cursor ? { cursor: { S: cursor } } : {}),
    },
  },
});

describe('the deletion drain batch', () => {
  it('runs each drain of the batch in order, with the cursor its image holds', async () => {
    // Prepare
    const runs: PendingDrain[] = [];
    const batch = makeDrainBatch({
      run: async (drain) => {
        runs.push(drain);
        return { removedMembers: 0, removedMemberships: 0, finished: true };
      },
    });
    // Act
    const result = await batch([drainRecord('1', 'g-1'), drainRecord('2', 'g-2', 'c-2')]);
    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(runs).toEqual([
      { resourceType: 'Group', id: 'g-1', updated: '2026-11-29T10:00:00.000Z' },
      { resourceType: 'Group', id: 'g-2', updated: '2026-11-29T10:00:00.000Z', cursor: 'c-2' },
    ]);
  });

  it('reports the first drain that failed, so the stream retries from it and not the ones before', async () => {
    // Prepare
    const runs: string[] = [];
    const batch = makeDrainBatch({
      run: async (drain) => {
        runs.push(drain.id);
        if (drain.id === 'g-2') throw new Error('throttled');
        return { removedMembers: 0, removedMemberships: 0, finished: true };
      },
    });
    // Act
    const result = await batch([drainRecord('1', 'g-1'), drainRecord('2', 'g-2'), drainRecord('3', 'g-3')]);
    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
    expect(runs).toEqual(['g-1', 'g-2']);
  });

  it('ignores a record that holds no drain', async () => {
    const batch = makeDrainBatch({ run: async () => expect.unreachable('no drain to run') });
    const other: DynamoDBRecord = { eventName: 'MODIFY', dynamodb: { SequenceNumber: '9', NewImage: { pk: { S: 'USER#u' }, sk: { S: 'USER' } } } };
    await expect(batch([other])).resolves.toEqual({ batchItemFailures: [] });
  });
});
