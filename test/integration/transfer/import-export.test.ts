import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callLocalAdmin, type LocalHubConnection } from '../../../infra/cli/local-hub-connection.ts';
import { fingerprintOf, runExport, runImport } from '../../../infra/cli/transfer.commands.ts';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { DynamoAuditLog } from '../../../shared/store/audit.repository.ts';
import { createDocumentClient } from '../../../shared/store/dynamodb.client.ts';
import { eventually } from '../../support/eventually.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';
import { type StrictScimTarget, startStrictScimTarget } from '../../support/strict-scim-target.ts';

/**
 * `ops import` and `ops export` against a running local hub: the file cut into chunks through the
 * admin API's job routes, the chunks through the import queue (fauxqs) into the import worker,
 * the users through the table's stream and the connector's lane into a SCIM target.
 */
const TARGET_TOKEN = 'target-token-0123456789';

const collect = () => {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
};

// A loaded machine makes DynamoDB Local slow: the whole flow of one test can take a while.
describe('import and export through the local hub', { timeout: 60_000 }, () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let target: StrictScimTarget;
  let connection: LocalHubConnection;
  let audit: DynamoAuditLog;
  const dir = mkdtempSync(join(tmpdir(), 'transfer-'));
  const api = () => scimClient(hub.scim);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const importFile = async (path: string, flags: Partial<Parameters<typeof runImport>[2]> = {}) => {
    const out = collect();
    const err = collect();
    const code = await runImport(connection, path, { dryRun: false, provision: true, pollMs: 50, ...flags }, out.stream, err.stream);
    return { code, out: out.text(), err: err.text() };
  };
  const hubUser = async (userName: string) => {
    const found = await api().get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    return found.json.Resources[0] as Record<string, unknown> | undefined;
  };
  const totals = async () => ({
    users: (await api().get('/Users?count=0')).json.totalResults as number,
    groups: (await api().get('/Groups?count=0')).json.totalResults as number,
  });

  beforeAll(async () => {
    target = await startStrictScimTarget({ token: TARGET_TOKEN });
    const connectorsFile = join(dir, 'connectors.json');
    writeFileSync(
      connectorsFile,
      JSON.stringify({ connectors: [{ id: 'acme', type: 'scim', enabled: true, baseUrl: target.url, bearerToken: TARGET_TOKEN, deprovision: 'disable' }] }),
    );
    hub = await startTestHub('transfer', { connectorIds: ['acme'], environment: { CONNECTORS_FILE: connectorsFile } });
    const dynamodb = new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb });
    connection = {
      kind: 'local',
      url: hub.url,
      adminToken: hub.adminToken,
      dynamodb,
      sqs: new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs }),
      tableName: hub.tableName,
    };
    audit = new DynamoAuditLog(createDocumentClient(dynamodb), hub.tableName, 90);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await target?.close();
  });

  const CSV = [
    '\uFEFFuserName,name.givenName,name.familyName,"emails[type eq ""work""].value",active,groups,password,shoeSize',
    'ada@example.com,Ada,Lovelace,ada@example.com,true,Engineering;Research,Secret-1,38',
    '"grace@example.com","Grace ""Amazing""","Hopper",grace@example.com,TRUE,Engineering,,41',
    '',
    'linus@example.com,"Linus',
    'Second",Torvalds,linus@example.com,maybe,,,44',
    'ada@example.com,Again,Duplicate,ada2@example.com,true,,,1',
    'bad@example.com,Bad,Email,not-an-address,true,,,1',
    '',
  ].join('\r\n');

  it('a dry run reports what would happen and writes no user or group', async () => {
    const before = await totals();
    const result = await importFile(file('dry.csv', CSV), { dryRun: true });
    expect(result.out).toMatch(
      /dry run: nothing written\): 5 rows, 2 would be created, 0 would be updated, 0 unchanged, 3 rejected; 2 group\(s\) would be created/,
    );
    expect(await totals()).toEqual(before);
  });

  it('imports users and their groups, rejecting bad rows by line and column, and provisions them', async () => {
    const result = await importFile(file('people.csv', CSV));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/warning: column 'shoeSize': no User attribute shoeSize: ignored/);
    expect(result.out).toMatch(/completed: 5 rows, 2 created, 0 updated, 0 unchanged, 3 rejected; 2 group\(s\) created/);
    expect(result.out).toContain("row 5 (active): 'active' must be a boolean");
    expect(result.out).toContain('row 7 (userName): the file has this userName already, on row 2');
    expect(result.out).toContain("row 8 (emails): 'not-an-address' is not an email address");
    const ada = await hubUser('ada@example.com');
    expect(ada).toMatchObject({ name: { givenName: 'Ada', familyName: 'Lovelace' }, emails: [{ type: 'work', value: 'ada@example.com' }], active: true });
    expect(ada).not.toHaveProperty('password');
    expect(((ada?.groups ?? []) as Array<{ display: string }>).map((g) => g.display).sort()).toEqual(['Engineering', 'Research']);
    expect((await hubUser('grace@example.com'))?.name).toEqual({ givenName: 'Grace "Amazing"', familyName: 'Hopper' });
    expect(await hubUser('linus@example.com')).toBeUndefined();
    await eventually(() => {
      expect(
        target
          .users()
          .map((u) => u.userName)
          .sort(),
      ).toEqual(['ada@example.com', 'grace@example.com']);
    });
    const entries = await eventually(async () => {
      const page = await audit.query({ connectorId: 'acme', resourceId: ada?.id as string, limit: 10 });
      expect(page.items.length).toBeGreaterThan(0);
      return page.items;
    });
    expect(entries.every((entry) => entry.trigger === 'import')).toBe(true);
  });

  it('changes nothing when the same file is imported again', async () => {
    const before = await hubUser('ada@example.com');
    const result = await importFile(file('people.csv', CSV));
    expect(result.err).not.toMatch(/resuming/);
    expect(result.out).toMatch(/completed: 5 rows, 0 created, 0 updated, 2 unchanged, 3 rejected; 0 group\(s\) created/);
    expect((await hubUser('ada@example.com'))?.meta).toEqual(before?.meta);
  });

  it('with --no-provision writes the user but tells no connector', async () => {
    await importFile(file('quiet.csv', 'userName\nquiet@example.com\n'), { provision: false });
    await importFile(file('loud.csv', 'userName\nloud@example.com\n'));
    // The stream delivers in order: once the later user is on the target, the earlier one was passed over.
    await eventually(() => expect(target.users().some((u) => u.userName === 'loud@example.com')).toBe(true));
    expect(await hubUser('quiet@example.com')).toBeDefined();
    expect(target.users().some((u) => u.userName === 'quiet@example.com')).toBe(false);
  });

  it('with --no-provision removes a membership in the hub and tells no connector of the removal', async () => {
    await importFile(file('keep.csv', 'userName,groups\nkeep@example.com,Quiet One;Quiet Two\n'));
    const onTarget = () => target.users().find((u) => u.userName === 'keep@example.com');
    const targetMembers = (displayName: string) =>
      ((target.groups().find((g) => g.displayName === displayName)?.members ?? []) as Array<{ value: string }>).map((m) => m.value);
    await eventually(() => expect(targetMembers('Quiet Two')).toContain(onTarget()?.id));

    await importFile(file('keep-quiet.csv', 'userName,groups\nkeep@example.com,Quiet One\n'), { provision: false });
    await importFile(file('late.csv', 'userName,groups\nlate@example.com,Quiet Two\n'));
    // A group's memberships share its FIFO message group: once the later member is on the target, the removal before it was passed over.
    await eventually(() => expect(targetMembers('Quiet Two')).toContain(target.users().find((u) => u.userName === 'late@example.com')?.id));
    expect(targetMembers('Quiet Two')).toContain(onTarget()?.id);
    const inHub = ((await hubUser('keep@example.com'))?.groups ?? []) as Array<{ display: string }>;
    expect(inHub.map((g) => g.display)).toEqual(['Quiet One']);
  });

  it('updates by externalId only the columns a file carries', async () => {
    await api().post('/Users', { userName: 'ext@example.com', externalId: 'E-1', title: 'Clerk', name: { givenName: 'Ext' } });
    const result = await importFile(file('titles.csv', 'externalId,title\nE-1,Manager\nE-404,Nobody\n'), { mode: 'update', match: 'externalId' });
    expect(result.out).toMatch(/2 rows, 0 created, 1 updated, 0 unchanged, 1 rejected/);
    expect(result.out).toContain('row 3 (externalId): no user has this externalId');
    expect(await hubUser('ext@example.com')).toMatchObject({ title: 'Manager', name: { givenName: 'Ext' } });
  });

  it('resumes a job that stopped half-way from its row offset', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => `resume${i}@example.com,R${i}`);
    const path = file('resume.csv', `userName,name.givenName\n${rows.join('\n')}\n`);
    // The first run died after its first chunk: same file, same options, same fingerprint.
    const options = { mode: 'upsert', match: 'userName', provision: false, dryRun: false } as const;
    const started = (await callLocalAdmin(
      connection,
      'POST',
      '/imports',
      {},
      { source: 'resume.csv', fingerprint: await fingerprintOf(path, options, undefined), chunkRows: 10, ...options },
    )) as {
      job: { jobId: string };
    };
    const records = rows.slice(0, 10).map((row, i) => ({ row: i + 2, operations: [{ op: 'add', path: 'userName', value: row.split(',')[0] }] }));
    await callLocalAdmin(connection, 'POST', `/imports/${started.job.jobId}/chunks`, {}, { chunk: 0, records });

    const result = await importFile(path, { provision: false });
    expect(result.err).toContain(`resuming ${started.job.jobId} from row 10`);
    expect(result.out).toMatch(/completed: 25 rows, 25 created/);
    expect((await hubUser('resume24@example.com'))?.name).toEqual({ givenName: 'R24' });
  });

  it('exports users as CSV that imports back unchanged, and as NDJSON with a filter and attributes', async () => {
    const csvPath = join(dir, 'export.csv');
    expect(await runExport(connection, 'users', { format: 'csv', filter: 'userName sw "ada@" or userName sw "grace@"', output: csvPath })).toBe(0);
    const text = readFileSync(csvPath, 'utf8');
    expect(text.startsWith('\uFEFFid,userName,externalId')).toBe(true);
    expect(text).toContain('\r\n');
    expect(text).toContain('"Grace ""Amazing"""');
    expect(text).toMatch(/ada@example\.com,.*Engineering;Research|ada@example\.com,.*Research;Engineering/);
    const again = await importFile(csvPath);
    expect(again.out).toMatch(/completed: 2 rows, 0 created, 0 updated, 2 unchanged, 0 rejected/);

    const out = collect();
    await runExport(connection, 'users', { format: 'ndjson', filter: 'userName eq "ada@example.com"', attributes: 'userName,emails' }, out.stream);
    const lines = out.text().trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        id: expect.any(String),
        userName: 'ada@example.com',
        emails: [{ type: 'work', value: 'ada@example.com' }],
      },
    ]);
  });

  it('lists jobs newest first and pages their rejected rows', async () => {
    const listed = (await callLocalAdmin(connection, 'GET', '/imports', { limit: '2' })) as {
      jobs: Array<{ source: string; created: string }>;
      nextCursor?: string;
    };
    expect(listed.jobs).toHaveLength(2);
    expect((listed.jobs[0]?.created ?? '') >= (listed.jobs[1]?.created ?? '')).toBe(true);
    expect(listed.nextCursor).toBeDefined();
    const people = ((await callLocalAdmin(connection, 'GET', '/imports', { limit: '100' })) as { jobs: Array<{ jobId: string; source: string }> }).jobs.find(
      (job) => job.source === 'people.csv',
    );
    const rejected = (await callLocalAdmin(connection, 'GET', `/imports/${people?.jobId}/rejected`)) as { rejected: Array<{ row: number }> };
    expect(rejected.rejected.map((row) => row.row)).toEqual([5, 7, 8]);
  });

  it('refuses a bad request with a 4xx naming the problem', async () => {
    await expect(callLocalAdmin(connection, 'POST', '/imports', {}, { source: 'x', fingerprint: 'short' })).rejects.toMatchObject({ status: 400 });
    await expect(callLocalAdmin(connection, 'GET', '/imports/imp_nope')).rejects.toMatchObject({ status: 404 });
    await expect(runExport(connection, 'users', { format: 'csv', filter: 'userName zz "x"' }, collect().stream)).rejects.toThrow(/Expected an operator/);
  });
});
