/**
 * Small helpers over parsed JSON, shared by the SCIM protocol modules. SCIM attribute names are
 * case-insensitive (RFC 7643 section 2.1), so every lookup of a client-supplied name goes through
 * `findKey` / `getIgnoringCase` instead of plain property access.
 */

export type JsonObject = Record<string, unknown>;

export const isPlainObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The key of `object` that equals `name` ignoring case, preferring an exact match. */
export function findKey(object: JsonObject, name: string): string | undefined {
  if (Object.hasOwn(object, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === lower);
}

export function getIgnoringCase(object: unknown, name: string): unknown {
  if (!isPlainObject(object)) return undefined;
  const key = findKey(object, name);
  return key === undefined ? undefined : object[key];
}

/** Sets `object[name]` under its canonical spelling, dropping any differently cased duplicate. */
export function setIgnoringCase(object: JsonObject, name: string, value: unknown): void {
  const existing = findKey(object, name);
  if (existing !== undefined && existing !== name) delete object[existing];
  object[name] = value;
}

export function deleteIgnoringCase(object: JsonObject, name: string): void {
  const existing = findKey(object, name);
  if (existing !== undefined) delete object[existing];
}

/**
 * RFC 7643 section 2.5: an unassigned attribute, `null` and an empty array are the same state. An
 * empty complex value (`{}`, or one whose sub-attributes are all unassigned) carries nothing either.
 */
export function isUnassigned(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.every(isUnassigned);
  if (isPlainObject(value)) return Object.values(value).every(isUnassigned);
  return false;
}

/** Structural equality of JSON values; object key order does not matter. */
export function deepEqual(left: unknown, right: unknown): boolean {
  if (Object.is(left, right)) return true;
  if (Array.isArray(left)) {
    return Array.isArray(right) && left.length === right.length && left.every((item, index) => deepEqual(item, right[index]));
  }
  if (isPlainObject(left) && isPlainObject(right)) {
    const leftKeys = Object.keys(left);
    if (leftKeys.length !== Object.keys(right).length) return false;
    return leftKeys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key]));
  }
  return false;
}

/** A deep copy of a JSON value (resources are plain JSON, so structuredClone is exact). */
export const cloneJson = <T>(value: T): T => structuredClone(value);

/**
 * How deeply a parsed JSON value nests (a scalar is 0), counted without recursion so that a
 * hostile document (100 000 nested arrays) cannot exhaust the stack. Stops counting at `limit + 1`.
 */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Object.values(current as object)) stack.push([child, level]);
  }
  return deepest;
}

/**
 * The names the hub keeps unique (User `userName`, Group `displayName`) in Unicode NFC: "é" typed
 * as one code point and as "e" plus a combining accent are one name (RFC 7613 section 3.2 asks
 * for NFC in user names), so they must meet in one uniqueness key, which lowercases the NFC form.
 */
export function normalizeUniqueNames(resource: JsonObject, resourceType: 'User' | 'Group'): void {
  const key = findKey(resource, resourceType === 'User' ? 'userName' : 'displayName');
  const value = key === undefined ? undefined : resource[key];
  if (key !== undefined && typeof value === 'string') resource[key] = value.normalize('NFC');
}
