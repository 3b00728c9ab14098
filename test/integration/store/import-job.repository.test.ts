import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoImportJobStore } from '../../../shared/store/import-job.repository.ts';
import { emptyCounters, type ImportJob } from '../../../shared/transfer/transfer.types.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

const now = '2026-01-01T00:00:00.000Z';
const job = (jobId: string, fingerprint: string): ImportJob => ({
  jobId,
  state: 'receiving',
  created: now,
  updated: now,
  source: 'people.csv',
  fingerprint,
  options: { mode: 'upsert', match: 'userName', provision: true, dryRun: false },
  chunkRows: 100,
  rowOffset: 0,
  chunksDone: 0,
  counters: emptyCounters(),
  warnings: [],
});
const result = (created: number, rejectedRows: number[] = []) => ({
  counters: { ...emptyCounters(), rows: created + rejectedRows.length, created, rejected: rejectedRows.length },
  rejected: rejectedRows.map((row) => ({ row, reason: `row ${row} is bad` })),
});

describe('DynamoImportJobStore', () => {
  let jobs: DynamoImportJobStore;
  let table: Awaited<ReturnType<typeof freshHubTable>>;

  beforeAll(async () => {
    table = await freshHubTable('import-jobs');
    jobs = new DynamoImportJobStore(table.documents, table.tableName);
  });
  afterAll(() => table.raw.destroy());

  it('resumes the unfinished job of the same import, and starts a new one once it is complete', async () => {
    expect(await jobs.createOrResume(job('j1', 'fp-one'))).toMatchObject({ resumed: false, job: { jobId: 'j1' } });
    await jobs.advance('j1', 100, now);
    expect(await jobs.createOrResume(job('j2', 'fp-one'))).toMatchObject({ resumed: true, job: { jobId: 'j1', rowOffset: 100 } });
    await jobs.seal('j1', 0, [], now);
    expect(await jobs.completeIfDone('j1', now)).toBe(true);
    expect(await jobs.createOrResume(job('j3', 'fp-one'))).toMatchObject({ resumed: false, job: { jobId: 'j3' } });
  });

  it('counts a chunk once however often it is recorded, and completes when every chunk is counted', async () => {
    await jobs.createOrResume(job('j4', 'fp-two'));
    expect(await jobs.recordChunk('j4', 0, result(99, [7]), now)).toBe(true);
    expect(await jobs.recordChunk('j4', 0, result(99, [7]), now)).toBe(false);
    await jobs.seal('j4', 2, ["column 'x' ignored"], now);
    expect(await jobs.completeIfDone('j4', now)).toBe(false);
    expect(await jobs.recordChunk('j4', 1, result(10, [150, 160]), now)).toBe(true);
    expect(await jobs.completeIfDone('j4', now)).toBe(true);
    expect(await jobs.get('j4')).toMatchObject({
      state: 'completed',
      chunksDone: 2,
      totalChunks: 2,
      warnings: ["column 'x' ignored"],
      counters: { rows: 112, created: 109, rejected: 3, updated: 0, unchanged: 0, groupsCreated: 0 },
    });
    const first = await jobs.rejected('j4', { limit: 1 });
    const second = await jobs.rejected('j4', { limit: 1, ...(first.next ? { cursor: first.next } : {}) });
    expect([...first.items, ...second.items].map((row) => row.row)).toEqual([7, 150, 160]);
  });

  it('never moves the row offset back', async () => {
    await jobs.createOrResume(job('j5', 'fp-three'));
    await jobs.advance('j5', 300, now);
    await jobs.advance('j5', 200, now);
    expect((await jobs.get('j5'))?.rowOffset).toBe(300);
  });

  it('keeps the chunk total of the first seal: the same total again is nothing, another one fails and changes nothing', async () => {
    await jobs.createOrResume(job('j6', 'fp-four'));
    await jobs.seal('j6', 1, [], now);

    await jobs.seal('j6', 1, [], now);
    await expect(jobs.seal('j6', 0, [], now)).rejects.toThrow('import job j6 is sealed with 1 chunks, and a cut of its file counted 0');

    expect(await jobs.completeIfDone('j6', now)).toBe(false);
    expect(await jobs.get('j6')).toMatchObject({ state: 'processing', totalChunks: 1, chunksDone: 0 });
  });
});
