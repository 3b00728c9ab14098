import { describe, expect, it } from 'vitest';
import { changeOfRecord } from '../../../shared/sync/change-message.ts';

describe('changeOfRecord', () => {
  it('announces a user change, ordered by user and deduplicated by version', () => {
    const queued = changeOfRecord({
      eventName: 'MODIFY',
      dynamodb: {
        Keys: { pk: { S: 'USER#u1' }, sk: { S: 'USER' } },
        NewImage: { version: { N: '4' }, lastModified: { S: '2026-01-01T00:00:00.000Z' } },
        SequenceNumber: '100',
      },
    });
    expect(queued).toEqual({
      change: { kind: 'user', id: 'u1', trigger: 'realtime', changedAt: Date.parse('2026-01-01T00:00:00.000Z') },
      groupId: 'u1',
      deduplicationId: 'USER:u1:4:MODIFY',
    });
  });

  it('announces a membership change in the order of its group', () => {
    const queued = changeOfRecord({
      eventName: 'REMOVE',
      dynamodb: { Keys: { pk: { S: 'GROUP#g1' }, sk: { S: 'MEMBER#u2' } }, OldImage: {}, SequenceNumber: '7', ApproximateCreationDateTime: 1_700_000_000 },
    });
    expect(queued).toEqual({
      change: { kind: 'membership', groupId: 'g1', memberId: 'u2', trigger: 'realtime', changedAt: 1_700_000_000_000 },
      groupId: 'g1',
      deduplicationId: 'M:7',
    });
  });

  it('announces an imported change with trigger import, and nothing of an import without provisioning', () => {
    const written = (provision: boolean, sk = 'USER', pk = 'USER#u1') =>
      changeOfRecord({
        eventName: 'INSERT',
        dynamodb: {
          Keys: { pk: { S: pk }, sk: { S: sk } },
          NewImage: { version: { N: '1' }, origin: { M: { trigger: { S: 'import' }, jobId: { S: 'imp_1' }, provision: { BOOL: provision } } } },
          SequenceNumber: '9',
        },
      });
    expect(written(true)?.change).toEqual({ kind: 'user', id: 'u1', trigger: 'import' });
    expect(written(true, 'MEMBER#u1', 'GROUP#g1')?.change).toEqual({ kind: 'membership', groupId: 'g1', memberId: 'u1', trigger: 'import' });
    expect(written(false)).toBeUndefined();
    expect(written(false, 'MEMBER#u1', 'GROUP#g1')).toBeUndefined();
  });

  it('announces nothing of a membership an import without provisioning marked and removed, and announces an unmarked removal', () => {
    const removal = { M: { trigger: { S: 'import' }, jobId: { S: 'imp_1' }, provision: { BOOL: false } } };
    const keys = { pk: { S: 'GROUP#g1' }, sk: { S: 'MEMBER#u1' } };
    const marked = changeOfRecord({
      eventName: 'MODIFY',
      dynamodb: { Keys: keys, NewImage: { value: { S: 'u1' }, removalOrigin: removal }, SequenceNumber: '10' },
    });
    const removed = changeOfRecord({
      eventName: 'REMOVE',
      dynamodb: { Keys: keys, OldImage: { value: { S: 'u1' }, removalOrigin: removal }, SequenceNumber: '11' },
    });
    // An item added by a silent import and removed by a SCIM client: the add's origin says nothing of the removal.
    const addedQuietly = { M: { trigger: { S: 'import' }, jobId: { S: 'imp_1' }, provision: { BOOL: false } } };
    const removedLoudly = changeOfRecord({
      eventName: 'REMOVE',
      dynamodb: { Keys: keys, OldImage: { value: { S: 'u1' }, origin: addedQuietly }, SequenceNumber: '12' },
    });
    expect(marked).toBeUndefined();
    expect(removed).toBeUndefined();
    expect(removedLoudly?.change).toEqual({ kind: 'membership', groupId: 'g1', memberId: 'u1', trigger: 'realtime' });
  });

  it('carries the operator of a change made in the console, so its audit records name them', () => {
    const written = (sk: string, pk: string) =>
      changeOfRecord({
        eventName: 'MODIFY',
        dynamodb: {
          Keys: { pk: { S: pk }, sk: { S: sk } },
          NewImage: { version: { N: '2' }, origin: { M: { trigger: { S: 'realtime' }, actor: { S: 'ops@example.com' }, provision: { BOOL: true } } } },
          SequenceNumber: '11',
        },
      });
    expect(written('USER', 'USER#u1')?.change).toEqual({ kind: 'user', id: 'u1', trigger: 'realtime', actor: 'ops@example.com' });
    expect(written('MEMBER#u1', 'GROUP#g1')?.change).toEqual({
      kind: 'membership',
      groupId: 'g1',
      memberId: 'u1',
      trigger: 'realtime',
      actor: 'ops@example.com',
    });
  });

  it.each([
    ['a link', 'LINK#acme#user#u1', 'LINK'],
    ['an audit record', 'AUDIT#acme', '2026-01-01T00:00:00Z#x'],
    ['a unique guard', 'UNIQUE#User#userName#ada', 'UNIQUE'],
    ['a token', 'TOKEN#abc', 'TOKEN'],
  ])('ignores %s', (_, pk, sk) => {
    expect(changeOfRecord({ eventName: 'INSERT', dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } } } })).toBeUndefined();
  });

  it.each(['REMOVE', 'UNKNOWN_TO_SDK_VERSION'])(
    'announces the end of an access grant (%s, as a TTL delete shows in DynamoDB Local) to its connector only',
    (eventName) => {
      const queued = changeOfRecord({ eventName, dynamodb: { Keys: { pk: { S: 'GRANT#acme#u1' }, sk: { S: 'GRANT' } }, OldImage: {}, SequenceNumber: '9' } });

      expect(queued).toEqual({ change: { kind: 'user', id: 'u1', trigger: 'on-demand' }, groupId: 'u1', deduplicationId: 'G:9', connectorId: 'acme' });
    },
  );

  it.each(['INSERT', 'MODIFY'])('ignores a grant written (%s): the on-demand provisioning that wrote it applied it', (eventName) => {
    expect(changeOfRecord({ eventName, dynamodb: { Keys: { pk: { S: 'GRANT#acme#u1' }, sk: { S: 'GRANT' } }, NewImage: {} } })).toBeUndefined();
  });
});
