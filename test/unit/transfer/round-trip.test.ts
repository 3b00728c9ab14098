import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { makeDirectory } from '../../../shared/directory/directory.service.ts';
import { exportResources } from '../../../shared/transfer/export.ts';
import { makeChunkImporter } from '../../../shared/transfer/import-chunk.ts';
import { cutIntoChunks } from '../../../shared/transfer/import-job.service.ts';
import { readImportRecords } from '../../../shared/transfer/import-records.ts';
import { ImportOptionsSchema, type TransferFormat } from '../../../shared/transfer/transfer.types.ts';
import { InMemoryDirectoryStore } from '../../builders/in-memory-directory.store.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ctx = { baseUrl: '', strictUnknownAttributes: false };

const hub = () => {
  const store = new InMemoryDirectoryStore();
  let next = 0;
  const directory = makeDirectory({ store, clock: () => new Date('2026-01-01T00:00:00Z'), newId: () => `id${++next}`, onUnknownAttributes: () => undefined });
  return { store, directory };
};

const text = async (chunks: AsyncIterable<string>) => {
  let all = '';
  for await (const chunk of chunks) all += chunk;
  return all;
};

/** Users as an export shows them, without what the hub assigns (ids, group ids). */
const comparable = async (directory: ReturnType<typeof hub>['directory']) => {
  const page = await directory.list('User', { count: 100, sortBy: 'userName' }, ctx);
  return (page.Resources as Array<Record<string, unknown>>).map(({ id: _id, meta: _meta, groups, ...user }) => ({
    ...user,
    groups: ((groups as Array<{ display: string }> | undefined) ?? []).map((group) => group.display).sort(),
  }));
};

const importInto = async (target: ReturnType<typeof hub>, exported: string, format: TransferFormat) => {
  const options = ImportOptionsSchema.parse({});
  const importer = makeChunkImporter({ directory: target.directory, store: target.store });
  const records = readImportRecords(Readable.from([exported]), { format, mode: options.mode, match: options.match });
  let rejected = 0;
  await cutIntoChunks({ rowOffset: 0, chunkRows: 2, options }, records, async (_chunk, part) => {
    const result = await importer.apply(part, options, { trigger: 'import', jobId: 'j', provision: true });
    rejected += result.counters.rejected;
  });
  return rejected;
};

describe('export, then import into an empty hub', () => {
  const seed = async () => {
    const source = hub();
    const ada = await source.directory.create(
      'User',
      {
        userName: 'ada',
        externalId: 'E1',
        displayName: 'Ada Lovelace',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        title: 'Countess',
        emails: [{ type: 'work', value: 'ada@example.com' }],
        phoneNumbers: [{ type: 'work', value: '+44 1' }],
        active: true,
        [ENTERPRISE]: { employeeNumber: '7', department: 'R&D, "Analytical"' },
      },
      ctx,
    );
    const grace = await source.directory.create(
      'User',
      { userName: 'grace', name: { givenName: 'Grace\nMulti' }, emails: [{ type: 'work', value: 'g@example.com' }], active: false },
      ctx,
    );
    await source.directory.create('User', { userName: 'linus', emails: [{ type: 'work', value: 'l@example.com' }] }, ctx);
    await source.directory.create('Group', { displayName: 'Eng', members: [{ value: ada.resource.id }, { value: grace.resource.id }] }, ctx);
    await source.directory.create('Group', { displayName: 'Ops', members: [{ value: ada.resource.id }] }, ctx);
    return source;
  };

  it.each(['csv', 'json', 'ndjson'] as const)('gives equal users and memberships as %s', async (format) => {
    const source = await seed();
    const exported = await text(exportResources(source.directory, { type: 'User', format, pageSize: 2 }));
    const target = hub();
    expect(await importInto(target, exported, format)).toBe(0);
    expect(await comparable(target.directory)).toEqual(await comparable(source.directory));
  });

  it('never exports a password', async () => {
    const source = hub();
    await source.directory.create('User', { userName: 'ada', password: 'Secret-1' }, ctx);
    for (const format of ['csv', 'json', 'ndjson'] as const) {
      expect(await text(exportResources(source.directory, { type: 'User', format }))).not.toMatch(/Secret-1|password|scrypt/);
    }
  });

  it('writes CSV for Excel: a BOM, CRLF, and quotes where a value needs them', async () => {
    const source = await seed();
    const csv = await text(exportResources(source.directory, { type: 'User', format: 'csv', attributes: ['userName', `${ENTERPRISE}:department`, 'groups'] }));
    expect(csv).toBe(`\uFEFFuserName,${ENTERPRISE}:department,groups\r\nada,"R&D, ""Analytical""",Eng;Ops\r\ngrace,,Eng\r\nlinus,,\r\n`);
  });
});
