import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, formatValue, REDACTED, redactRecord, toCsv } from '../../../console/src/audit-format.ts';
import type { AuditRecord } from '../../../console/src/types.ts';

const record = (overrides: Partial<AuditRecord> = {}): AuditRecord => ({
  id: 'rec-1',
  time: '2026-11-29T21:00:00.000Z',
  connectorId: 'acme',
  resourceType: 'User',
  resourceId: 'u-1',
  name: 'ada',
  trigger: 'realtime',
  action: 'update',
  status: 'success',
  steps: ['scope: in', 'match: linked', 'update'],
  changes: [
    { attribute: 'name.givenName', old: 'Ada', new: 'Augusta' },
    { attribute: 'password', new: 'hunter2-hunter2' },
    { attribute: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User:apiKey', old: 'k-old', new: 'k-new' },
  ],
  ...overrides,
});

describe('the provisioning log’s record formatting', () => {
  it('never shows a secret attribute’s values, and keeps the others', () => {
    const shown = redactRecord(record());
    expect(shown.changes).toEqual([
      { attribute: 'name.givenName', old: 'Ada', new: 'Augusta' },
      { attribute: 'password', new: REDACTED },
      { attribute: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User:apiKey', old: REDACTED, new: REDACTED },
    ]);
  });

  it.each([
    [undefined, '(none)'],
    [null, '(none)'],
    ['x', 'x'],
    [false, 'false'],
    [[{ value: 'a@b.c' }], '[{"value":"a@b.c"}]'],
  ])('shows the value %j as %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  it('writes CSV that parses back to the records, secrets redacted, formulas defused', () => {
    const records = [
      record(),
      record({
        id: 'rec-2',
        name: '=HYPERLINK("http://evil")',
        status: 'dead-lettered',
        error: { code: 'connector.permanent', message: 'no, "never"\nagain' },
        changes: undefined,
      }),
    ];
    const rows = parse(toCsv(records, true), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0] ?? {})).toEqual([...CSV_COLUMNS]);
    expect(rows.map((row) => row.id)).toEqual(['rec-1', 'rec-2']);
    expect(JSON.parse(rows[0]?.steps ?? '')).toEqual(['scope: in', 'match: linked', 'update']);
    expect(rows[0]?.changes).not.toContain('hunter2');
    expect(rows[1]?.errorMessage).toBe('no, "never"\nagain');
    // A spreadsheet would run a cell starting with `=`: it is prefixed with a quote.
    expect(rows[1]?.name).toBe('\'=HYPERLINK("http://evil")');
  });

  it('writes the header once: later chunks of an export are rows only', () => {
    expect(toCsv([record()], false).split('\r\n')[0]).toMatch(/^rec-1,/);
    expect(toCsv([], true).trim()).toBe(CSV_COLUMNS.join(','));
  });
});
