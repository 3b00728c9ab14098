import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callLocalAdmin, type LocalHubConnection } from '../../../infra/cli/local-hub-connection.ts';
import { runImport } from '../../../infra/cli/transfer.commands.ts';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { putLocalObject } from '../../../shared/objects/directory-object.store.ts';
import type { ExportJob, ImportJob } from '../../../shared/transfer/transfer.types.ts';
import { eventually } from '../../support/eventually.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/**
 * The import function on the local stack with the import bucket stood in by a directory: an
 * upload under imports/ starts a job through the bucket's (local) notification, an operator
 * starts one from an uploaded key or asks for an export through the admin API, and a chunk of
 * wide rows travels by reference through the bucket.
 */
describe('the import bucket on the local stack', { timeout: 60_000 }, () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let connection: LocalHubConnection;
  let bucket: string;
  const api = () => scimClient(hub.scim);
  const admin = (method: 'GET' | 'POST', path: string, body?: unknown) => callLocalAdmin(connection, method, path, {}, body);
  const jobOf = async (source: string): Promise<ImportJob | undefined> =>
    ((await admin('GET', '/imports?limit=100')) as { jobs: ImportJob[] }).jobs.find((job) => job.source === source);
  const completed = (source: string) =>
    eventually(async () => {
      const job = await jobOf(source);
      expect(job?.state).toBe('completed');
      return job as ImportJob;
    }, 45_000);
  const userNamed = async (userName: string) =>
    (await api().get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).json.Resources[0] as Record<string, unknown> | undefined;

  beforeAll(async () => {
    hub = await startTestHub('bucket');
    bucket = hub.bucketDirectories.import as string;
    connection = {
      kind: 'local',
      url: hub.url,
      adminToken: hub.adminToken,
      dynamodb: new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb }),
      sqs: new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs }),
      tableName: hub.tableName,
    };
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('imports a file uploaded under imports/, with the options of its metadata, in chunks', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => `upload${i}@example.com,Up${i},Uploaders`);
    await putLocalObject(bucket, 'imports/team.csv', `userName,name.givenName,groups\n${rows.join('\n')}\n`, { 'chunk-rows': '2', provision: 'false' });

    const job = await completed('imports/team.csv');

    expect(job).toMatchObject({ chunkRows: 2, totalChunks: 3, options: { provision: false, mode: 'upsert' } });
    expect(job.counters).toMatchObject({ rows: 5, created: 5, rejected: 0, groupsCreated: 1 });
    expect((await userNamed('upload4@example.com'))?.groups).toEqual([expect.objectContaining({ display: 'Uploaders' })]);
  });

  it('imports an uploaded key an operator names, and refuses a key that is not there or not an import', async () => {
    await putLocalObject(bucket, 'imports/named.ndjson', `${JSON.stringify({ userName: 'named@example.com', title: 'Named' })}\n`);
    // The notification of this upload starts the same import (same content, same options). While
    // that job runs, the operator's request resumes it, and both cut the file into the same
    // chunks; once it is done, the request is a second import of the file, which changes nothing.
    const started = (await admin('POST', '/imports', { key: 'imports/named.ndjson', mode: 'upsert' })) as { job: ImportJob; resumed: boolean };

    const job = await eventually(async () => {
      const found = ((await admin('GET', `/imports/${started.job.jobId}`)) as { job: ImportJob }).job;
      expect(found.state).toBe('completed');
      return found;
    }, 45_000);
    const jobs = ((await admin('GET', '/imports?limit=100')) as { jobs: ImportJob[] }).jobs.filter((j) => j.source === 'imports/named.ndjson');

    if (jobs.length === 1) {
      expect(job.counters).toMatchObject({ rows: 1, created: 1, rejected: 0 });
    } else {
      expect(jobs).toHaveLength(2);
      expect(jobs.find((other) => other.jobId !== job.jobId)?.counters).toMatchObject({ rows: 1, created: 1, rejected: 0 });
      expect(job.counters).toMatchObject({ rows: 1, created: 0, unchanged: 1, rejected: 0 });
    }
    expect((await userNamed('named@example.com'))?.title).toBe('Named');
    await expect(admin('POST', '/imports', { key: 'imports/absent.csv' })).rejects.toMatchObject({ status: 404 });
    await expect(admin('POST', '/imports', { key: 'exports/x.csv' })).rejects.toMatchObject({ status: 400 });
  });

  it('takes the options of the metadata an upload carries: no-provision, dry-run and a mapping by key', async () => {
    await putLocalObject(bucket, 'mappings/crm.json', JSON.stringify({ columns: { Login: 'userName', Job: 'title', Notes: null } }));
    const csv = 'Login,Job,Notes\ncrm0@example.com,Seller,x\ncrm1@example.com,Buyer,y\n';
    await putLocalObject(bucket, 'imports/crm-dry.csv', csv, { 'dry-run': 'true', mapping: 'mappings/crm.json' });
    await putLocalObject(bucket, 'imports/crm.csv', csv, { 'no-provision': 'true', mapping: 'mappings/crm.json', 'uploaded-by': 'ops' });

    const dry = await completed('imports/crm-dry.csv');
    const job = await completed('imports/crm.csv');

    expect(dry).toMatchObject({ options: { dryRun: true, provision: true }, counters: { rows: 2, created: 2, rejected: 0 } });
    expect(job).toMatchObject({ options: { dryRun: false, provision: false }, counters: { rows: 2, created: 2, rejected: 0 } });
    expect(job.warnings).toContain(
      "metadata 'uploaded-by' is not an import option (mode, match, dry-run, no-provision, provision, mapping, chunk-rows): ignored",
    );
    expect((await userNamed('crm1@example.com'))?.title).toBe('Buyer');
  });

  it('fails the job of an upload whose metadata an import cannot use, saying why, and imports nothing of it', async () => {
    await putLocalObject(bucket, 'imports/sideways.csv', 'userName\nsideways@example.com\n', {
      mode: 'sideways',
      'dry-run': 'yes',
      mapping: 'mappings/absent.json',
    });

    const job = await eventually(async () => {
      const found = await jobOf('imports/sideways.csv');
      expect(found?.state).toBe('failed');
      return found as ImportJob;
    }, 45_000);

    expect(job.error).toBe(
      "the import of imports/sideways.csv cannot start: metadata mode: 'sideways' must be one of create, update, upsert; metadata dry-run: 'yes' must be true or false; metadata mapping: the import bucket has no mappings/absent.json",
    );
    expect(await userNamed('sideways@example.com')).toBeUndefined();
    // An operator's request gives what the metadata got wrong; the rest still comes from the metadata.
    await expect(admin('POST', '/imports', { key: 'imports/sideways.csv', mode: 'upsert', dryRun: false })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('cannot start: metadata mapping: the import bucket has no mappings/absent.json'),
    });
    const started = (await admin('POST', '/imports', { key: 'imports/sideways.csv', mode: 'upsert', dryRun: false, mapping: { columns: {} } })) as {
      job: ImportJob;
    };
    expect(started.job).toMatchObject({ state: 'receiving', options: { mode: 'upsert', dryRun: false } });
    await eventually(async () => expect(await userNamed('sideways@example.com')).toBeDefined(), 45_000);
    await expect(admin('POST', '/imports', { key: 'imports/sideways.csv', mapping: 'imports/sideways.csv' })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("'yes' must be true or false; mapping: 'imports/sideways.csv' is not a key under mappings/ ending in .json"),
    });
  });

  it('carries a chunk of wide rows over 250 KB by reference through the bucket', async () => {
    // 8 rows of 40 KB: one chunk of about 320 KB, past what a queue message holds.
    const wide = (i: number) => `wide${i}@example.com,${String.fromCharCode(65 + i).repeat(40_000)}`;
    const dir = mkdtempSync(join(tmpdir(), 'wide-'));
    const path = join(dir, 'wide.csv');
    writeFileSync(path, `userName,title\n${Array.from({ length: 8 }, (_, i) => wide(i)).join('\n')}\n`);
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });

    const code = await runImport(connection, path, { dryRun: false, provision: false, pollMs: 50 }, sink, sink);

    expect(code).toBe(0);
    expect((await userNamed('wide7@example.com'))?.title).toBe('H'.repeat(40_000));
    const chunkFiles = readdirSync(join(bucket, 'chunks'), { recursive: true }).map(String);
    expect(chunkFiles.filter((name) => name.endsWith('000000.json'))).toHaveLength(1);
  });

  it('writes an export to the bucket and hands back a URL to download it', async () => {
    const asked = (await admin('POST', '/exports', { type: 'users', format: 'ndjson', filter: 'userName sw "upload"', attributes: ['userName'] })) as {
      export: ExportJob;
    };
    expect(asked.export.state).toBe('running');

    const done = await eventually(async () => {
      const current = (await admin('GET', `/exports/${asked.export.exportId}`)) as { export: ExportJob & { url?: string } };
      expect(current.export.state).toBe('completed');
      return current.export;
    }, 30_000);

    expect(done).toMatchObject({ exported: 5, key: `exports/${asked.export.exportId}.ndjson` });
    const lines = readFileSync(fileURLToPath(done.url as string), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { userName: string }).userName).sort()).toEqual(
      Array.from({ length: 5 }, (_, i) => `upload${i}@example.com`),
    );
    await expect(admin('POST', '/exports', { type: 'people', format: 'csv' })).rejects.toMatchObject({ status: 400 });
    await expect(admin('GET', '/exports/exp_nope')).rejects.toMatchObject({ status: 404 });
  });
});
