import { describe, expect, it } from 'vitest';
import { importMetadataOf } from '../../../shared/transfer/import-object.service.ts';

/** The options an upload carries as S3 user metadata, read as strictly as the CLI reads its flags. */
describe("the import options of an upload's metadata", () => {
  it.each([
    [{}, {}],
    [
      { mode: 'update', match: 'externalId' },
      { mode: 'update', match: 'externalId' },
    ],
    [
      { 'dry-run': 'TRUE', 'no-provision': 'true' },
      { dryRun: true, provision: false },
    ],
    [{ 'no-provision': 'false' }, { provision: true }],
    [{ provision: 'false' }, { provision: false }],
  ])('reads %j as %j', (metadata, options) => {
    expect(importMetadataOf(metadata)).toEqual({ options, problems: [], warnings: [] });
  });

  it('reads the chunk size and the key of a mapping', () => {
    expect(importMetadataOf({ 'chunk-rows': '250', mapping: 'mappings/crm.json' })).toMatchObject({
      chunkRows: 250,
      mapping: 'mappings/crm.json',
      problems: [],
    });
  });

  it.each([
    [{ mode: 'sideways' }, 'mode', "'sideways' must be one of create, update, upsert"],
    [{ match: 'username' }, 'match', "'username' must be one of userName, externalId"],
    [{ 'dry-run': 'yes' }, 'dry-run', "'yes' must be true or false"],
    [{ 'no-provision': '' }, 'no-provision', "'' must be true or false"],
    [{ 'chunk-rows': '0' }, 'chunk-rows', "'0' must be a whole number from 1 to 500"],
    [{ 'chunk-rows': '1e2' }, 'chunk-rows', "'1e2' must be a whole number from 1 to 500"],
    [{ provision: 'true', 'no-provision': 'true' }, 'no-provision', "'true' contradicts provision 'true'"],
  ])('refuses %j, never taking a default in its place', (metadata, name, reason) => {
    const read = importMetadataOf(metadata);
    expect(read.problems).toEqual([{ name, reason }]);
    expect(read.options).not.toHaveProperty(name === 'dry-run' ? 'dryRun' : name);
  });

  it('refuses an option misspelt, which would otherwise run the import without it', () => {
    expect(importMetadataOf({ dryrun: 'true', no_provision: 'true' }).problems).toEqual([
      { name: 'dry-run', reason: "is spelt 'dry-run', not 'dryrun'" },
      { name: 'no-provision', reason: "is spelt 'no-provision', not 'no_provision'" },
    ]);
  });

  it('leaves other metadata alone (tools add their own), naming it on the job', () => {
    expect(importMetadataOf({ mtime: '1700000000' })).toEqual({
      options: {},
      problems: [],
      warnings: ["metadata 'mtime' is not an import option (mode, match, dry-run, no-provision, provision, mapping, chunk-rows): ignored"],
    });
  });
});
