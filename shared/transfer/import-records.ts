/**
 * Reading an import file into records, one row at a time: CSV (RFC 4180, through csv-parse:
 * quotes, embedded newlines, CRLF, a UTF-8 BOM, what Excel writes), NDJSON (one resource a line)
 * and a JSON array of resources. Each row is checked on its own here, by the same protocol code a
 * SCIM POST or PATCH runs (the CSV row becomes PATCH operations); what needs the hub (uniqueness
 * against stored users, whether a user exists) is checked when its chunk is applied.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { ScimError } from '../scim/errors.ts';
import { getIgnoringCase, isPlainObject } from '../scim/json.ts';
import { normalizeUser } from '../scim/input.ts';
import { applyPatch, type PatchOperation } from '../scim/patch.ts';
import { USER_SCHEMA_ID } from '../scim/schemas.ts';
import { type ColumnPlan, GROUPS_SEPARATOR, type ImportMapping, ImportFileError, planColumns } from './import-mapping.ts';
import type { ImportMode, ImportRecord, MatchAttribute, TransferFormat } from './transfer.types.ts';

/** A record and the keys the file must not repeat (a userName, or the matching externalId). */
export interface ReadRecord {
  record: ImportRecord;
  userName?: string;
  externalId?: string;
}

export interface ReadOptions {
  format: TransferFormat;
  mode: ImportMode;
  match: MatchAttribute;
  mapping?: ImportMapping;
  /** Told once, before the first record: columns that are ignored, and why. */
  onWarnings?: (warnings: string[]) => void;
}

/**
 * A JSON array is parsed whole (JSON has no row boundaries to stream on); larger files go as
 * NDJSON, which streams. The cap keeps an import's memory bounded whatever it is handed.
 */
export const MAX_JSON_ARRAY_BYTES = 32 * 1024 * 1024;

/** An address as a person types one: something, one `@`, a domain with a dot; no spaces. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const rejected = (row: number, reason: string, column?: string): ReadRecord => ({
  record: { row, rejected: { reason, ...(column === undefined ? {} : { column }) } },
});

const emailProblem = (resource: Record<string, unknown>): string | undefined => {
  const emails = getIgnoringCase(resource, 'emails');
  if (!Array.isArray(emails)) return undefined;
  for (const email of emails) {
    const value = getIgnoringCase(email, 'value');
    if (typeof value === 'string' && !EMAIL.test(value)) return `'${value}' is not an email address`;
  }
  return undefined;
};

/**
 * The checks every row gets before it is queued, by the SCIM input rules: types, booleans,
 * required attributes (not for `update`: a row may then carry only the attributes it changes,
 * with its match key), and email addresses that could be delivered to.
 */
const checkResource = (
  row: number,
  resource: Record<string, unknown>,
  mode: ImportMode,
  match: MatchAttribute,
): ReadRecord | { keys: Omit<ReadRecord, 'record'> } => {
  const userName = getIgnoringCase(resource, 'userName');
  const externalId = getIgnoringCase(resource, 'externalId');
  const key = match === 'userName' ? userName : externalId;
  if (typeof key !== 'string' || key.trim() === '') return rejected(row, `'${match}' is required to match the row to a user`, match);
  try {
    normalizeUser(mode === 'update' && typeof userName !== 'string' ? { ...resource, userName: key } : resource, { strictUnknown: false });
  } catch (error) {
    if (error instanceof ScimError) return rejected(row, error.message);
    throw error;
  }
  const problem = emailProblem(resource);
  if (problem) return rejected(row, problem, 'emails');
  return {
    keys: {
      ...(typeof userName === 'string' ? { userName: userName.normalize('NFC').toLowerCase() } : {}),
      ...(typeof externalId === 'string' && externalId !== '' ? { externalId } : {}),
    },
  };
};

/** The PATCH operations of one CSV row: an `add` per non-empty cell (RFC 7644 section 3.5.2.1). */
const operationsOf = (cells: string[], columns: ColumnPlan[]): { operations: PatchOperation[]; groups?: string[] } => {
  const operations: PatchOperation[] = [];
  let groups: string[] | undefined;
  columns.forEach((column, index) => {
    const cell = cells[index] ?? '';
    if (column.kind === 'groups') {
      groups = cell
        .split(GROUPS_SEPARATOR)
        .map((name) => name.trim())
        .filter((name) => name !== '');
      return;
    }
    if (column.kind === 'ignored' || cell.trim() === '') return;
    // A password is taken exactly as typed; every other cell without the spaces around it.
    if (column.kind === 'password') operations.push({ op: 'add', path: 'password', value: cell });
    else operations.push({ op: 'add', path: column.path, value: cell.trim() });
  });
  return { operations, ...(groups === undefined ? {} : { groups }) };
};

/** The column a failing row's problem is in: its operations applied one by one, the first that fails. */
const failingColumn = (operations: PatchOperation[], columns: ColumnPlan[]): string | undefined => {
  let resource: Record<string, unknown> = { schemas: [USER_SCHEMA_ID] };
  for (const operation of operations) {
    try {
      resource = applyPatch(resource, [operation], 'User').resource;
    } catch {
      return columns.find((column) => column.kind !== 'ignored' && 'path' in column && column.path === operation.path)?.header ?? operation.path;
    }
  }
  return undefined;
};

const csvRow = (row: number, cells: string[], columns: ColumnPlan[], options: ReadOptions): ReadRecord => {
  if (cells.length !== columns.length) return rejected(row, `the row has ${cells.length} fields, the header ${columns.length}`);
  const { operations, groups } = operationsOf(cells, columns);
  let built: Record<string, unknown>;
  try {
    built = applyPatch({ schemas: [USER_SCHEMA_ID] }, operations, 'User').resource;
  } catch (error) {
    if (!(error instanceof ScimError)) throw error;
    return rejected(row, error.message, failingColumn(operations, columns));
  }
  const checked = checkResource(row, built, options.mode, options.match);
  if ('record' in checked) return checked;
  return { record: { row, operations, ...(groups === undefined ? {} : { groups }) }, ...checked.keys };
};

const jsonRow = (row: number, value: unknown, options: ReadOptions): ReadRecord => {
  if (!isPlainObject(value)) return rejected(row, 'each element must be a SCIM User object');
  // `groups` is the hub's to keep (readOnly in RFC 7643 section 4.1.2); an import reads the
  // displayNames in it to set the memberships, as an export writes them.
  const { groups: groupValues, ...resource } = Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key.toLowerCase() === 'groups' ? 'groups' : key, item]),
  );
  let groups: string[] | undefined;
  if (groupValues !== undefined) {
    if (!Array.isArray(groupValues)) return rejected(row, "'groups' must be a list of groups", 'groups');
    groups = [];
    for (const group of groupValues) {
      const name = typeof group === 'string' ? group : getIgnoringCase(group, 'display');
      if (typeof name !== 'string' || name.trim() === '') return rejected(row, "each of 'groups' needs its displayName in 'display'", 'groups');
      groups.push(name.trim());
    }
  }
  const checked = checkResource(row, resource, options.mode, options.match);
  if ('record' in checked) return checked;
  return { record: { row, resource, ...(groups === undefined ? {} : { groups }) }, ...checked.keys };
};

const lineBreaks = (fields: string[]) => fields.reduce((sum, field) => sum + (field.match(/\r\n|\r|\n/g) ?? []).length, 0);
const crlfs = (fields: string[]) => fields.reduce((sum, field) => sum + (field.match(/\r\n/g) ?? []).length, 0);

/**
 * CSV rows; the row number is the line the record starts on (a quoted field may span lines):
 * the line csv-parse has reached at the record's end, less the line breaks inside its fields.
 * csv-parse counts a CRLF inside a quoted field as two lines, so those are taken off too.
 */
async function* csvRecords(input: Readable, options: ReadOptions): AsyncGenerator<ReadRecord> {
  // Rows csv-parse cannot read (a quote never closed), each with the number of records read before it.
  const problems: Array<{ after: number; line: number; reason: string }> = [];
  const parser = input.pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      // A quote inside an unquoted field is kept as a character, as Excel reads it.
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error) => {
        if (error) problems.push({ after: Number(error.records ?? 0), line: Number(error.lines ?? 0), reason: error.message });
        return undefined;
      },
    }),
  );
  let columns: ColumnPlan[] | undefined;
  let records = 0;
  let overcounted = 0;
  const problemsUpTo = function* (count: number) {
    while (problems[0] && problems[0].after <= count) {
      const problem = problems.shift()!;
      // The header itself cannot be read: no row can be.
      if (problem.after === 0) throw new ImportFileError(`the header row: ${problem.reason}`);
      yield rejected(problem.line - overcounted, problem.reason);
    }
  };
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield* problemsUpTo(records);
    records += 1;
    overcounted += crlfs(record);
    const startLine = info.lines - overcounted - lineBreaks(record);
    if (columns === undefined) {
      const plan = planColumns(record, options.mapping);
      columns = plan.columns;
      options.onWarnings?.(plan.warnings);
      continue;
    }
    yield csvRow(startLine, record, columns, options);
  }
  yield* problemsUpTo(Number.POSITIVE_INFINITY);
  if (columns === undefined) throw new ImportFileError('the file is empty: a CSV import needs a header row');
}

/** NDJSON: one JSON object a line; blank lines are skipped, the row is the line number. */
async function* ndjsonRecords(input: Readable, options: ReadOptions): AsyncGenerator<ReadRecord> {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line += 1;
    const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
    if (trimmed === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      yield rejected(line, `not JSON: ${(error as Error).message}`);
      continue;
    }
    yield jsonRow(line, value, options);
  }
}

/** A JSON array of users (or a SCIM ListResponse, whose `Resources` are the users). */
async function* jsonArrayRecords(input: Readable, options: ReadOptions): AsyncGenerator<ReadRecord> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of input) {
    const buffer = typeof part === 'string' ? Buffer.from(part) : (part as Buffer);
    size += buffer.length;
    if (size > MAX_JSON_ARRAY_BYTES) {
      throw new ImportFileError(`a JSON array import takes at most ${MAX_JSON_ARRAY_BYTES / 1024 / 1024} MB: send larger files as NDJSON, which streams`);
    }
    parts.push(buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(
      Buffer.concat(parts)
        .toString('utf8')
        .replace(/^\uFEFF/, ''),
    );
  } catch (error) {
    throw new ImportFileError(`not JSON: ${(error as Error).message}`);
  }
  const list = isPlainObject(value) ? getIgnoringCase(value, 'Resources') : value;
  if (!Array.isArray(list)) throw new ImportFileError('a JSON import is an array of SCIM users (or a ListResponse)');
  for (const [index, item] of list.entries()) yield jsonRow(index + 1, item, options);
}

/** The records of an import file, in order, read as it streams in (a JSON array excepted). */
export const readImportRecords = (input: Readable, options: ReadOptions): AsyncGenerator<ReadRecord> => {
  switch (options.format) {
    case 'csv':
      return csvRecords(input, options);
    case 'ndjson':
      return ndjsonRecords(input, options);
    case 'json':
      return jsonArrayRecords(input, options);
  }
};

/** The format a file name says. */
export const formatOfFileName = (name: string): TransferFormat | undefined => {
  const match = /\.(csv|json|ndjson|jsonl)$/i.exec(name);
  if (!match) return undefined;
  const extension = (match[1] as string).toLowerCase();
  return extension === 'jsonl' ? 'ndjson' : (extension as TransferFormat);
};
