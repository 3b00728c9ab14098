import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import type { LocalHub } from '../../../infra/local/runner.ts';
import { DynamoAuditLog } from '../../../shared/store/audit.repository.ts';
import { DynamoBreakerStore } from '../../../shared/store/breaker.repository.ts';
import { createDocumentClient } from '../../../shared/store/dynamodb.client.ts';
import type { AuditEntry } from '../../../shared/sync/sync.ports.ts';
import { projectRoot, startTestHub } from '../../support/local-hub.ts';

const run = promisify(execFile);

/**
 * The operators' API through the local hub over HTTP: the API Gateway adapter with the operator
 * token in front of the admin-api handler, on DynamoDB Local and fauxqs.
 */
describe('admin API over HTTP', () => {
  let hub: LocalHub & { scim: string };
  let directory: string;
  let dynamodb: DynamoDBClient;
  let sqs: SQSClient;
  const tableName = () => hub.tableName;

  const admin = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${hub.url}/admin${path}`, { method, headers: { authorization: `Bearer ${hub.adminToken}`, ...headers } });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: responses are inspected freely.
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, body };
  };

  // Recent times: records expire by TTL (90 days here), and DynamoDB Local deletes expired items.
  const base = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
  const at = (day: number, minute: number) => new Date(base + day * 86_400_000 + minute * 60_000).toISOString();

  const entry = (overrides: Partial<AuditEntry>): AuditEntry => ({
    time: at(0, 0),
    connectorId: 'acme',
    resourceType: 'User',
    resourceId: 'u-1',
    name: 'ada',
    trigger: 'realtime',
    action: 'create',
    status: 'success',
    steps: ['scope: in', 'match: none', 'create'],
    ...overrides,
  });

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'admin-api-'));
    const connectorsFile = join(directory, 'connectors.json');
    // Two connectors with lanes; acme is disabled, so nothing drains its queue while we look.
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          { id: 'acme', type: 'scim', enabled: false, baseUrl: 'http://127.0.0.1:9/scim/v2', bearerToken: 'acme-token' },
          { id: 'okta-like', type: 'scim', enabled: false, baseUrl: 'http://127.0.0.1:9/scim/v2', bearerToken: 'other-token' },
        ],
      }),
    );
    hub = await startTestHub('admin', { connectorIds: ['acme', 'okta-like'], environment: { CONNECTORS_FILE: connectorsFile } });
    dynamodb = new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb });
    sqs = new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs });
    const audit = new DynamoAuditLog(createDocumentClient(dynamodb), tableName(), 90);
    // 12 records for acme, a minute apart, and 3 for the other connector.
    for (let i = 0; i < 12; i++) {
      const time = at(0, i);
      await audit.record(
        entry({
          time,
          resourceId: `u-${i}`,
          name: `user${i}`,
          status: i % 4 === 0 ? 'failed' : 'success',
          action: i % 3 === 0 ? 'update' : 'create',
          targetId: `t-${i}`,
          latencyMs: 100 + i,
        }),
      );
    }
    for (let i = 0; i < 3; i++) {
      await audit.record(entry({ connectorId: 'okta-like', time: at(1, i), resourceId: `o-${i}` }));
    }
    await new DynamoBreakerStore(createDocumentClient(dynamodb), tableName()).compareAndSet('acme', 0, {
      state: 'open',
      consecutiveFailures: 5,
      nextProbeAt: Date.now() + 60_000,
      intervalMs: 30_000,
      reason: 'connection refused',
      revision: 1,
    });
  }, 120_000);

  afterAll(async () => {
    sqs?.destroy();
    dynamodb?.destroy();
    await hub?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  describe('audit', () => {
    it('filters by connector, status, action and time range, newest first', async () => {
      // Act
      const failed = await admin('GET', '/audit?connector=acme&status=failed');
      const updates = await admin('GET', `/audit?connector=acme&action=update&from=${at(0, 2)}&to=${at(0, 9)}`);
      const all = await admin('GET', '/audit?limit=500');
      // Assess
      expect(failed.status).toBe(200);
      expect(failed.body.items.map((i: AuditEntry) => i.resourceId)).toEqual(['u-8', 'u-4', 'u-0']);
      expect(updates.body.items.map((i: AuditEntry) => i.resourceId)).toEqual(['u-9', 'u-6', 'u-3']);
      expect(all.body.items).toHaveLength(15);
      expect(all.body.items[0]).toMatchObject({ connectorId: 'okta-like', resourceId: 'o-2' });
      expect(all.body.nextCursor).toBeUndefined();
    });

    it('pages with nextCursor until the end, without repeats or gaps', async () => {
      // Act
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await admin('GET', `/audit?connector=acme&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((i: AuditEntry) => i.resourceId));
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      // Assess
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `u-${11 - i}`));
      expect(pages).toBeGreaterThanOrEqual(3);
    });

    it.each([
      ['an unknown status', '/audit?status=exploded'],
      ['a limit out of range', '/audit?limit=0'],
      ['a limit that is not a number', '/audit?limit=ten'],
      ['a time that is not ISO 8601', '/audit?from=yesterday'],
      ['a range that ends before it starts', '/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'],
      ['a cursor it did not issue', '/audit?cursor=bm90LWEtY3Vyc29y'],
      ['a cursor naming other attributes', `/audit?cursor=${Buffer.from(JSON.stringify({ userName: 'x' })).toString('base64url')}`],
      ['an unknown parameter', '/audit?connecter=acme'],
    ])('answers %s with 400 naming the problem', async (_why, path) => {
      const response = await admin('GET', path);
      expect(response.status).toBe(400);
      expect(typeof response.body.error).toBe('string');
      expect(response.body.error.length).toBeGreaterThan(0);
    });
  });

  describe('connectors', () => {
    it("shows each connector's breaker and DLQ depth", async () => {
      const response = await admin('GET', '/connectors');
      expect(response.status).toBe(200);
      expect(response.body.connectors).toEqual([
        { id: 'acme', breaker: expect.objectContaining({ state: 'open', consecutiveFailures: 5, reason: 'connection refused' }), deadLetters: 0 },
        { id: 'okta-like', breaker: expect.objectContaining({ state: 'closed', consecutiveFailures: 0 }), deadLetters: 0 },
      ]);
    });

    it('shows one connector, and answers 404 for a connector it does not know', async () => {
      expect(await admin('GET', '/connectors/acme')).toMatchObject({ status: 200, body: { id: 'acme', breaker: { state: 'open' } } });
      const unknown = await admin('GET', '/connectors/nobody');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toContain('nobody');
      expect((await admin('POST', '/connectors/nobody/redrive')).status).toBe(404);
      expect((await admin('GET', '/connectors/nobody/dead-letters')).status).toBe(404);
      expect((await admin('GET', '/nothing-here')).status).toBe(404);
    });

    it('lists dead letters without taking them, then redrives them all back to the lane', async () => {
      // Prepare: three dead letters of two resources
      const lane = hub.queues.find((q) => q.connectorId === 'acme');
      for (const [index, group] of ['u-1', 'u-1', 'u-2'].entries()) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: lane?.dlqUrl,
            MessageBody: JSON.stringify({ n: index }),
            MessageGroupId: group,
            MessageDeduplicationId: `dead-${index}`,
          }),
        );
      }
      // Act
      const listed = await admin('GET', '/connectors/acme/dead-letters');
      const listedAgain = await admin('GET', '/connectors/acme/dead-letters?limit=2');
      const health = await admin('GET', '/connectors/acme');
      const redriven = await admin('POST', '/connectors/acme/redrive');
      // Assess
      expect(listed.status).toBe(200);
      expect(listed.body.approximateCount).toBe(3);
      // At least the first message of each resource's FIFO group (fauxqs hands out one per group
      // while it is in flight; SQS may give more of a group at once).
      expect(new Set(listed.body.messages.map((m: { groupId: string }) => m.groupId))).toEqual(new Set(['u-1', 'u-2']));
      expect(listed.body.messages.length).toBeLessThanOrEqual(3);
      expect(listed.body.messages[0]).toMatchObject({ groupId: expect.any(String), body: { n: expect.any(Number) }, receiveCount: expect.any(Number) });
      expect(listedAgain.body.messages.length).toBeGreaterThan(0);
      expect(listedAgain.body.messages.length).toBeLessThanOrEqual(2);
      expect(health.body.deadLetters).toBe(3);
      expect(redriven).toEqual({ status: 200, body: { connector: 'acme', moved: 3, remaining: 0, stoppedBy: 'empty' } });
      const onLane = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: lane?.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      const total = Number(onLane.Attributes?.ApproximateNumberOfMessages) + Number(onLane.Attributes?.ApproximateNumberOfMessagesNotVisible);
      expect(total).toBe(3);
      expect((await admin('GET', '/connectors/acme')).body.deadLetters).toBe(0);
    });

    it('redrives at most limit messages and says how many remain', async () => {
      // Prepare
      const lane = hub.queues.find((q) => q.connectorId === 'okta-like');
      for (let i = 0; i < 4; i++) {
        await sqs.send(
          new SendMessageCommand({ QueueUrl: lane?.dlqUrl, MessageBody: `{"n":${i}}`, MessageGroupId: `g${i}`, MessageDeduplicationId: `limit-${i}` }),
        );
      }
      // Act
      const first = await admin('POST', '/connectors/okta-like/redrive?limit=3');
      const bad = await admin('POST', '/connectors/okta-like/redrive?limit=-1');
      // Assess
      expect(first.body).toMatchObject({ moved: 3, stoppedBy: 'max' });
      expect(first.body.remaining).toBe(1);
      expect(bad.status).toBe(400);
    });
  });

  describe('access', () => {
    it.each([
      ['no credentials', {}, 401],
      ['the SCIM token', { authorization: 'Bearer test-token-0123456789abcdef' }, 403],
      ['a wrong operator token', { authorization: 'Bearer admin_not-the-right-one-at-all' }, 403],
    ] as const)('refuses %s', async (_why, headers, status) => {
      for (const path of ['/audit', '/connectors', '/connectors/acme/redrive']) {
        const response = await fetch(`${hub.url}/admin${path}`, { method: path.endsWith('redrive') ? 'POST' : 'GET', headers });
        expect(response.status).toBe(status);
      }
    });

    it('refuses cross-site requests even with the operator token', async () => {
      const crossSite: Array<Record<string, string>> = [
        { origin: 'https://attacker.example' },
        { origin: 'null' },
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
      ];
      for (const headers of crossSite) {
        const response = await fetch(`${hub.url}/admin/connectors`, { headers: { authorization: `Bearer ${hub.adminToken}`, ...headers } });
        expect(response.status).toBe(403);
      }
      const same = await fetch(`${hub.url}/admin/connectors`, {
        headers: { authorization: `Bearer ${hub.adminToken}`, origin: hub.url, 'sec-fetch-site': 'same-origin' },
      });
      expect(same.status).toBe(200);
    });
  });

  describe('npm run ops against the local hub', () => {
    const ops = async (...args: string[]) => {
      writeFileSync(
        join(directory, 'local-endpoints.json'),
        JSON.stringify({ url: hub.url, adminToken: hub.adminToken, dynamodb: hub.endpoints.dynamodb, sqs: hub.endpoints.sqs, tableName: tableName() }),
        { mode: 0o600 },
      );
      return run(process.execPath, ['--import', 'tsx', 'infra/cli/operations.cli.ts', ...args], {
        cwd: projectRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: directory },
      });
    };

    it('prints the audit trail as a table by default and as JSON lines with --json', async () => {
      const table = await ops('audit', '--connector', 'acme', '--limit', '3');
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^TIME\s+CONNECTOR\s+ACTION\s+STATUS\s+USER\s+TARGET ID\s+LATENCY$/);
      expect(lines[1]).toMatch(new RegExp(`^${at(0, 11)}\\s+acme\\s+create\\s+success\\s+user11\\s+t-11\\s+111 ms$`));
      expect(lines).toHaveLength(4);
      expect(table.stderr).toContain('more: --cursor');
      const json = await ops('audit', '--connector', 'acme', '--status', 'failed', '--json');
      const entries = json.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as AuditEntry);
      expect(entries.map((e) => e.resourceId)).toEqual(['u-8', 'u-4', 'u-0']);
    }, 60_000);

    it('tells the operator what the admin API refused', async () => {
      await expect(ops('audit', '--status', 'exploded')).rejects.toMatchObject({ stderr: expect.stringContaining('400') });
    }, 60_000);
  });
});
