/**
 * The filter evaluator: a `FilterNode` compiled against a resource type's schema into a
 * predicate, with RFC 7644 section 3.4.2.2's matching rules (case exactness, types, `pr`, null,
 * value paths over multi-valued attributes).
 */
import { formatAttributeName } from './attribute-name.ts';
import { parseBooleanText, parseDateTime } from './coerce.ts';
import { scimErrors } from './errors.ts';
import { JSON_NUMBER } from './filter.tokenizer.ts';
import { getIgnoringCase, isPlainObject, type JsonObject } from './json.ts';
import { type AttributeDefinition, attribute, findSubAttribute, type ResourceTypeRef, resolveAttribute, resourceTypeOf } from './schemas.ts';
import type { AttributePath, CompareOperator, CompareValue, FilterNode } from './scim.types.ts';

type Predicate = (subject: JsonObject) => boolean;

/** What a filter's attribute path reads from a resource (or from one value of a multi-valued attribute). */
interface Operand {
  readonly name: string;
  /** The definition compared against; undefined for a complex attribute with no `value` sub-attribute. */
  readonly definition: AttributeDefinition | undefined;
  /** The values compared, flattened over multi-valued attributes, without null and undefined. */
  readonly values: (subject: JsonObject) => unknown[];
  /** The value `pr` tests. */
  readonly presence: (subject: JsonObject) => unknown;
}

type OperandResolver = (path: AttributePath) => Operand;

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
const assigned = (values: unknown[]): unknown[] => values.filter((value) => value !== undefined && value !== null);

/**
 * Compiles a filter against a resource type's schema, resolving every attribute once. Raises
 * `invalidFilter` for unknown attributes and unsupported operator/type combinations, so a caller
 * can validate a filter before planning a query even if no resource is ever evaluated.
 */
export function compileFilter(node: FilterNode, resourceType: ResourceTypeRef, options: CompileOptions = {}): Predicate {
  const absent = options.unknownAttributesAbsent === true;
  return compile(node, rootResolver(resourceType, absent), (path, filter) => compileRootValuePath(resourceType, path, filter, absent));
}

export interface CompileOptions {
  /**
   * Reads an attribute the resource type does not have as one that is never assigned, instead of
   * raising `invalidFilter`. A search at the root of the SCIM base (RFC 7644 section 3.4.3) runs
   * one filter over several resource types: `userName eq "x"` then matches no Group.
   */
  readonly unknownAttributesAbsent?: boolean;
}

/**
 * True when the filter can match no resource of the type because a term it needs names an
 * attribute the type does not have (read as absent): the root search then need not read that
 * type at all. Conservative: false whenever it cannot tell.
 */
export function neverMatches(node: FilterNode, resourceType: ResourceTypeRef): boolean {
  switch (node.op) {
    case 'and':
      return neverMatches(node.left, resourceType) || neverMatches(node.right, resourceType);
    case 'or':
      return neverMatches(node.left, resourceType) && neverMatches(node.right, resourceType);
    case 'not':
      return false;
    case 'ne':
      return false;
    case 'eq':
      return node.value !== null && isUnknown(node.path, resourceType);
    default:
      return isUnknown(node.path, resourceType);
  }
}

/**
 * Raises `invalidFilter` for an attribute that none of the resource types has: a typo must not
 * read as "matches nothing" just because the filter runs over several types.
 */
export function assertKnownToSomeType(node: FilterNode, resourceTypes: readonly ResourceTypeRef[]): void {
  switch (node.op) {
    case 'and':
    case 'or':
      assertKnownToSomeType(node.left, resourceTypes);
      assertKnownToSomeType(node.right, resourceTypes);
      return;
    case 'not':
      assertKnownToSomeType(node.filter, resourceTypes);
      return;
    default:
      if (resourceTypes.every((type) => isUnknown(node.path, type))) {
        throw scimErrors.invalidFilter(
          `'${formatAttributeName(node.path)}' is not an attribute of ${resourceTypes.map((type) => resourceTypeOf(type).name).join(' or ')}`,
        );
      }
  }
}

const isUnknown = (path: AttributePath, resourceType: ResourceTypeRef): boolean => resolveAttribute(resourceType, path) === undefined;

/** An attribute read as never assigned: no values to compare, nothing present. */
const absentOperand = (name: string): Operand => ({
  name,
  definition: attribute(name, 'string', ''),
  values: () => [],
  presence: () => undefined,
});

/** Compiled predicates per parsed filter, so evaluating one filter over a page of resources compiles it once. */
const compiled = new WeakMap<FilterNode, Map<ResourceTypeRef, Predicate>>();

export function evaluateFilter(node: FilterNode, resource: Record<string, unknown>, resourceType: ResourceTypeRef): boolean {
  const byType = compiled.get(node) ?? new Map<ResourceTypeRef, Predicate>();
  const predicate = byType.get(resourceType) ?? compileFilter(node, resourceType);
  byType.set(resourceType, predicate);
  compiled.set(node, byType);
  return predicate(resource);
}

/** Raises `invalidFilter` if the filter cannot be evaluated against the resource type. */
export function validateFilter(node: FilterNode, resourceType: ResourceTypeRef): void {
  compileFilter(node, resourceType);
}

/**
 * Compiles the filter of a value path (`emails[type eq "work"]`): its attribute paths name
 * sub-attributes of `parent`, and the predicate is applied to one value of `parent` at a time.
 */
export function compileValueFilter(filter: FilterNode, parent: AttributeDefinition): (value: unknown) => boolean {
  const predicate = compile(filter, valueResolver(parent), () => {
    throw scimErrors.invalidFilter('Value filters cannot be nested');
  });
  return (value) => isPlainObject(value) && predicate(value);
}

function compile(node: FilterNode, resolve: OperandResolver, valuePath: (path: AttributePath, filter: FilterNode) => Predicate): Predicate {
  switch (node.op) {
    case 'and': {
      const [left, right] = [compile(node.left, resolve, valuePath), compile(node.right, resolve, valuePath)];
      return (subject) => left(subject) && right(subject);
    }
    case 'or': {
      const [left, right] = [compile(node.left, resolve, valuePath), compile(node.right, resolve, valuePath)];
      return (subject) => left(subject) || right(subject);
    }
    case 'not': {
      const inner = compile(node.filter, resolve, valuePath);
      return (subject) => !inner(subject);
    }
    case 'pr': {
      const operand = resolve(node.path);
      return (subject) => isPresent(operand.presence(subject));
    }
    case 'valuePath':
      return valuePath(node.path, node.filter);
    default:
      return compileComparison(node.op, node.value, resolve(node.path));
  }
}

function rootResolver(resourceType: ResourceTypeRef, absent: boolean): OperandResolver {
  return (path) => {
    const resolved = resolveAttribute(resourceType, path);
    const name = formatAttributeName(path);
    if (resolved === undefined && absent) return absentOperand(name);
    if (resolved === undefined) throw unknownAttribute(name, resourceType);
    const { attribute, subAttribute, extension } = resolved;
    const top = (subject: JsonObject): unknown => getIgnoringCase(extension === undefined ? subject : getIgnoringCase(subject, extension), attribute.name);
    if (subAttribute !== undefined) {
      const values = (subject: JsonObject) => assigned(asArray(top(subject)).map((item) => getIgnoringCase(item, subAttribute.name)));
      return { name, definition: subAttribute, values, presence: values };
    }
    if (attribute.type === 'complex') {
      // RFC 7644 section 3.4.2.2: a complex multi-valued attribute without a sub-attribute compares
      // its `value` sub-attribute; the same reading serves single-valued complex attributes that have one (manager).
      const value = findSubAttribute(attribute, 'value');
      const values = (subject: JsonObject) => assigned(asArray(top(subject)).map((item) => getIgnoringCase(item, 'value')));
      return { name, definition: value, values, presence: top };
    }
    return { name, definition: attribute, values: (subject) => assigned(asArray(top(subject))), presence: top };
  };
}

function valueResolver(parent: AttributeDefinition): OperandResolver {
  return (path) => {
    const name = formatAttributeName(path);
    const sub = path.schema === undefined && path.subAttribute === undefined ? findSubAttribute(parent, path.attribute) : undefined;
    if (sub === undefined) throw scimErrors.invalidFilter(`'${name}' is not a sub-attribute of ${parent.name}`);
    const values = (subject: JsonObject) => assigned([getIgnoringCase(subject, sub.name)]);
    return { name, definition: sub, values, presence: values };
  };
}

const unknownAttribute = (name: string, resourceType: ResourceTypeRef) =>
  scimErrors.invalidFilter(`'${name}' is not an attribute of ${resourceTypeOf(resourceType).name}`);

function compileRootValuePath(resourceType: ResourceTypeRef, path: AttributePath, filter: FilterNode, absent: boolean): Predicate {
  const resolved = resolveAttribute(resourceType, path);
  const name = formatAttributeName(path);
  if (resolved === undefined && absent) return () => false;
  if (resolved === undefined) throw unknownAttribute(name, resourceType);
  if (resolved.attribute.type !== 'complex') throw scimErrors.invalidFilter(`'${name}' is not complex, so it cannot take a value filter`);
  const { attribute, extension } = resolved;
  const matches = compileValueFilter(filter, attribute);
  return (subject) => {
    const container = extension === undefined ? subject : getIgnoringCase(subject, extension);
    return asArray(getIgnoringCase(container, attribute.name)).some(matches);
  };
}

/** RFC 7644 section 3.4.2.2, `pr`: a non-empty value, or a complex value with a non-empty sub-attribute. */
function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.some(isPresent);
  if (isPlainObject(value)) return Object.values(value).some(isPresent);
  return true;
}

function compileComparison(op: CompareOperator, value: CompareValue, operand: Operand): Predicate {
  const { definition, name } = operand;
  if (definition === undefined) {
    throw scimErrors.invalidFilter(`'${name}' is complex: compare one of its sub-attributes instead`);
  }
  if (value === null) return compileNullComparison(op, operand);
  const test = comparator(op === 'ne' ? 'eq' : op, definition, value, name);
  // `ne` holds when no value is equal, so a user without the attribute matches `title ne "x"`.
  if (op === 'ne') return (subject) => !operand.values(subject).some(test);
  return (subject) => operand.values(subject).some(test);
}

/** `eq null` / `ne null` test for an unassigned / assigned attribute; ordering against null is meaningless. */
function compileNullComparison(op: CompareOperator, operand: Operand): Predicate {
  if (op === 'eq') return (subject) => operand.values(subject).length === 0;
  if (op === 'ne') return (subject) => operand.values(subject).length > 0;
  throw scimErrors.invalidFilter(`'${op}' cannot compare '${operand.name}' with null`);
}

type Test = (actual: unknown) => boolean;

function comparator(op: CompareOperator, definition: AttributeDefinition, value: Exclude<CompareValue, null>, name: string): Test {
  switch (definition.type) {
    case 'boolean':
      return booleanComparator(op, value, name);
    case 'integer':
    case 'decimal':
      return numberComparator(op, value, name);
    case 'dateTime':
      return dateTimeComparator(op, value, name);
    case 'complex':
      throw scimErrors.invalidFilter(`'${name}' is complex: compare one of its sub-attributes instead`);
    default:
      return stringComparator(op, String(value), definition.caseExact);
  }
}

const SUBSTRING: ReadonlySet<CompareOperator> = new Set(['co', 'sw', 'ew']);

function ordered(op: CompareOperator, difference: number): boolean {
  if (op === 'gt') return difference > 0;
  if (op === 'ge') return difference >= 0;
  if (op === 'lt') return difference < 0;
  if (op === 'le') return difference <= 0;
  return difference === 0;
}

/** RFC 7644 section 3.4.2.2: strings compare per the attribute's caseExact; gt/lt are lexicographical. */
function stringComparator(op: CompareOperator, expected: string, caseExact: boolean): Test {
  // Case-insensitive comparison also ignores the Unicode normal form (NFC vs NFD), as the uniqueness keys do.
  const normalise = (text: string) => (caseExact ? text : text.normalize('NFC').toLowerCase());
  const wanted = normalise(expected);
  return (actual) => {
    if (typeof actual !== 'string') return false;
    const have = normalise(actual);
    if (op === 'co') return have.includes(wanted);
    if (op === 'sw') return have.startsWith(wanted);
    if (op === 'ew') return have.endsWith(wanted);
    return ordered(op, have < wanted ? -1 : have > wanted ? 1 : 0);
  };
}

/** RFC 7644 section 3.4.2.2: booleans support only equality; gt/ge/lt/le on them is invalidFilter. */
function booleanComparator(op: CompareOperator, value: Exclude<CompareValue, null>, name: string): Test {
  if (op !== 'eq') throw scimErrors.invalidFilter(`'${op}' is not supported on the boolean attribute '${name}'`);
  const expected = typeof value === 'string' ? parseBooleanText(value) : value;
  if (typeof expected !== 'boolean') throw scimErrors.invalidFilter(`'${name}' is boolean; compare it with true or false`);
  return (actual) => actual === expected;
}

function numberComparator(op: CompareOperator, value: Exclude<CompareValue, null>, name: string): Test {
  if (SUBSTRING.has(op)) throw scimErrors.invalidFilter(`'${op}' is not supported on the numeric attribute '${name}'`);
  const expected = typeof value === 'string' && JSON_NUMBER.test(value) ? Number(value) : value;
  if (typeof expected !== 'number' || Number.isNaN(expected)) {
    throw scimErrors.invalidFilter(`'${name}' is numeric; compare it with a number`);
  }
  return (actual) => typeof actual === 'number' && ordered(op, actual - expected);
}

/** RFC 7644 section 3.4.2.2: dateTime ordering is chronological; co/sw/ew work on its text. */
function dateTimeComparator(op: CompareOperator, value: Exclude<CompareValue, null>, name: string): Test {
  if (SUBSTRING.has(op)) return stringComparator(op, String(value), false);
  const expected = parseDateTime(value);
  if (expected === undefined) throw scimErrors.invalidFilter(`'${String(value)}' is not a dateTime, which '${name}' is`);
  return (actual) => {
    const time = parseDateTime(actual);
    return time !== undefined && ordered(op, time - expected);
  };
}
