import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeFanout, type OutgoingMessage } from '../../../functions/fanout/fanout.ts';
import { ConnectorsDocumentSchema } from '../../../shared/connectors/connectors.schema.ts';

const CONNECTORS = ConnectorsDocumentSchema.parse({
  connectors: [
    { id: 'acme', type: 'scim', enabled: true, baseUrl: 'https://acme.example/scim/v2', bearerToken: 'acme-token-0123456789' },
    { id: 'paused', type: 'scim', enabled: false, baseUrl: 'https://paused.example/scim/v2', bearerToken: 'paused-token-0123456789' },
    { id: 'unlaned', type: 'scim', enabled: true, baseUrl: 'https://unlaned.example/scim/v2', bearerToken: 'unlaned-token-01234567' },
  ],
});
/** The stack made lanes for acme and paused; unlaned has none (added to the document after the deploy). */
const QUEUES = { acme: 'https://sqs/acme.fifo', paused: 'https://sqs/paused.fifo' };

const record = (sequence: string, pk: string, sk: string, image: Record<string, { S?: string; N?: string }> = {}): DynamoDBRecord => ({
  eventName: 'MODIFY',
  dynamodb: { SequenceNumber: sequence, Keys: { pk: { S: pk }, sk: { S: sk } }, NewImage: { pk: { S: pk }, sk: { S: sk }, ...image } },
});

const fanoutSending = (failing: (message: OutgoingMessage) => boolean = () => false, options: { groups?: string[]; connectors?: typeof CONNECTORS } = {}) => {
  const sent: OutgoingMessage[] = [];
  const reads: string[][] = [];
  const fanout = makeFanout({
    connectors: async () => options.connectors ?? CONNECTORS,
    existingGroups: async (ids) => {
      reads.push(ids);
      return new Set(ids.filter((id) => (options.groups ?? ['g-1']).includes(id)));
    },
    queueUrls: QUEUES,
    send: async (messages) => {
      sent.push(...messages);
      return new Set(messages.flatMap((message, index) => (failing(message) ? [index] : [])));
    },
  });
  return { fanout, sent, reads };
};

describe('fanout', () => {
  it('sends each user, group and membership change to every connector that has a lane, disabled ones included', async () => {
    // Prepare
    const { fanout, sent } = fanoutSending();
    const records = [
      record('100', 'USER#u-1', 'USER', { version: { N: '3' }, lastModified: { S: '2026-11-29T10:00:00.000Z' } }),
      record('101', 'GROUP#g-1', 'MEMBER#u-1'),
      record('102', 'LINK#acme#user#u-1', 'LINK'),
    ];
    // Act
    const result = await fanout(records);
    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent.map((m) => ({ ...m, body: JSON.parse(m.body) }))).toEqual([
      {
        queueUrl: QUEUES.acme,
        groupId: 'u-1',
        deduplicationId: 'USER:u-1:3:MODIFY',
        body: { kind: 'user', id: 'u-1', trigger: 'realtime', changedAt: Date.parse('2026-11-29T10:00:00.000Z'), connectorId: 'acme' },
      },
      {
        queueUrl: QUEUES.paused,
        groupId: 'u-1',
        deduplicationId: 'USER:u-1:3:MODIFY',
        body: { kind: 'user', id: 'u-1', trigger: 'realtime', changedAt: Date.parse('2026-11-29T10:00:00.000Z'), connectorId: 'paused' },
      },
      {
        queueUrl: QUEUES.acme,
        groupId: 'g-1',
        deduplicationId: 'M:101',
        body: { kind: 'membership', groupId: 'g-1', memberId: 'u-1', trigger: 'realtime', connectorId: 'acme' },
      },
      {
        queueUrl: QUEUES.paused,
        groupId: 'g-1',
        deduplicationId: 'M:101',
        body: { kind: 'membership', groupId: 'g-1', memberId: 'u-1', trigger: 'realtime', connectorId: 'paused' },
      },
    ]);
  });

  it('sends nothing to an inbound source: it is read into the hub, never written', async () => {
    // Prepare: acme is a source the hub reads on its schedule
    const inbound = ConnectorsDocumentSchema.parse({
      connectors: CONNECTORS.connectors.map((c) => (c.id === 'acme' ? { ...c, direction: 'inbound', reconcile: { schedule: 'rate(1 hour)' } } : c)),
    });
    const { fanout, sent } = fanoutSending(undefined, { connectors: inbound });
    // Act
    const result = await fanout([record('100', 'USER#u-1', 'USER', { version: { N: '3' }, lastModified: { S: '2026-11-29T10:00:00.000Z' } })]);
    // Assess: only the outbound connector with a lane gets the change
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent.map((m) => m.queueUrl)).toEqual([QUEUES.paused]);
  });

  it('reports the first record whose message was refused, so the stream retries from it', async () => {
    // Prepare: the membership's message to acme is refused
    const { fanout } = fanoutSending((message) => message.queueUrl === QUEUES.acme && message.groupId === 'g-1');
    const records = [record('200', 'USER#u-2', 'USER'), record('201', 'GROUP#g-1', 'MEMBER#u-2'), record('202', 'USER#u-3', 'USER')];
    // Act
    const result = await fanout(records);
    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '201' }] });
  });

  it('sends nothing for a batch of items that are not users, groups or memberships', async () => {
    const { fanout, sent } = fanoutSending();
    await expect(fanout([record('300', 'AUDIT#acme#2026-11-29T10#1', '2026-11-29T10:00:00.000Z#a')])).resolves.toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([]);
  });

  it('drops the membership removals of a deleted group, except for a connector that scopes by it', async () => {
    // Prepare: g-gone was deleted, its drain removes its members; g-1 still exists
    const scoped = ConnectorsDocumentSchema.parse({
      connectors: [
        { id: 'acme', type: 'scim', enabled: true, baseUrl: 'https://acme.example/scim/v2', bearerToken: 'acme-token-0123456789' },
        {
          id: 'paused',
          type: 'scim',
          enabled: true,
          baseUrl: 'https://paused.example/scim/v2',
          bearerToken: 'paused-token-0123456789',
          scope: { groups: ['g-gone'] },
        },
      ],
    });
    const { fanout, sent, reads } = fanoutSending(undefined, { groups: ['g-1'], connectors: scoped });
    const removed = (sequence: string, pk: string, sk: string): DynamoDBRecord => ({
      eventName: 'REMOVE',
      dynamodb: { SequenceNumber: sequence, Keys: { pk: { S: pk }, sk: { S: sk } } },
    });
    const records = [
      removed('400', 'GROUP#g-gone', 'MEMBER#u-1'),
      removed('401', 'GROUP#g-gone', 'MEMBER#u-2'),
      removed('402', 'GROUP#g-1', 'MEMBER#u-1'),
      record('403', 'GROUP#g-gone', 'MEMBER#u-3'),
    ];
    // Act
    await fanout(records);
    // Assess: one read for the batch; g-1's removal, and any change that is not a removal, go to everyone
    expect(reads).toEqual([['g-gone', 'g-1']]);
    const delivered = sent.map((m) => `${m.queueUrl === QUEUES.acme ? 'acme' : 'paused'}:${m.deduplicationId}`);
    // paused hears of every g-gone change (it scopes by it), joined in one message: nothing of g-gone came between them.
    expect(delivered.sort()).toEqual(['acme:M:402', 'acme:M:403', 'paused:M:400+3', 'paused:M:402'].sort());
    const joined = sent.find((m) => m.deduplicationId === 'M:400+3');
    expect(JSON.parse(joined?.body ?? '{}')).toMatchObject({ kind: 'membership', groupId: 'g-gone', memberId: 'u-1', memberIds: ['u-1', 'u-2', 'u-3'] });
  });

  it('keeps one member per message for a target that takes one member per call (Okta, Cognito)', async () => {
    const { fanout, sent } = fanoutSending(undefined, {
      connectors: ConnectorsDocumentSchema.parse({
        connectors: [CONNECTORS.connectors[0], { id: 'paused', type: 'okta', enabled: true, orgUrl: 'https://acme.okta.com', apiToken: 'token' }],
      }),
    });
    await fanout([record('1', 'GROUP#g-1', 'MEMBER#u-1'), record('2', 'GROUP#g-1', 'MEMBER#u-2'), record('3', 'GROUP#g-1', 'MEMBER#u-3')]);
    const okta = sent
      .filter((m) => m.queueUrl === QUEUES.paused)
      .map((m) => (JSON.parse(m.body) as { memberId: string; memberIds?: string[] }).memberIds ?? []);
    expect(okta).toEqual([[], [], []]);
    expect(sent.filter((m) => m.queueUrl === QUEUES.acme).map((m) => (JSON.parse(m.body) as { memberIds?: string[] }).memberIds)).toEqual([
      ['u-1', 'u-2', 'u-3'],
    ]);
  });

  it("joins a group's consecutive membership changes, 100 to a message, and never across another change of that group", async () => {
    // Prepare: 250 members join g-1 in one stream batch, a rename of g-1 comes after the first 150, and g-2's members interleave.
    const { fanout, sent } = fanoutSending(undefined, {
      connectors: ConnectorsDocumentSchema.parse({ connectors: [CONNECTORS.connectors[0]] }),
    });
    const records: DynamoDBRecord[] = [];
    for (let i = 0; i < 250; i++) {
      records.push(record(String(1000 + i * 2), 'GROUP#g-1', `MEMBER#u-${i}`));
      if (i < 3) records.push(record(String(1001 + i * 2), 'GROUP#g-2', `MEMBER#u-${i}`));
      if (i === 149) records.push(record('1299', 'GROUP#g-1', 'GROUP', { version: { N: '2' } }));
    }
    // Act
    await fanout(records);
    // Assess
    const bodies = sent.map((m) => JSON.parse(m.body) as { kind: string; groupId?: string; id?: string; memberIds?: string[] });
    const shape = bodies.map((b) => (b.kind === 'membership' ? `${b.groupId}:${b.memberIds?.length ?? 1}` : `${b.kind}:${b.id}`));
    expect(shape).toEqual(['g-1:100', 'g-2:3', 'g-1:50', 'group:g-1', 'g-1:100']);
    const g1 = bodies.filter((b) => b.groupId === 'g-1').flatMap((b) => b.memberIds ?? []);
    expect(g1).toEqual(Array.from({ length: 250 }, (_, i) => `u-${i}`));
    expect(new Set(sent.map((m) => m.deduplicationId)).size).toBe(sent.length);
  });

  it('reads nothing when no membership was removed', async () => {
    const { fanout, reads } = fanoutSending();
    await fanout([record('500', 'GROUP#g-1', 'MEMBER#u-1'), record('501', 'USER#u-1', 'USER')]);
    expect(reads).toEqual([]);
  });

  it("sends the end of an access grant to the grant's connector only", async () => {
    // Prepare
    const { fanout, sent } = fanoutSending();
    // Act
    await fanout([{ eventName: 'REMOVE', dynamodb: { SequenceNumber: '300', Keys: { pk: { S: 'GRANT#paused#u-9' }, sk: { S: 'GRANT' } }, OldImage: {} } }]);
    // Assess
    expect(sent.map((m) => [m.queueUrl, JSON.parse(m.body)])).toEqual([
      [QUEUES.paused, { kind: 'user', id: 'u-9', trigger: 'on-demand', connectorId: 'paused' }],
    ]);
  });
});
