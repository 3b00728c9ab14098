/**
 * PATCH attribute paths, RFC 7644 section 3.5.2:
 *
 *     PATH = attrPath / valuePath [subAttr]
 *
 * e.g. `userName`, `name.givenName`, `emails[type eq "work"].value`, `members[value eq "abc"]`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
 */
import { isAttributeName, parseAttributeName } from './attribute-name.ts';
import { scimErrors } from './errors.ts';
import { parseValueFilter } from './filter.parser.ts';
import type { AttributePath } from './scim.types.ts';

export type { AttributePath } from './scim.types.ts';

/**
 * Parses a PATCH path. A malformed path raises `invalidPath`; a malformed filter between the
 * brackets raises `invalidFilter`, as RFC 7644 section 3.12 (table 9) lists `invalidFilter` for
 * "PATCH (path filter)".
 */
export function parsePath(text: string): AttributePath {
  const trimmed = text.trim();
  if (trimmed === '') throw scimErrors.invalidPath('The PATCH path is empty');
  const open = trimmed.indexOf('[');
  if (open === -1) return parseAttributeName(trimmed, scimErrors.invalidPath);

  const close = findClosingBracket(trimmed, open);
  const base = parseAttributeName(trimmed.slice(0, open), scimErrors.invalidPath);
  if (base.subAttribute !== undefined) {
    throw scimErrors.invalidPath(`In '${trimmed}' a value filter must follow an attribute, not a sub-attribute`);
  }
  const valueFilter = parseValueFilter(trimmed.slice(open + 1, close));
  const subAttribute = parseTail(trimmed, trimmed.slice(close + 1));
  return { ...base, ...(subAttribute === undefined ? {} : { subAttribute }), valueFilter };
}

/** The index of the `]` closing the `[` at `open`, skipping brackets inside string literals. */
function findClosingBracket(text: string, open: number): number {
  let inString = false;
  for (let index = open + 1; index < text.length; index += 1) {
    const char = text[index];
    if (inString && char === '\\') index += 1;
    else if (char === '"') inString = !inString;
    else if (!inString && char === ']') return index;
  }
  throw scimErrors.invalidPath(`'${text}' has a '[' without a matching ']'`);
}

/** After `]` only `.subAttribute` may follow (the `[subAttr]` of the PATH rule). */
function parseTail(text: string, tail: string): string | undefined {
  if (tail === '') return undefined;
  const name = tail.slice(1);
  if (!tail.startsWith('.') || !isAttributeName(name)) {
    throw scimErrors.invalidPath(`'${text}' may only have '.subAttribute' after its value filter`);
  }
  return name;
}
