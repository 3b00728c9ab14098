import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { makeDirectory } from '../../../shared/directory/directory.service.ts';
import { verifyPassword } from '../../../shared/directory/password.ts';
import { makeChunkImporter } from '../../../shared/transfer/import-chunk.ts';
import { readImportRecords } from '../../../shared/transfer/import-records.ts';
import { cutIntoChunks } from '../../../shared/transfer/import-job.service.ts';
import { type ImportOptions, ImportOptionsSchema, type ImportRecord } from '../../../shared/transfer/transfer.types.ts';
import { InMemoryDirectoryStore } from '../../builders/in-memory-directory.store.ts';

const origin = { trigger: 'import' as const, jobId: 'job1', provision: true };
const ctx = { baseUrl: '', strictUnknownAttributes: false };

const hub = () => {
  const store = new InMemoryDirectoryStore();
  let next = 0;
  const directory = makeDirectory({ store, clock: () => new Date('2026-01-01T00:00:00Z'), newId: () => `id${++next}`, onUnknownAttributes: () => undefined });
  return { store, directory, importer: makeChunkImporter({ directory, store }) };
};

const recordsOf = async (csv: string, options: Partial<ImportOptions> = {}): Promise<ImportRecord[]> => {
  const parsed = ImportOptionsSchema.parse(options);
  const records: ImportRecord[] = [];
  const read = readImportRecords(Readable.from([csv]), { format: 'csv', mode: parsed.mode, match: parsed.match });
  await cutIntoChunks({ rowOffset: 0, chunkRows: 100, options: parsed }, read, async (_chunk, part) => {
    records.push(...part);
  });
  return records;
};

const CSV = `userName,name.givenName,"emails[type eq ""work""].value",active,groups,password
ada,Ada,ada@example.com,true,Eng;Ops,Secret-1
bob,Bob,bob@example.com,false,Eng,
`;

const userByName = async (h: ReturnType<typeof hub>, userName: string) => {
  const id = await h.store.findIdByUnique('User', { attribute: 'userName', value: userName });
  return id === undefined ? undefined : h.store.get('User', id);
};

describe('applying a chunk of imported rows through the directory', () => {
  it('creates users with their attributes, a hashed password, and the groups they name', async () => {
    const h = hub();
    const result = await h.importer.apply(await recordsOf(CSV), ImportOptionsSchema.parse({}), origin);
    expect(result).toEqual({ counters: { rows: 2, created: 2, updated: 0, unchanged: 0, rejected: 0, groupsCreated: 2 }, rejected: [] });
    const ada = await userByName(h, 'ada');
    expect(ada?.data).toMatchObject({ userName: 'ada', name: { givenName: 'Ada' }, emails: [{ type: 'work', value: 'ada@example.com' }], active: true });
    expect(ada?.origin).toEqual(origin);
    expect(await verifyPassword('Secret-1', ada?.passwordHash ?? '')).toBe(true);
    const groups = await h.store.getMany('Group', await h.store.groupIdsOf(ada?.id ?? ''));
    expect(groups.map((g) => g.data.displayName).sort()).toEqual(['Eng', 'Ops']);
    const eng = groups.find((g) => g.data.displayName === 'Eng');
    expect(eng?.memberCount).toBe(2);
  });

  it('changes nothing when the same rows are applied again', async () => {
    const h = hub();
    const records = await recordsOf(CSV);
    await h.importer.apply(records, ImportOptionsSchema.parse({}), origin);
    const before = await userByName(h, 'ada');
    const again = await h.importer.apply(records, ImportOptionsSchema.parse({}), origin);
    expect(again.counters).toEqual({ rows: 2, created: 0, updated: 0, unchanged: 2, rejected: 0, groupsCreated: 0 });
    expect((await userByName(h, 'ada'))?.version).toBe(before?.version);
  });

  it('writes nothing in a dry run, yet says what it would do', async () => {
    const h = hub();
    const result = await h.importer.apply(await recordsOf(CSV), ImportOptionsSchema.parse({ dryRun: true }), origin);
    expect(result.counters).toEqual({ rows: 2, created: 2, updated: 0, unchanged: 0, rejected: 0, groupsCreated: 2 });
    expect(await h.store.count('User')).toBe(0);
    expect(await h.store.count('Group')).toBe(0);
  });

  it('updates only the columns a row fills, and moves a user between groups', async () => {
    const h = hub();
    await h.importer.apply(await recordsOf(CSV), ImportOptionsSchema.parse({}), origin);
    const result = await h.importer.apply(await recordsOf('userName,title,groups\nada,Countess,Ops\n'), ImportOptionsSchema.parse({ mode: 'update' }), origin);
    expect(result.counters).toMatchObject({ updated: 1, rejected: 0 });
    const ada = await userByName(h, 'ada');
    expect(ada?.data).toMatchObject({ name: { givenName: 'Ada' }, title: 'Countess' });
    const groups = await h.store.getMany('Group', await h.store.groupIdsOf(ada?.id ?? ''));
    expect(groups.map((g) => g.data.displayName)).toEqual(['Ops']);
  });

  it('rejects by mode: create leaves existing users alone, update needs one', async () => {
    const h = hub();
    await h.importer.apply(await recordsOf('userName,title\nada,A\n'), ImportOptionsSchema.parse({}), origin);
    const create = await h.importer.apply(await recordsOf('userName,title\nada,B\n'), ImportOptionsSchema.parse({ mode: 'create' }), origin);
    expect(create.rejected).toEqual([{ row: 2, column: 'userName', reason: 'a user with this userName exists (mode create changes no user)' }]);
    const update = await h.importer.apply(await recordsOf('userName,title\nzed,B\n'), ImportOptionsSchema.parse({ mode: 'update' }), origin);
    expect(update.rejected).toEqual([{ row: 2, column: 'userName', reason: 'no user has this userName' }]);
  });

  it('matches by externalId, rejecting one that several users share', async () => {
    const h = hub();
    await h.directory.create('User', { userName: 'a1', externalId: 'e1' }, ctx);
    await h.directory.create('User', { userName: 'a2', externalId: 'dup' }, ctx);
    await h.directory.create('User', { userName: 'a3', externalId: 'dup' }, ctx);
    const result = await h.importer.apply(
      await recordsOf('externalId,title\ne1,Boss\ndup,Clerk\n', { match: 'externalId', mode: 'update' }),
      ImportOptionsSchema.parse({ match: 'externalId', mode: 'update' }),
      origin,
    );
    expect(result.counters).toMatchObject({ updated: 1, rejected: 1 });
    expect(result.rejected).toEqual([{ row: 3, column: 'externalId', reason: 'several users have this externalId' }]);
    expect((await userByName(h, 'a1'))?.data.title).toBe('Boss');
  });

  it('rejects a userName another user holds in another spelling, and a file that repeats one', async () => {
    const h = hub();
    await h.directory.create('User', { userName: 'José' }, ctx);
    const records = await recordsOf('userName,title\nbob,x\nBOB,y\n');
    expect(records[1]).toEqual({ row: 3, rejected: { column: 'userName', reason: 'the file has this userName already, on row 2' } });
    const result = await h.importer.apply(records, ImportOptionsSchema.parse({}), origin);
    expect(result.counters).toMatchObject({ created: 1, rejected: 1 });
    // The precomposed and the decomposed é are one name: the row updates José rather than making a second.
    const same = await h.importer.apply(await recordsOf('userName,title\nJose\u0301,y\n'), ImportOptionsSchema.parse({ mode: 'create' }), origin);
    expect(same.rejected[0]?.reason).toMatch(/exists/);
  });

  it('looks up a chunk together: its userNames and groups in one read each, no groups read for users it creates', async () => {
    const store = new InMemoryDirectoryStore();
    const calls = new Map<string, number>();
    const counted = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
          return value.apply(target, args);
        };
      },
    });
    let next = 0;
    const directory = makeDirectory({ store: counted, clock: () => new Date(), newId: () => `id${++next}`, onUnknownAttributes: () => undefined });
    const importer = makeChunkImporter({ directory, store: counted });
    const rows = Array.from({ length: 50 }, (_, i) => `user${i},Given${i},user${i}@example.com,true,${i % 2 === 0 ? 'Even' : 'Odd;Even'},`);
    const records = await recordsOf(`userName,name.givenName,"emails[type eq ""work""].value",active,groups,password\n${rows.join('\n')}\n`);

    const first = await importer.apply(records, ImportOptionsSchema.parse({}), origin);
    const firstReads = { byName: calls.get('findIdByUnique') ?? 0, byNames: calls.get('findIdsByUnique'), groupsOf: calls.get('groupIdsOf') ?? 0 };
    calls.clear();
    const again = await importer.apply(records, ImportOptionsSchema.parse({}), origin);

    expect(first.counters).toMatchObject({ created: 50, groupsCreated: 2 });
    // One read of the 50 userName guards, one of the 2 group names; the new users are in no group yet.
    expect(firstReads).toEqual({ byName: 0, byNames: 2, groupsOf: 0 });
    expect(again.counters).toMatchObject({ unchanged: 50, updated: 0 });
    expect(calls.get('findIdsByUnique')).toBe(2);
    expect(calls.get('getMany')).toBe(1);
    expect(calls.get('get') ?? 0).toBe(0);
    expect(calls.get('groupIdsOf')).toBe(50);
  });
});

describe('cutting a file into chunks', () => {
  const FIVE_ROWS = `userName\n${['a', 'b', 'c', 'd', 'e'].join('\n')}\n`;
  const cut = async (rowOffset: number) => {
    const options = ImportOptionsSchema.parse({});
    const sent: Array<{ chunk: number; rows: number[] }> = [];
    const read = readImportRecords(Readable.from([FIVE_ROWS]), { format: 'csv', mode: options.mode, match: options.match });
    const result = await cutIntoChunks({ rowOffset, chunkRows: 2, options }, read, async (chunk, part) => {
      sent.push({ chunk, rows: part.map((record) => record.row) });
    });
    return { result, sent };
  };

  it('cuts from the row offset on, each row in the chunk its position gives it, and counts every chunk of the file', async () => {
    expect(await cut(0)).toEqual({
      result: { chunks: 3, rows: 5, complete: true },
      sent: [
        { chunk: 0, rows: [2, 3] },
        { chunk: 1, rows: [4, 5] },
        { chunk: 2, rows: [6] },
      ],
    });
    expect(await cut(2)).toEqual({
      result: { chunks: 3, rows: 5, complete: true },
      sent: [
        { chunk: 1, rows: [4, 5] },
        { chunk: 2, rows: [6] },
      ],
    });
  });

  it('counts the chunks an earlier cutter queued when it resumes after the last, partial one', async () => {
    expect(await cut(5)).toEqual({ result: { chunks: 3, rows: 5, complete: true }, sent: [] });
  });
});
