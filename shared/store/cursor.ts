/** Opaque paging cursors: a DynamoDB LastEvaluatedKey as base64url JSON. */
export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

export class InvalidCursor extends Error {}

export const decodeCursor = (cursor: string | undefined): Record<string, unknown> | undefined => {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new InvalidCursor('not a key');
    return key as Record<string, unknown>;
  } catch (error) {
    throw new InvalidCursor(`invalid cursor: ${cursor}`, { cause: error });
  }
};
