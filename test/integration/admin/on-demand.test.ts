import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import type { LocalHub } from '../../../infra/local/runner.ts';
import { DynamoAuditLog } from '../../../shared/store/audit.repository.ts';
import { createDocumentClient } from '../../../shared/store/dynamodb.client.ts';
import { DynamoGrantStore } from '../../../shared/store/grant.repository.ts';
import type { OnDemandResult } from '../../../shared/sync/on-demand.service.ts';
import { eventually } from '../../support/eventually.ts';
import { projectRoot, scimClient, startTestHub } from '../../support/local-hub.ts';
import { type StrictScimTarget, startStrictScimTarget } from '../../support/strict-scim-target.ts';

const run = promisify(execFile);
const TARGET_TOKEN = 'on-demand-target-token';

/**
 * On-demand provisioning through the local hub: the admin API, the provision-on-demand function
 * invoked as Lambda's Invoke API, and `npm run ops -- provision`, into a SCIM target in this
 * process; temporary access until its end, which the grant-expiry function and the stream turn
 * into a deprovision. The connector's scope admits engineers only, so real time leaves the other
 * users alone and only on-demand provisioning (with a grant) brings them to the target.
 */
describe('on-demand provisioning', () => {
  let hub: LocalHub & { scim: string };
  let target: StrictScimTarget;
  let directory: string;
  let grants: DynamoGrantStore;
  let audit: DynamoAuditLog;

  /** The target's whole state, as bytes: a dry run must leave it exactly so. */
  const targetState = () => JSON.stringify({ users: target.users(), groups: target.groups() });
  const writesToTarget = () => target.calls().filter((c) => c.method !== 'GET');
  const targetUser = (userName: string) => target.users().find((u) => u.userName === userName);

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${hub.url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${hub.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: responses are inspected freely.
    return { status: response.status, body: (await response.json()) as any };
  };

  const ops = (...args: string[]) => {
    writeFileSync(
      join(directory, 'local-endpoints.json'),
      JSON.stringify({ url: hub.url, adminToken: hub.adminToken, dynamodb: hub.endpoints.dynamodb, sqs: hub.endpoints.sqs, tableName: hub.tableName }),
      { mode: 0o600 },
    );
    return run(process.execPath, ['--import', 'tsx', 'infra/cli/operations.cli.ts', ...args], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: directory },
    });
  };

  /**
   * A hub user outside the connector's scope (not an engineer), once real time has passed it by
   * (so no real-time sync of its creation races the test's on-demand one); returns its id.
   */
  const salesUser = async (userName: string, extra: Record<string, unknown> = {}) => {
    const created = await scimClient(hub.scim).post('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName,
      title: 'Sales',
      active: true,
      name: { givenName: 'Given', familyName: userName },
      ...extra,
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await eventually(async () =>
      expect((await audit.query({ resourceId: id, limit: 10 })).items).toContainEqual(expect.objectContaining({ trigger: 'realtime', action: 'none' })),
    );
    return id;
  };

  beforeAll(async () => {
    target = await startStrictScimTarget({ token: TARGET_TOKEN });
    directory = mkdtempSync(join(tmpdir(), 'hub-on-demand-'));
    const connectorsFile = join(directory, 'connectors.json');
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          {
            id: 'acme',
            type: 'scim',
            enabled: true,
            baseUrl: target.url,
            bearerToken: TARGET_TOKEN,
            deprovision: 'disable',
            scope: { filter: 'title eq "Engineer"' },
          },
          { id: 'paused', type: 'scim', enabled: false, baseUrl: target.url, bearerToken: TARGET_TOKEN },
        ],
      }),
    );
    hub = await startTestHub('on-demand', { connectorIds: ['acme', 'paused'], environment: { CONNECTORS_FILE: connectorsFile } });
    const documents = createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb }));
    grants = new DynamoGrantStore(documents, hub.tableName);
    audit = new DynamoAuditLog(documents, hub.tableName, 90);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await target?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('a dry run plans the create, with the steps and each new value, and leaves the target and the table as they were', async () => {
    // Prepare
    const id = await salesUser('dry@example.com');
    const before = targetState();
    const writes = writesToTarget().length;
    // Act
    const response = await admin('POST', '/connectors/acme/provision', { user: 'dry@example.com', dryRun: true, until: '2h' });
    // Assess
    expect(response.status).toBe(200);
    const result = response.body as OnDemandResult;
    expect(result).toMatchObject({
      dryRun: true,
      situation: 'unmatched',
      resource: { type: 'User', id },
      outcome: { action: 'create', status: 'success' },
      settle: 'none',
    });
    expect(result.steps[0]).toMatch(/^scope: in scope by temporary access until /);
    expect(result.steps).toContain('action: create');
    expect(result.calls).toEqual([expect.objectContaining({ operation: 'createUser' })]);
    expect(result.changes).toContainEqual({ attribute: 'userName', new: 'dry@example.com' });
    expect(targetState()).toBe(before);
    expect(writesToTarget()).toHaveLength(writes);
    expect(await grants.get('acme', id)).toBeUndefined();
    // Real time skipped the user (out of scope) and said so; the dry run recorded nothing.
    expect((await audit.query({ resourceId: id, limit: 10 })).items.filter((r) => r.trigger === 'on-demand')).toEqual([]);
  });

  it('leaves a user outside the scope alone without temporary access, and says why', async () => {
    await salesUser('outside@example.com');

    const response = await admin('POST', '/connectors/acme/provision', { user: 'outside@example.com' });

    expect(response.body).toMatchObject({
      situation: 'not-provisioned',
      outcome: { action: 'none', status: 'skipped', reason: expect.stringContaining('scope filter') },
    });
    expect(targetUser('outside@example.com')).toBeUndefined();
  });

  it('grants temporary access: provisions now, lists the grant, and deprovisions when the grant ends', async () => {
    // Prepare
    const id = await salesUser('temp@example.com', { externalId: 'idp-temp' });
    // Act: by externalId, for two hours.
    const response = await admin('POST', '/connectors/acme/provision', { user: 'idp-temp', until: '2h' });
    // Assess: created at once, with an on-demand audit record and the grant listed.
    expect(response.body).toMatchObject({ dryRun: false, outcome: { action: 'create', status: 'success' }, grant: { userId: id }, settle: 'queued' });
    expect(targetUser('temp@example.com')).toMatchObject({ active: true, externalId: id });
    const listed = await admin('GET', '/grants?connector=acme');
    expect(listed.body.grants).toEqual([expect.objectContaining({ userId: id, userName: 'temp@example.com', expiresAt: response.body.grant.expiresAt })]);
    const records = await eventually(async () => {
      const found = (await audit.query({ resourceId: id, limit: 10 })).items;
      expect(found.some((r) => r.trigger === 'on-demand' && r.action === 'create')).toBe(true);
      return found;
    });
    expect(records.find((r) => r.action === 'create')?.changes).toContainEqual(expect.objectContaining({ attribute: 'userName', new: 'temp@example.com' }));

    // Act: the grant's time comes (moved to the past rather than waited for), and the minute's sweep runs.
    const grant = await grants.get('acme', id);
    await grants.put({ ...(grant as NonNullable<typeof grant>), expiresAt: new Date(Date.now() - 1_000).toISOString() });
    // DynamoDB Local may delete the item by its TTL first (its stream then shows the deletion as
    // UNKNOWN_TO_SDK_VERSION): either way the grant ends once, and the stream carries it.
    const swept = (await hub.functions.get('grant-expiry')?.invoke({})) as { ended: number };
    expect([0, 1]).toContain(swept.ended);
    // Assess: the stream carried the end of the grant to the lane, and the worker disabled the account.
    await eventually(() => expect(targetUser('temp@example.com')).toMatchObject({ active: false }), 20_000);
    expect(await grants.get('acme', id)).toBeUndefined();
    expect((await admin('GET', '/grants?connector=acme')).body.grants).toEqual([]);
  }, 60_000);

  it('plans against the account the target holds: an edit made there is drift (target value -> hub value) that apply repairs, and a deleted account is linked but gone', async () => {
    // Prepare: an engineer real time provisioned, then changed on the target behind the hub's back.
    const created = await scimClient(hub.scim).post('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'drift@example.com',
      title: 'Engineer',
      active: true,
      name: { givenName: 'Grace', familyName: 'Hopper' },
    });
    expect(created.status).toBe(201);
    await eventually(async () => expect(targetUser('drift@example.com')).toBeDefined());
    const targetApi = scimClient(target.url, TARGET_TOKEN);
    const accountId = String(targetUser('drift@example.com')?.id);
    await targetApi.patch(`/Users/${accountId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'name.givenName', value: 'Changed' }],
    });
    // Act
    const planned = (await admin('POST', '/connectors/acme/provision', { user: 'drift@example.com', dryRun: true })).body as OnDemandResult;
    const stillChanged = (targetUser('drift@example.com')?.name as { givenName?: string } | undefined)?.givenName;
    const applied = (await admin('POST', '/connectors/acme/provision', { user: 'drift@example.com' })).body as OnDemandResult;
    const repaired = (targetUser('drift@example.com')?.name as { givenName?: string } | undefined)?.givenName;
    await targetApi.delete(`/Users/${accountId}`);
    const gone = (await admin('POST', '/connectors/acme/provision', { user: 'drift@example.com', dryRun: true })).body as OnDemandResult;
    // Assess
    expect(planned).toMatchObject({ situation: 'linked-drifted', outcome: { action: 'update', targetId: accountId } });
    expect(planned.changes).toEqual([{ attribute: 'name.givenName', old: 'Changed', new: 'Grace' }]);
    expect(stillChanged).toBe('Changed');
    expect(applied).toMatchObject({ situation: 'linked-drifted', outcome: { action: 'update', status: 'success' } });
    expect(repaired).toBe('Grace');
    expect(gone).toMatchObject({ situation: 'linked-gone', outcome: { action: 'relink', targetId: accountId } });
  });

  it('answers 404 for an unknown user, 400 for a bad until, 409 for a disabled connector', async () => {
    await salesUser('errors@example.com');

    expect((await admin('POST', '/connectors/acme/provision', { user: 'nobody@example.com' })).status).toBe(404);
    expect(await admin('POST', '/connectors/acme/provision', { user: 'errors@example.com', until: 'tomorrow' })).toMatchObject({
      status: 400,
      body: { code: 'onDemand.invalid' },
    });
    expect((await admin('POST', '/connectors/paused/provision', { user: 'errors@example.com' })).status).toBe(409);
  });

  it('runs as the provision-on-demand function, invoked the way Lambda is', async () => {
    // Prepare
    const id = await salesUser('invoked@example.com');
    // Act
    const response = await fetch(`${hub.url}/2015-03-31/functions/provision-on-demand/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}` },
      body: JSON.stringify({ connector: 'acme', user: id, dryRun: true }),
    });
    const refused = await fetch(`${hub.url}/2015-03-31/functions/provision-on-demand/invocations`, { method: 'POST', body: '{}' });
    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, result: { resource: { id }, situation: 'not-provisioned', dryRun: true } });
    expect(refused.status).toBe(401);
  });

  it('npm run ops -- provision prints the steps and the diff, --json the result, and deprovisions; ops grants lists', async () => {
    // Prepare
    await salesUser('cli@example.com', { displayName: 'CLI User' });
    const before = targetState();
    // Act: a dry run, readable.
    const dry = await ops('provision', '--connector', 'acme', '--user', 'cli@example.com', '--until', '30m', '--dry-run');
    // Assess
    expect(dry.stdout).toContain('DRY RUN: nothing was changed.');
    expect(dry.stdout).toMatch(/steps:\n {2}1\. scope: in scope by temporary access until/);
    expect(dry.stdout).toMatch(/displayName\s+\(none\) -> "CLI User"/);
    expect(dry.stdout).toContain('outcome: create success');
    expect(targetState()).toBe(before);

    // Act: for real, as JSON; then the grants; then a deprovision.
    const real = JSON.parse((await ops('provision', '--connector', 'acme', '--user', 'cli@example.com', '--until', '30m', '--json')).stdout) as OnDemandResult;
    const listed = await ops('grants', '--connector', 'acme');
    const gone = await ops('provision', '--connector', 'acme', '--user', 'cli@example.com', '--deprovision');
    // Assess
    expect(real).toMatchObject({ outcome: { action: 'create', status: 'success' } });
    expect(listed.stdout).toMatch(/^CONNECTOR\s+USER\s+ID\s+UNTIL\s+STATE\s+GRANTED/);
    expect(listed.stdout).toMatch(/acme\s+cli@example\.com\s+\S+\s+\S+\s+live/);
    // The grant is revoked before the deprovision runs, and its revocation reaches the lane's
    // worker too, which may disable the account first: then this request finds it disabled.
    expect(gone.stdout).toMatch(/outcome: disable (success|skipped \(target \S+\): already disabled)/);
    expect(gone.stdout).toContain('was revoked');
    expect(targetUser('cli@example.com')).toMatchObject({ active: false });
    await expect(ops('provision', '--connector', 'acme')).rejects.toMatchObject({ code: 2 });
  }, 90_000);
});
