import { InvalidCursor } from '../directory/directory.errors.ts';

/** Opaque paging cursors: a DynamoDB LastEvaluatedKey as base64url JSON. */
export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

export const decodeCursor = (cursor: string | undefined): Record<string, unknown> | undefined => {
  if (!cursor) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidCursor(cursor, { cause: error });
  }
  const valid = typeof key === 'object' && key !== null && !Array.isArray(key) && Object.values(key).every((part) => typeof part === 'string');
  if (!valid) throw new InvalidCursor(cursor);
  return key as Record<string, unknown>;
};
