import { ScimError, scimErrors } from '../scim/errors.ts';
import { InvalidCursor } from './directory.errors.ts';
import type { DirectoryStore, ResourceRecord, ResourceType, ScimJson } from './directory.ports.ts';
import { type DirectoryLimits, LIST_RESPONSE_SCHEMA } from './directory.types.ts';

/*
 * Paging of list responses (RFC 7644 section 3.4.2.4, RFC 9865 cursors): the ListResponse
 * envelope, the cursors the directory hands out, and walking a type's index by startIndex or
 * cursor within the scan cap.
 */

export const listResponse = (resources: ScimJson[], totalResults: number, startIndex: number, nextCursor: string | undefined, byCursor: boolean): ScimJson => ({
  schemas: [LIST_RESPONSE_SCHEMA],
  totalResults,
  itemsPerPage: resources.length,
  ...(byCursor ? {} : { startIndex }),
  ...(nextCursor ? { nextCursor } : {}),
  Resources: resources,
});

/** The resource types a search at the root covers, in the order an unsorted search returns them. */
export const SEARCH_TYPES: readonly ResourceType[] = ['User', 'Group'];

/** Where an unsorted root search stands: the type it is reading and the store's cursor in it. */
export interface RootPosition {
  type: number;
  cursor?: string;
}

export const encodeRootCursor = (position: RootPosition): string => Buffer.from(JSON.stringify({ t: position.type, c: position.cursor })).toString('base64url');

export const decodeRootCursor = (cursor: string | undefined): RootPosition => {
  if (!cursor) return { type: 0 };
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; c?: unknown };
    if (
      typeof parsed.t === 'number' &&
      Number.isInteger(parsed.t) &&
      parsed.t >= 0 &&
      parsed.t < SEARCH_TYPES.length &&
      (parsed.c === undefined || typeof parsed.c === 'string')
    ) {
      return { type: parsed.t, ...(parsed.c === undefined ? {} : { cursor: parsed.c }) };
    }
  } catch {
    // falls through to the error below
  }
  throw scimErrors.invalidCursor('The cursor is not valid for this query');
};

export const encodeOffset = (offset: number): string => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');

export const decodeOffset = (cursor: string | undefined): number => {
  if (!cursor) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // falls through to the error below
  }
  throw scimErrors.invalidCursor('The cursor is not valid for this query');
};

export const invalidCursor = (error: unknown): unknown =>
  error instanceof InvalidCursor ? new ScimError(400, 'invalidCursor', 'The cursor is not valid', { cause: error }) : error;

/** Walking a type's index: pages by cursor, or skip-and-take for startIndex within the scan cap. */
export const makeTypePaging = ({ store, limits }: { store: DirectoryStore; limits: DirectoryLimits }) => {
  /** startIndex paging walks the index up to the start: beyond the scan cap a cursor must be used. */
  const assertSkippable = (startIndex: number) => {
    if (startIndex - 1 > limits.maxScanned) {
      throw scimErrors.tooMany(`startIndex may be at most ${limits.maxScanned + 1}; page further with cursor (RFC 9865)`);
    }
  };

  const listPage = async (type: ResourceType, count: number, cursor: string | undefined) => {
    if (count === 0) return { items: [], next: cursor };
    try {
      return await store.list(type, { limit: count, cursor });
    } catch (error) {
      throw invalidCursor(error);
    }
  };

  const skipAndTake = async (type: ResourceType, skip: number, take: number): Promise<ResourceRecord[]> => {
    const taken: ResourceRecord[] = [];
    let toSkip = skip;
    let cursor: string | undefined;
    while (taken.length < take) {
      const page = await store.list(type, { limit: Math.min(1000, toSkip + take - taken.length), cursor });
      const usable = page.items.slice(toSkip);
      toSkip = Math.max(0, toSkip - page.items.length);
      taken.push(...usable.slice(0, take - taken.length));
      cursor = page.next;
      if (!cursor) break;
    }
    return taken;
  };

  return { assertSkippable, listPage, skipAndTake };
};

export type TypePaging = ReturnType<typeof makeTypePaging>;
