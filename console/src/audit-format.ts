import { stringify } from 'csv-stringify/browser/esm/sync';
import type { AttributeChange, AuditRecord } from './types.ts';

/** Shown instead of a secret's value. The hub redacts secrets before it records them; this is the second line. */
export const REDACTED = '[redacted]';

/** Attribute names whose values are never shown: passwords, tokens, keys. */
const SECRET_ATTRIBUTE = /password|passphrase|secret|token|credential|api[-_]?key|private[-_]?key/i;

export const isSecretAttribute = (attribute: string): boolean => SECRET_ATTRIBUTE.test(attribute);

/** A change as operators may see it: a secret attribute keeps its name and loses its values. */
export const redactChange = (change: AttributeChange): AttributeChange =>
  isSecretAttribute(change.attribute)
    ? {
        attribute: change.attribute,
        ...('old' in change && change.old !== undefined ? { old: REDACTED } : {}),
        ...('new' in change && change.new !== undefined ? { new: REDACTED } : {}),
      }
    : change;

/** A record with every secret value replaced: what the page shows and what an export holds. */
export const redactRecord = (record: AuditRecord): AuditRecord => (record.changes ? { ...record, changes: record.changes.map(redactChange) } : record);

/** One value of a change, for reading: `(none)` for an absent value, JSON for lists and objects. */
export const formatValue = (value: unknown): string => {
  if (value === undefined || value === null) return '(none)';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
};

/** The columns of the CSV export, in order; nested parts (steps, changes) as JSON text. */
export const CSV_COLUMNS = [
  'id',
  'time',
  'connectorId',
  'resourceType',
  'resourceId',
  'name',
  'trigger',
  'action',
  'status',
  'targetId',
  'attempt',
  'latencyMs',
  'reason',
  'collidesWith',
  'errorCode',
  'errorMessage',
  'steps',
  'changes',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

export const csvRowOf = (record: AuditRecord): Record<CsvColumn, string> => {
  const safe = redactRecord(record);
  const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));
  return {
    id: safe.id,
    time: safe.time,
    connectorId: safe.connectorId,
    resourceType: safe.resourceType,
    resourceId: safe.resourceId,
    name: text(safe.name),
    trigger: safe.trigger,
    action: safe.action,
    status: safe.status,
    targetId: text(safe.targetId),
    attempt: text(safe.attempt),
    latencyMs: text(safe.latencyMs),
    reason: text(safe.reason),
    collidesWith: text(safe.collidesWith),
    errorCode: text(safe.error?.code),
    errorMessage: text(safe.error?.message),
    steps: JSON.stringify(safe.steps ?? []),
    changes: safe.changes ? JSON.stringify(safe.changes) : '',
  };
};

/**
 * CSV (RFC 4180) of some records. `header` starts the file; later chunks leave it out. A cell
 * starting with `=`, `+`, `-` or `@` is prefixed with a quote, so a spreadsheet does not run it
 * as a formula (CSV injection).
 */
export const toCsv = (records: AuditRecord[], header: boolean): string =>
  stringify(records.map(csvRowOf), { header, columns: [...CSV_COLUMNS], escape_formulas: true, record_delimiter: 'windows' });
