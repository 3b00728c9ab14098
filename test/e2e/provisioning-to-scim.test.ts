import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import { redriveDeadLetters } from '../../shared/queues/dlq-redrive.ts';
import { DynamoAuditLog } from '../../shared/store/audit.repository.ts';
import { createDocumentClient } from '../../shared/store/dynamodb.client.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { eventually } from '../support/eventually.ts';
import { startHubProcess } from '../support/hub-process.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';
import { type RecordedRequest, startRecordingProxy } from '../support/recording-proxy.ts';

/**
 * Real-time provisioning end to end: a SCIM write on the hub goes through the table's stream,
 * the fanout, the connector's FIFO queue and the worker into a second instance of our own SCIM
 * server, with a recording proxy between them to see (and disturb) the wire.
 */
const TARGET_TOKEN = 'target-token-0123456789';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const user = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  name: { givenName: 'Given', familyName: 'Family' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
  ...extra,
});

describe('real-time provisioning into a SCIM server', () => {
  let target: Awaited<ReturnType<typeof startHubProcess>>;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let audit: DynamoAuditLog;
  const hubApi = () => scimClient(hub.scim);
  const targetApi = () => scimClient(target.scim, TARGET_TOKEN);

  const targetUser = async (userName: string) => {
    const found = await targetApi().get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    return found.json.Resources[0] as Record<string, unknown> | undefined;
  };
  const callsFor = (predicate: (r: RecordedRequest) => boolean) => proxy.requests.filter(predicate);

  beforeAll(async () => {
    target = await startHubProcess(TARGET_TOKEN);
    proxy = await startRecordingProxy(target.url);
    const connectorsFile = join(tmpdir(), `connectors-${Date.now()}.json`);
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          {
            id: 'acme',
            type: 'scim',
            enabled: true,
            baseUrl: `${proxy.url}/scim/v2`,
            bearerToken: TARGET_TOKEN,
            deprovision: 'disable',
            retry: { maxAttempts: 4 },
            breaker: { failureThreshold: 3, probeIntervalSeconds: 1 },
          },
        ],
      }),
    );
    hub = await startTestHub('provisioning', { connectorIds: ['acme'], environment: { CONNECTORS_FILE: connectorsFile } });
    audit = new DynamoAuditLog(createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb })), hub.tableName, 90);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await proxy?.close();
    await target?.stop();
  });

  it('creates a user on the target, linked by externalId to the hub id', async () => {
    const created = await hubApi().post('/Users', user('ada@example.com'));
    expect(created.status).toBe(201);
    const onTarget = await eventually(async () => {
      const found = await targetUser('ada@example.com');
      if (!found) throw new Error('not provisioned yet');
      return found;
    });
    expect(onTarget).toMatchObject({ externalId: created.json.id, active: true, name: { givenName: 'Given', familyName: 'Family' } });
    const records = await eventually(async () => {
      const page = await audit.query({ connectorId: 'acme', resourceId: created.json.id, limit: 10 });
      if (!page.items.some((r) => r.action === 'create')) throw new Error('no audit yet');
      return page.items;
    });
    expect(records.find((r) => r.action === 'create')).toMatchObject({ status: 'success', trigger: 'realtime', resourceType: 'User', name: 'ada@example.com' });
  });

  it('sends only the changed attribute on an update', async () => {
    const created = await hubApi().post('/Users', user('grace@example.com'));
    await eventually(async () => {
      if (!(await targetUser('grace@example.com'))) throw new Error('not provisioned yet');
    });
    const before = proxy.requests.length;
    await hubApi().patch(`/Users/${created.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'name.givenName', value: 'Grace' }],
    });
    const patch = await eventually(() => {
      const found = proxy.requests.slice(before).find((r) => r.method === 'PATCH' && r.path.startsWith('/scim/v2/Users/'));
      if (!found) throw new Error('no PATCH yet');
      return found;
    });
    expect(patch.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'name.givenName', value: 'Grace' }],
    });
    // The proxy records a request as it arrives, before the target has answered it.
    await eventually(async () => expect((await targetUser('grace@example.com'))?.name).toEqual({ givenName: 'Grace', familyName: 'Family' }));
  });

  it("sends the manager as the target's id of the manager, never the hub's", async () => {
    const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const boss = await hubApi().post('/Users', user('boss@example.com'));
    const bossOnTarget = await eventually(async () => {
      const found = await targetUser('boss@example.com');
      if (!found) throw new Error('not provisioned yet');
      return found;
    });
    await hubApi().post('/Users', user('report@example.com', { schemas: [USER_SCHEMA, enterprise], [enterprise]: { manager: { value: boss.json.id } } }));
    const report = await eventually(async () => {
      const found = await targetUser('report@example.com');
      if (!found) throw new Error('not provisioned yet');
      return found;
    });
    expect(bossOnTarget.id).not.toBe(boss.json.id);
    expect((report[enterprise] as { manager?: { value?: string } } | undefined)?.manager?.value).toBe(bossOnTarget.id);
  });

  it('disables the target account when the hub user is deactivated, and when it is deleted (policy: disable)', async () => {
    const one = await hubApi().post('/Users', user('deact@example.com'));
    const two = await hubApi().post('/Users', user('gone@example.com'));
    await eventually(async () => {
      if (!(await targetUser('deact@example.com')) || !(await targetUser('gone@example.com'))) throw new Error('not provisioned yet');
    });
    await hubApi().patch(`/Users/${one.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    await hubApi().delete(`/Users/${two.json.id}`);
    await eventually(async () => {
      expect((await targetUser('deact@example.com'))?.active).toBe(false);
      expect((await targetUser('gone@example.com'))?.active).toBe(false);
    });
  });

  it('creates groups and sends membership changes as minimal add and remove operations', async () => {
    const a = await hubApi().post('/Users', user('member-a@example.com'));
    const b = await hubApi().post('/Users', user('member-b@example.com'));
    const group = await hubApi().post('/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineering',
      members: [{ value: a.json.id }],
    });
    expect(group.status).toBe(201);
    const targetGroup = await eventually(async () => {
      const found = await targetApi().get(`/Groups?filter=${encodeURIComponent('displayName eq "Engineering"')}`);
      const resource = found.json.Resources[0];
      if (!resource?.members?.length) throw new Error('no members yet');
      return resource;
    });
    const targetA = await targetUser('member-a@example.com');
    expect(targetGroup.members.map((m: { value: string }) => m.value)).toEqual([targetA?.id]);

    const before = proxy.requests.length;
    await hubApi().patch(`/Groups/${group.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: b.json.id }] },
        { op: 'remove', path: `members[value eq "${a.json.id}"]` },
      ],
    });
    await eventually(async () => {
      const found = await targetApi().get(`/Groups/${targetGroup.id}`);
      const targetB = await targetUser('member-b@example.com');
      expect(found.json.members?.map((m: { value: string }) => m.value)).toEqual([targetB?.id]);
    });
    const targetB = await targetUser('member-b@example.com');
    const sent = proxy.requests.slice(before);
    const memberPatches = sent.filter((r) => r.method === 'PATCH' && r.path === `/scim/v2/Groups/${targetGroup.id}`);
    const operations = memberPatches.flatMap((r) => (r.body as { Operations: Array<{ op: string; path: string }> }).Operations);
    // The two membership rows reach the worker as two stream records, in one PATCH or two and in
    // either order; what goes over the wire is exactly one add of B and one remove of A.
    expect([...operations].sort((x, y) => x.op.localeCompare(y.op))).toEqual([
      { op: 'add', path: 'members', value: [{ value: targetB?.id }] },
      { op: 'remove', path: `members[value eq "${targetA?.id}"]` },
    ]);
    expect(sent.filter((r) => r.method === 'PUT' && r.path.startsWith('/scim/v2/Groups'))).toEqual([]);
  });

  it('keeps every change while the target is down and applies it once the target is back', async () => {
    proxy.setBehaviour(({ path }) => (path.startsWith('/scim/v2/') ? { status: 503, body: { detail: 'maintenance' } } : 'forward'));
    const created = await hubApi().post('/Users', user('patient@example.com'));
    await eventually(async () => {
      const page = await audit.query({ connectorId: 'acme', resourceId: created.json.id, status: 'retrying', limit: 5 });
      if (page.items.length === 0) throw new Error('no retry recorded yet');
    });
    proxy.setBehaviour(() => 'forward');
    const onTarget = await eventually(async () => {
      const found = await targetUser('patient@example.com');
      if (!found) throw new Error('not provisioned yet');
      return found;
    }, 30_000);
    expect(onTarget.externalId).toBe(created.json.id);
  });

  it("honours a 429's Retry-After before trying again", async () => {
    let refused = false;
    proxy.setBehaviour(({ method, path }) => {
      if (!refused && method === 'POST' && path === '/scim/v2/Users') {
        refused = true;
        return { status: 429, headers: { 'retry-after': '2' }, body: { detail: 'slow down' } };
      }
      return 'forward';
    });
    await hubApi().post('/Users', user('throttled@example.com'));
    await eventually(async () => {
      if (!(await targetUser('throttled@example.com'))) throw new Error('not provisioned yet');
    }, 30_000);
    const posts = callsFor((r) => r.method === 'POST' && r.path === '/scim/v2/Users' && (r.body as { userName?: string }).userName === 'throttled@example.com');
    expect(posts).toHaveLength(2);
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_900);
    proxy.setBehaviour(() => 'forward');
  });

  it('moves a poison message to the DLQ, and the redrive replays it', async () => {
    proxy.setBehaviour(({ method, body }) =>
      method === 'POST' && (body as { userName?: string })?.userName === 'poison@example.com'
        ? { status: 400, body: { detail: 'refused by policy' } }
        : 'forward',
    );
    const created = await hubApi().post('/Users', user('poison@example.com'));
    await eventually(async () => {
      const page = await audit.query({ connectorId: 'acme', resourceId: created.json.id, status: 'dead-lettered', limit: 5 });
      if (page.items.length === 0) throw new Error('not dead-lettered yet');
      expect(page.items[0]?.error?.message).toContain('refused by policy');
    });
    proxy.setBehaviour(() => 'forward');
    const lane = hub.queues.find((q) => q.connectorId === 'acme');
    const sqs = new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs });
    expect(await redriveDeadLetters(sqs, lane?.dlqUrl ?? '', lane?.url ?? '')).toBe(1);
    await eventually(async () => {
      if (!(await targetUser('poison@example.com'))) throw new Error('not replayed yet');
    });
    sqs.destroy();
  });

  it('makes one call to the target for a change delivered twice: one PATCH, then a skip', async () => {
    // Prepare: a provisioned user
    const created = await hubApi().post('/Users', user('once@example.com'));
    const onTarget = await eventually(async () => {
      const found = await targetUser('once@example.com');
      if (!found) throw new Error('not provisioned yet');
      return found;
    });
    const before = proxy.requests.length;
    // Act: a real change, which the stream delivers once, and the same change delivered a second time
    const changed = await hubApi().patch(`/Users/${created.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Twice Told' }],
    });
    expect(changed.status).toBe(200);
    const lane = hub.queues.find((q) => q.connectorId === 'acme');
    const sqs = new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs });
    const body = JSON.stringify({ kind: 'user', connectorId: 'acme', id: created.json.id, trigger: 'realtime' });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: lane?.url, MessageBody: body, MessageGroupId: created.json.id, MessageDeduplicationId: `again-${created.json.id}` }),
    );
    sqs.destroy();
    // Assess: both deliveries were handled, the first with the update and the second with nothing to do
    const handled = await eventually(async () => {
      const page = await audit.query({ connectorId: 'acme', resourceId: created.json.id, limit: 20 });
      const afterCreate = page.items.filter((r) => r.action !== 'create');
      if (afterCreate.length < 2) throw new Error('not processed twice yet');
      return afterCreate;
    });
    expect(handled.map((r) => ({ action: r.action, status: r.status, reason: r.reason })).sort((x, y) => x.status.localeCompare(y.status))).toEqual([
      { action: 'update', status: 'skipped', reason: 'no changes' },
      { action: 'update', status: 'success', reason: undefined },
    ]);
    const userCalls = proxy.requests.slice(before).filter((r) => r.path.startsWith('/scim/v2/Users/'));
    expect(userCalls.map((r) => ({ method: r.method, path: r.path, body: r.body }))).toEqual([
      {
        method: 'PATCH',
        path: `/scim/v2/Users/${onTarget.id}`,
        body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Twice Told' }] },
      },
    ]);
  });
});
