import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ImportFileError } from '../../../shared/transfer/import-mapping.ts';
import { formatOfFileName, type ReadOptions, readImportRecords } from '../../../shared/transfer/import-records.ts';

const read = async (text: string, options: Partial<ReadOptions> = {}) => {
  const warnings: string[] = [];
  const records = [];
  for await (const read of readImportRecords(Readable.from([Buffer.from(text, 'utf8')]), {
    format: 'csv',
    mode: 'upsert',
    match: 'userName',
    onWarnings: (w) => warnings.push(...w),
    ...options,
  })) {
    records.push(read);
  }
  return { records, warnings };
};

const WORK_EMAIL = '"emails[type eq ""work""].value"';

describe('reading CSV rows (RFC 4180, as Excel writes it)', () => {
  it('reads quotes, doubled quotes, a BOM, CRLF and a field spanning lines, numbering rows by their first line', async () => {
    const { records } = await read(
      `\uFEFFuserName,name.givenName,${WORK_EMAIL}\r\nada,"Ada ""A."" Lovelace",ada@example.com\r\nbob,"Bob\r\nSecond line",bob@example.com\r\ncy,Cy,cy@example.com\r\n`,
    );
    expect(records.map((r) => r.record.row)).toEqual([2, 3, 5]);
    expect(records[0]?.record).toEqual({
      row: 2,
      operations: [
        { op: 'add', path: 'userName', value: 'ada' },
        { op: 'add', path: 'name.givenName', value: 'Ada "A." Lovelace' },
        { op: 'add', path: 'emails[type eq "work"].value', value: 'ada@example.com' },
      ],
    });
    expect(records[1]?.record).toMatchObject({ operations: [{}, { value: 'Bob\r\nSecond line' }, {}] });
  });

  it('skips blank lines and still numbers rows by the file line', async () => {
    const { records } = await read('userName\n\nada\n\n\nbob\n');
    expect(records.map((r) => r.record.row)).toEqual([3, 6]);
  });

  it('ignores unknown columns and the hub-owned id, saying so once', async () => {
    const { records, warnings } = await read('id,userName,shoeSize\nabc,ada,42\n');
    expect(warnings).toEqual(["column 'id': id is the hub's own: ignored", "column 'shoeSize': no User attribute shoeSize: ignored"]);
    expect(records[0]?.record).toEqual({ row: 2, operations: [{ op: 'add', path: 'userName', value: 'ada' }] });
  });

  it('rejects a bad boolean, an invalid email and a short row, each with its line and column', async () => {
    const { records } = await read(`userName,active,${WORK_EMAIL}\nada,maybe,ada@example.com\nbob,true,bob-at-example\ncy,true\n`);
    expect(records.map((r) => r.record)).toEqual([
      { row: 2, rejected: { column: 'active', reason: "'active' must be a boolean" } },
      { row: 3, rejected: { column: 'emails', reason: "'bob-at-example' is not an email address" } },
      { row: 4, rejected: { reason: 'the row has 2 fields, the header 3' } },
    ]);
  });

  it('rejects a row without the attribute it is matched by', async () => {
    const { records } = await read('userName,externalId\n,e1\nada,\n', { match: 'externalId', mode: 'update' });
    expect(records.map((r) => r.record)).toEqual([
      { row: 2, operations: [{ op: 'add', path: 'externalId', value: 'e1' }] },
      { row: 3, rejected: { column: 'externalId', reason: "'externalId' is required to match the row to a user" } },
    ]);
  });

  it('requires userName for a create, not for an update matched by externalId', async () => {
    const create = await read('externalId,title\ne1,Engineer\n', { match: 'externalId', mode: 'create' });
    expect(create.records[0]?.record).toEqual({ row: 2, rejected: { reason: "'userName' is required" } });
    const update = await read('externalId,title\ne1,Engineer\n', { match: 'externalId', mode: 'update' });
    expect(update.records[0]?.record).toMatchObject({ row: 2, operations: [{}, { path: 'title', value: 'Engineer' }] });
  });

  it('splits the groups column on semicolons and keeps a password exactly as typed', async () => {
    const { records } = await read('userName,groups,password\nada, Eng ; Ops ;, s3cret \nbob,,\n');
    expect(records[0]?.record).toEqual({
      row: 2,
      operations: [
        { op: 'add', path: 'userName', value: 'ada' },
        { op: 'add', path: 'password', value: ' s3cret ' },
      ],
      groups: ['Eng', 'Ops'],
    });
    expect(records[1]?.record).toEqual({ row: 3, operations: [{ op: 'add', path: 'userName', value: 'bob' }], groups: [] });
  });

  it('renames headers through a mapping file and ignores the ones mapped to null', async () => {
    const { records, warnings } = await read('Login,E-mail,Notes\nada,ada@example.com,hello\n', {
      mapping: { columns: { Login: 'userName', 'E-mail': 'emails[type eq "work"].value', Notes: null } },
    });
    expect(warnings).toEqual([]);
    expect(records[0]?.record).toEqual({
      row: 2,
      operations: [
        { op: 'add', path: 'userName', value: 'ada' },
        { op: 'add', path: 'emails[type eq "work"].value', value: 'ada@example.com' },
      ],
    });
  });

  it('refuses a file whose header names a malformed path, before reading any row', async () => {
    await expect(read('userName,emails[type eq\nada,x\n')).rejects.toBeInstanceOf(ImportFileError);
    await expect(read('')).rejects.toThrow(/header row/);
  });

  it('rejects a row whose quote never closes, keeping the rows before it', async () => {
    const { records } = await read('userName,title\nada,x\nbob,"open\n');
    expect(records.map((r) => r.record.row)).toEqual([2, 3]);
    expect(records[1]?.record).toMatchObject({ rejected: { reason: expect.stringMatching(/Quote Not Closed/) } });
  });

  it('reports the normalised userName the file must not repeat', async () => {
    const { records } = await read('userName\nAda\n');
    expect(records[0]?.userName).toBe('ada');
  });
});

describe('reading JSON and NDJSON', () => {
  const ada = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada', groups: [{ value: 'g1', display: 'Eng' }] };

  it('reads NDJSON line by line, skipping blank lines and rejecting a line that is not JSON', async () => {
    const { records } = await read(`${JSON.stringify(ada)}\n\n{nope\n${JSON.stringify({ userName: 'bob', active: 'maybe' })}\n`, { format: 'ndjson' });
    expect(records.map((r) => r.record)).toEqual([
      { row: 1, resource: { schemas: ada.schemas, userName: 'ada' }, groups: ['Eng'] },
      { row: 3, rejected: { reason: expect.stringMatching(/^not JSON/) } },
      { row: 4, rejected: { reason: "'active' must be a boolean" } },
    ]);
  });

  it('reads a JSON array or a ListResponse, numbering elements from 1', async () => {
    const array = await read(JSON.stringify([ada, { userName: 'bob' }]), { format: 'json' });
    expect(array.records.map((r) => r.record.row)).toEqual([1, 2]);
    const list = await read(JSON.stringify({ Resources: [ada] }), { format: 'json' });
    expect(list.records[0]?.record).toMatchObject({ row: 1, groups: ['Eng'] });
    await expect(read('{"userName":"x"}', { format: 'json' })).rejects.toBeInstanceOf(ImportFileError);
  });

  it('knows the format by the file name', () => {
    expect(['a.CSV', 'b.json', 'c.ndjson', 'd.jsonl', 'e.txt'].map(formatOfFileName)).toEqual(['csv', 'json', 'ndjson', 'ndjson', undefined]);
  });
});
