import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { directoryObjectStore, putLocalObject } from '../../../shared/objects/directory-object.store.ts';

/** The import bucket's local stand-in keeps an object's user metadata as S3 does: with that version of its content. */
describe('the metadata of the directory object store', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bucket-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps the metadata of a put, names lowercased as S3 does', async () => {
    await putLocalObject(root, 'imports/a.csv', 'userName\nada\n', { 'Dry-Run': 'true' });

    expect(await directoryObjectStore(root).head('imports/a.csv')).toMatchObject({ size: 13, metadata: { 'dry-run': 'true' } });
  });

  it('reads a sidecar written by hand for a file moved in after it', async () => {
    writeFileSync(join(root, 'people.csv'), 'userName\nbob\n');
    await putLocalObject(root, 'imports/.keep', '');
    writeFileSync(join(root, 'imports', 'people.csv.meta.json'), JSON.stringify({ metadata: { mode: 'update' } }));
    renameSync(join(root, 'people.csv'), join(root, 'imports', 'people.csv'));

    expect((await directoryObjectStore(root).head('imports/people.csv'))?.metadata).toEqual({ mode: 'update' });
  });

  it('drops the metadata and ETag of an earlier version when a file is moved in over it', async () => {
    await putLocalObject(root, 'imports/b.csv', 'userName\nada\n', { mode: 'update' });
    const first = await directoryObjectStore(root).head('imports/b.csv');
    writeFileSync(join(root, 'b.csv'), 'userName\nada\ngrace\n');
    renameSync(join(root, 'b.csv'), join(root, 'imports', 'b.csv'));

    const second = await directoryObjectStore(root).head('imports/b.csv');

    expect(second?.metadata).toEqual({});
    expect(second?.etag).not.toBe(first?.etag);
  });
});
