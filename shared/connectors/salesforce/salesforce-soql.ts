/**
 * SOQL text built from values that come from users: every literal is quoted and escaped, field
 * and object names are checked against the identifier grammar, so a value can never change the
 * query's shape (SOQL and SOSL reference, "Quoted String Escape Sequences").
 */

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A SOQL string literal: `O'Brien` becomes `'O\'Brien'`. */
export const soqlString = (value: string): string => `'${value.replace(/[\\'"\n\r\t\b\f]/g, (c) => ESCAPES[c] ?? c)}'`;

/** A field name, or a relationship path such as `Profile.Name`. */
const FIELD = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$/;

export const isSoqlField = (name: string): boolean => FIELD.test(name);

/** A Salesforce record id: 15 case-sensitive or 18 case-insensitive characters. */
export const isSalesforceId = (value: string): boolean => /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/.test(value);

/** `field IN ('a','b')`; the caller keeps the list short enough for one query (at most 200 ids). */
export const soqlIn = (field: string, values: readonly string[]): string => `${field} IN (${values.map(soqlString).join(',')})`;

/** Slices of at most `size` items. */
export const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
};
