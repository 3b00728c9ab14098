import { createHash } from 'node:crypto';

/** JSON with sorted keys, so equal values always serialise alike. */
export const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );

export const stableHash = (value: unknown): string => createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 32);
