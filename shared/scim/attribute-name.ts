/**
 * Splits `[URI ":"] ATTRNAME [ "." ATTRNAME ]` (RFC 7644 section 3.10, the attrPath of the filter
 * grammar in section 3.4.2.2) into its schema URN, attribute and sub-attribute. Lives apart from
 * path.ts and filter.ts because both need it and path.ts also needs the filter parser.
 */
import type { ScimError } from './errors.ts';
import type { AttributePath } from './scim.types.ts';
import { CORE_SCHEMA_IDS, KNOWN_SCHEMA_IDS } from './schemas.ts';

/**
 * RFC 7643 section 2.1: ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA. `$ref`
 * is the one reserved name outside that grammar (RFC 7643 section 2.4).
 */
const ATTRIBUTE_NAME = /^(?:\$ref|[A-Za-z][A-Za-z0-9_-]*)$/i;

export const isAttributeName = (text: string): boolean => ATTRIBUTE_NAME.test(text);

/**
 * Parses an attribute path without a value filter. `fail` builds the error to throw, so that the
 * filter parser reports `invalidFilter` and the PATCH path parser `invalidPath`.
 */
export function parseAttributeName(text: string, fail: (detail: string) => ScimError): AttributePath {
  const { schema, rest } = splitSchema(text);
  const parts = rest.split('.');
  const [attribute, subAttribute] = parts;
  if (attribute === undefined || parts.length > 2 || !parts.every(isAttributeName)) {
    throw fail(`'${text}' is not a valid attribute path`);
  }
  return {
    ...(schema === undefined ? {} : { schema }),
    attribute,
    ...(subAttribute === undefined ? {} : { subAttribute }),
  };
}

/**
 * A URN prefix is matched against the schemas we know first: their URNs contain dots and colons
 * (`...:enterprise:2.0:User`), so only knowledge of the URN tells where it ends. An unknown URN ends
 * at the last colon. A core schema URN carries no information (the resource type already says which
 * core schema applies), so it is dropped.
 */
function splitSchema(text: string): { schema?: string; rest: string } {
  if (!/^urn:/i.test(text)) return { rest: text };
  const lower = text.toLowerCase();
  const known = KNOWN_SCHEMA_IDS.find((id) => lower.startsWith(`${id.toLowerCase()}:`));
  const cut = known === undefined ? text.lastIndexOf(':') : known.length;
  const schema = known ?? text.slice(0, cut);
  const rest = text.slice(cut + 1);
  const isCore = CORE_SCHEMA_IDS.some((id) => id.toLowerCase() === schema.toLowerCase());
  return isCore ? { rest } : { schema, rest };
}

/** The text form of an attribute path without its value filter, e.g. for error details. */
export function formatAttributeName(path: AttributePath): string {
  const name = path.subAttribute === undefined ? path.attribute : `${path.attribute}.${path.subAttribute}`;
  return path.schema === undefined ? name : `${path.schema}:${name}`;
}
