/**
 * The index planner: the equality in a filter that a store can answer with an index lookup
 * (userName, externalId, id, displayName, emails, members, groups) before evaluating the whole
 * filter on the candidates.
 */
import type { AttributePath, CompareValue, FilterNode } from './scim.types.ts';

export type IndexedAttribute = 'userName' | 'externalId' | 'id' | 'displayName' | 'emails.value' | 'members.value' | 'groups.value';

export interface IndexableEquality {
  readonly attribute: IndexedAttribute;
  readonly value: string;
  /** False when the attribute compares ignoring case: the store must look up its lowercased form. */
  readonly caseExact: boolean;
}

const SIMPLE_INDEXED: readonly IndexedAttribute[] = ['userName', 'externalId', 'id', 'displayName'];
/** Multi-valued complex attributes whose `value` is indexed: emails (User), members (Group), groups (User). */
const VALUE_INDEXED = new Set(['emails', 'members', 'groups']);
const CASE_EXACT_INDEXED: ReadonlySet<IndexedAttribute> = new Set(['externalId', 'id', 'members.value', 'groups.value']);

/**
 * If the filter is, or is an `and` containing, an equality on an indexed attribute, returns it so a
 * store can fetch candidates by index; the store must still evaluate the full filter on them. The
 * store decides which of these it indexes per resource type (e.g. displayName only for Groups).
 */
export function indexableEquality(node: FilterNode): IndexableEquality | undefined {
  if (node.op === 'and') return indexableEquality(node.left) ?? indexableEquality(node.right);
  if (node.op === 'valuePath') return valuePathEquality(node.path, node.filter);
  if (node.op !== 'eq' || node.path.schema !== undefined) return undefined;
  const attribute = indexedName(node.path.attribute, node.path.subAttribute);
  return attribute === undefined ? undefined : equality(attribute, node.value);
}

/** `emails[value eq "x"]` is the same lookup as `emails.value eq "x"`. */
function valuePathEquality(path: AttributePath, filter: FilterNode): IndexableEquality | undefined {
  // `emails[type eq "work" and value eq "x"]` (also the reading of `emails[type eq "work"].value eq "x"`).
  if (filter.op === 'and') return valuePathEquality(path, filter.left) ?? valuePathEquality(path, filter.right);
  if (path.schema !== undefined || filter.op !== 'eq' || filter.path.subAttribute !== undefined) return undefined;
  const attribute = indexedName(path.attribute, filter.path.attribute);
  return attribute === undefined ? undefined : equality(attribute, filter.value);
}

function indexedName(attribute: string, subAttribute: string | undefined): IndexedAttribute | undefined {
  const lower = attribute.toLowerCase();
  // A complex multi-valued attribute without a sub-attribute compares `value` (RFC 7644 section 3.4.2.2).
  if (VALUE_INDEXED.has(lower) && (subAttribute === undefined || subAttribute.toLowerCase() === 'value')) {
    return `${lower}.value` as IndexedAttribute;
  }
  return subAttribute === undefined ? SIMPLE_INDEXED.find((name) => name.toLowerCase() === lower) : undefined;
}

function equality(attribute: IndexedAttribute, value: CompareValue): IndexableEquality | undefined {
  // Numbers reach here from bare words (`externalId eq 12345`); they only parse as numbers when they round-trip.
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  return { attribute, value: String(value), caseExact: CASE_EXACT_INDEXED.has(attribute) };
}
