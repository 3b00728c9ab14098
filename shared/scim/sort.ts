/**
 * Sorting, RFC 7644 section 3.4.2.3: `sortBy` names an attribute path; a multi-valued attribute
 * sorts by its primary value, else its first; strings sort by Unicode code point, ignoring case
 * unless the attribute is caseExact; numbers numerically, dateTimes chronologically.
 */
import { parseDateTime } from './coerce.ts';
import { ScimError, scimErrors } from './errors.ts';
import { getIgnoringCase, isPlainObject } from './json.ts';
import { parsePath } from './path.ts';
import { type AttributeDefinition, findSubAttribute, type ResolvedAttribute, type ResourceTypeRef, resolveAttribute, resourceTypeOf } from './schemas.ts';

export type SortOrder = 'ascending' | 'descending';

/** The `sortOrder` parameter: case-insensitive, ascending when absent (RFC 7644 section 3.4.2.3). */
export function parseSortOrder(text: string | undefined): SortOrder {
  if (text === undefined || text.trim() === '') return 'ascending';
  const lower = text.trim().toLowerCase();
  if (lower === 'ascending' || lower === 'descending') return lower;
  throw scimErrors.invalidValue(`sortOrder must be 'ascending' or 'descending', not '${text}'`);
}

type SortKey = string | number | undefined;

/**
 * A comparator for `Array.prototype.sort`. Resources without a value sort last when ascending
 * (and so first when descending: the order is exactly reversed). Ties are broken by `id`, so that
 * pages cut from the sorted list are stable from one request to the next.
 */
export function compareBy(
  sortBy: string,
  order: SortOrder,
  resourceType: ResourceTypeRef,
): (left: Record<string, unknown>, right: Record<string, unknown>) => number {
  const keyOf = sortKeyReader(sortBy, resourceType);
  const direction = order === 'descending' ? -1 : 1;
  return (left, right) => {
    const byKey = compareKeys(keyOf(left), keyOf(right));
    const byId = byKey === 0 ? compareKeys(idOf(left), idOf(right)) : byKey;
    return byId === 0 ? 0 : byId * direction;
  };
}

/**
 * Orders resources of several types by one attribute (a search at the root, RFC 7644 section
 * 3.4.3): a type that lacks the attribute sorts as unassigned, i.e. last. The attribute must
 * belong to at least one of the types.
 */
export function compareAcrossTypes<T extends { type: ResourceTypeRef; resource: Record<string, unknown> }>(
  sortBy: string,
  order: SortOrder,
  resourceTypes: readonly ResourceTypeRef[],
): (left: T, right: T) => number {
  const readers = new Map<ResourceTypeRef, (resource: Record<string, unknown>) => SortKey>();
  let firstError: unknown;
  for (const type of resourceTypes) {
    try {
      readers.set(type, sortKeyReader(sortBy, type));
    } catch (error) {
      if (!(error instanceof ScimError)) throw error;
      firstError ??= error;
    }
  }
  if (readers.size === 0) throw firstError;
  const direction = order === 'descending' ? -1 : 1;
  const keyOf = (entry: T) => readers.get(entry.type)?.(entry.resource);
  return (left, right) => {
    const byKey = compareKeys(keyOf(left), keyOf(right));
    const byId = byKey === 0 ? compareKeys(idOf(left.resource), idOf(right.resource)) : byKey;
    return byId === 0 ? 0 : byId * direction;
  };
}

const idOf = (resource: Record<string, unknown>): SortKey => (typeof resource.id === 'string' ? resource.id : undefined);

function compareKeys(left: SortKey, right: SortKey): number {
  if (left === undefined || right === undefined) return left === right ? 0 : left === undefined ? 1 : -1;
  return left < right ? -1 : left > right ? 1 : 0;
}

function sortKeyReader(sortBy: string, resourceType: ResourceTypeRef): (resource: Record<string, unknown>) => SortKey {
  const resolved = resolveSortBy(sortBy, resourceType);
  const { attribute, extension } = resolved;
  // RFC 7644 section 3.4.2.3: a complex attribute sorts by a sub-attribute; for a multi-valued one
  // without a sub-attribute that is its `value` (as in filters, section 3.4.2.2).
  const leaf = resolved.subAttribute ?? (attribute.type === 'complex' ? findSubAttribute(attribute, 'value') : attribute);
  if (leaf === undefined) {
    throw scimErrors.invalidValue(`sortBy '${sortBy}' is complex: sort by one of its sub-attributes`);
  }
  return (resource) => {
    const container = extension === undefined ? resource : getIgnoringCase(resource, extension);
    const value = getIgnoringCase(container, attribute.name);
    const chosen = attribute.multiValued ? primaryOrFirst(value) : value;
    return toKey(leaf, attribute.type === 'complex' ? getIgnoringCase(chosen, leaf.name) : chosen);
  };
}

function resolveSortBy(sortBy: string, resourceType: ResourceTypeRef): ResolvedAttribute {
  try {
    const path = parsePath(sortBy);
    const resolved = path.valueFilter === undefined ? resolveAttribute(resourceType, path) : undefined;
    if (resolved !== undefined) return resolved;
  } catch (error) {
    if (!(error instanceof ScimError)) throw error;
  }
  throw scimErrors.invalidValue(`sortBy '${sortBy}' is not an attribute of ${resourceTypeOf(resourceType).name}`);
}

/** RFC 7644 section 3.4.2.3: "the value of the primary attribute, if any, or else the first value". */
function primaryOrFirst(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.find((item) => isPlainObject(item) && item.primary === true) ?? value[0];
}

function toKey(definition: AttributeDefinition, value: unknown): SortKey {
  switch (definition.type) {
    case 'boolean':
      return typeof value === 'boolean' ? Number(value) : undefined;
    case 'integer':
    case 'decimal':
      return typeof value === 'number' ? value : undefined;
    case 'dateTime':
      return parseDateTime(value);
    default:
      if (typeof value !== 'string') return undefined;
      // Code-point order with no locale (RFC 7644 section 3.4.2.3), lowercased unless caseExact.
      return definition.caseExact ? value : value.toLowerCase();
  }
}
