/**
 * SCIM filters, RFC 7644 section 3.4.2.2: a parser to an AST, an evaluator with the RFC's matching
 * rules, and an index planner for the store.
 *
 * Our own small recursive-descent parser rather than an npm SCIM filter package: those mis-handle
 * URN-qualified attribute paths (whose URNs contain both ':' and '.') and give no AST we can use to
 * plan index lookups.
 *
 * Grammar accepted (precedence not > and > or, all keywords case-insensitive):
 *
 *     filter   = or
 *     or       = and *("or" and)
 *     and      = unary *("and" unary)
 *     unary    = "not" unary / primary
 *     primary  = "(" filter ")" / attrPath "[" filter "]" / attrPath "pr" / attrPath compareOp compValue
 *
 * Two leniencies beyond the RFC's ABNF, both for real clients: `not` may be followed by any
 * expression, not only a parenthesised one; and a compValue may be a bare word (`externalId eq
 * jyoung`), which Microsoft documents and its reference test suite sends (`userName sw O`,
 * `meta.created gt 2015-10-10T14:38:21.8617979-07:00`). A bare word is `true`, `false`, `null`, a
 * JSON number that survives a round trip, or else a string.
 */
import { formatAttributeName, parseAttributeName } from './attribute-name.ts';
import { parseBooleanText, parseDateTime } from './coerce.ts';
import { scimErrors } from './errors.ts';
import { getIgnoringCase, isPlainObject, type JsonObject } from './json.ts';
import { type AttributeDefinition, findSubAttribute, type ResourceTypeRef, resolveAttribute, resourceTypeOf } from './schemas.ts';
import type { AttributePath, CompareOperator, CompareValue, FilterNode } from './scim.types.ts';

export type { CompareOperator, CompareValue, FilterNode } from './scim.types.ts';

const COMPARE_OPERATORS: readonly CompareOperator[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
const KEYWORDS = new Set(['and', 'or', 'not']);
/** Bound recursion on hostile input: ten thousand nested parentheses, or a chain of ten thousand `or`s. */
const MAX_DEPTH = 50;
const MAX_COMPARISONS = 1000;

// ---------------------------------------------------------------------------------------------
// Tokenizer

type Token =
  | { readonly kind: '(' | ')' | '[' | ']'; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'word'; readonly text: string; readonly at: number };

const PUNCTUATION = new Set(['(', ')', '[', ']']);
const WORD_END = /[\s()[\]"]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (/\s/.test(char)) {
      index += 1;
    } else if (PUNCTUATION.has(char)) {
      tokens.push({ kind: char as '(' | ')' | '[' | ']', at: index });
      index += 1;
    } else if (char === '"') {
      const end = endOfString(text, index);
      tokens.push({ kind: 'string', value: decodeString(text.slice(index, end), index), at: index });
      index = end;
    } else {
      let end = index + 1;
      while (end < text.length && !WORD_END.test(text[end] as string)) end += 1;
      tokens.push({ kind: 'word', text: text.slice(index, end), at: index });
      index = end;
    }
  }
  return tokens;
}

/** The index just past the closing quote of the string literal opening at `start`. */
function endOfString(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index += 1) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === '"') return index + 1;
  }
  throw scimErrors.invalidFilter(`The string starting at character ${start + 1} is not closed with '"'`);
}

/** RFC 7644 section 3.4.2.2: string values are JSON strings (RFC 7159 section 7), escapes included. */
function decodeString(literal: string, start: number): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    throw scimErrors.invalidFilter(`The string starting at character ${start + 1} has an invalid escape sequence`);
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

const describe = (token: Token | undefined): string => {
  if (token === undefined) return 'the end of the filter';
  if (token.kind === 'word') return `'${token.text}' at character ${token.at + 1}`;
  if (token.kind === 'string') return `the string at character ${token.at + 1}`;
  return `'${token.kind}' at character ${token.at + 1}`;
};

const isKeyword = (token: Token | undefined, keyword: string): boolean =>
  token?.kind === 'word' && token.text.toLowerCase() === keyword;

class Parser {
  private index = 0;
  private depth = 0;
  private comparisons = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(insideValuePath: boolean): FilterNode {
    if (this.tokens.length === 0) throw scimErrors.invalidFilter('The filter is empty');
    const node = this.parseOr(insideValuePath);
    const rest = this.peek();
    if (rest !== undefined) throw scimErrors.invalidFilter(`Unexpected ${describe(rest)}`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(): Token | undefined {
    const token = this.tokens[this.index];
    this.index += 1;
    return token;
  }

  private parseOr(inside: boolean): FilterNode {
    let left = this.parseAnd(inside);
    while (isKeyword(this.peek(), 'or')) {
      this.next();
      left = { op: 'or', left, right: this.parseAnd(inside) };
    }
    return left;
  }

  private parseAnd(inside: boolean): FilterNode {
    let left = this.parseUnary(inside);
    while (isKeyword(this.peek(), 'and')) {
      this.next();
      left = { op: 'and', left, right: this.parseUnary(inside) };
    }
    return left;
  }

  private parseUnary(inside: boolean): FilterNode {
    this.enter();
    try {
      if (!isKeyword(this.peek(), 'not')) return this.parsePrimary(inside);
      this.next();
      return { op: 'not', filter: this.parseUnary(inside) };
    } finally {
      this.depth -= 1;
    }
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) throw scimErrors.invalidFilter(`The filter is nested more than ${MAX_DEPTH} levels deep`);
  }

  private parsePrimary(inside: boolean): FilterNode {
    const token = this.next();
    if (token?.kind === '(') {
      const node = this.parseOr(inside);
      this.expect(')', `to close the '(' at character ${token.at + 1}`);
      return node;
    }
    if (token?.kind !== 'word' || KEYWORDS.has(token.text.toLowerCase())) {
      throw scimErrors.invalidFilter(`Expected an attribute path or '(' but found ${describe(token)}`);
    }
    return this.parseAttributeExpression(token.text, inside);
  }

  private expect(kind: ')' | ']', purpose: string): void {
    const token = this.next();
    if (token?.kind !== kind) throw scimErrors.invalidFilter(`Expected '${kind}' ${purpose} but found ${describe(token)}`);
  }

  private parseAttributeExpression(pathText: string, inside: boolean): FilterNode {
    this.comparisons += 1;
    if (this.comparisons > MAX_COMPARISONS) {
      throw scimErrors.invalidFilter(`The filter has more than ${MAX_COMPARISONS} comparisons`);
    }
    const path = parseAttributeName(pathText, scimErrors.invalidFilter);
    if (this.peek()?.kind === '[') return this.parseValuePath(path, pathText, (this.next() as Token).at, inside);
    return this.parseComparison(path, pathText);
  }

  private parseComparison(path: AttributePath, pathText: string): FilterNode {
    const token = this.next();
    const operator = token?.kind === 'word' ? token.text.toLowerCase() : undefined;
    if (operator === 'pr') return { op: 'pr', path };
    if (!COMPARE_OPERATORS.includes(operator as CompareOperator)) {
      throw scimErrors.invalidFilter(`Expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after '${pathText}' but found ${describe(token)}`);
    }
    return { op: operator as CompareOperator, path, value: this.parseValue(operator as string) };
  }

  private parseValuePath(path: AttributePath, pathText: string, at: number, inside: boolean): FilterNode {
    // RFC 7644 section 3.4.2.2: valFilter has no valuePath of its own.
    if (inside) throw scimErrors.invalidFilter(`Value filters cannot be nested ('[' at character ${at + 1})`);
    if (path.subAttribute !== undefined) {
      throw scimErrors.invalidFilter(`A value filter must follow an attribute, not the sub-attribute '${pathText}'`);
    }
    const filter = this.parseOr(true);
    this.expect(']', `to close the '[' at character ${at + 1}`);
    const tail = this.peek();
    if (tail?.kind !== 'word' || !tail.text.startsWith('.')) return { op: 'valuePath', path, filter };
    // `emails[type eq "work"].value eq "a@b.c"` (Entra ID checks uniqueness this way): a value path
    // followed by a sub-attribute and a comparison, which means one value satisfying both, i.e.
    // `emails[type eq "work" and value eq "a@b.c"]`.
    this.next();
    const subName = tail.text.slice(1);
    const sub = parseAttributeName(subName, scimErrors.invalidFilter);
    if (sub.subAttribute !== undefined) throw scimErrors.invalidFilter(`'${pathText}[...]${tail.text}' names a sub-attribute of a sub-attribute`);
    const comparison = this.parseComparison(sub, `${pathText}[...]${tail.text}`);
    return { op: 'valuePath', path, filter: { op: 'and', left: filter, right: comparison } };
  }

  private parseValue(operator: string): CompareValue {
    const token = this.next();
    if (token?.kind === 'string') return token.value;
    if (token?.kind !== 'word' || KEYWORDS.has(token.text.toLowerCase())) {
      throw scimErrors.invalidFilter(`Expected a value after '${operator}' but found ${describe(token)}`);
    }
    return bareWordValue(token.text);
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function bareWordValue(text: string): CompareValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  // A number that does not print back the same (e.g. a 20-digit employee id) stays a string.
  if (JSON_NUMBER.test(text) && String(Number(text)) === text) return Number(text);
  return text;
}

/** Parses a filter expression; every malformation raises `invalidFilter` saying what is wrong. */
export function parseFilter(text: string): FilterNode {
  return new Parser(tokenize(text)).parseAll(false);
}

/** Parses the filter between the brackets of a value path, where brackets may not nest. */
export function parseValueFilter(text: string): FilterNode {
  return new Parser(tokenize(text)).parseAll(true);
}

// ---------------------------------------------------------------------------------------------
// Evaluation

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
        throw scimErrors.invalidFilter(`'${formatAttributeName(node.path)}' is not an attribute of ${resourceTypes.map((type) => resourceTypeOf(type).name).join(' or ')}`);
      }
  }
}

const isUnknown = (path: AttributePath, resourceType: ResourceTypeRef): boolean => resolveAttribute(resourceType, path) === undefined;

/** An attribute read as never assigned: no values to compare, nothing present. */
const absentOperand = (name: string): Operand => ({
  name,
  definition: { name, type: 'string', multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', description: '' },
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

function compile(
  node: FilterNode,
  resolve: OperandResolver,
  valuePath: (path: AttributePath, filter: FilterNode) => Predicate,
): Predicate {
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
    const top = (subject: JsonObject): unknown =>
      getIgnoringCase(extension === undefined ? subject : getIgnoringCase(subject, extension), attribute.name);
    if (subAttribute !== undefined) {
      const values = (subject: JsonObject) =>
        assigned(asArray(top(subject)).map((item) => getIgnoringCase(item, subAttribute.name)));
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

// ---------------------------------------------------------------------------------------------
// Index planning

export type IndexedAttribute =
  | 'userName'
  | 'externalId'
  | 'id'
  | 'displayName'
  | 'emails.value'
  | 'members.value'
  | 'groups.value';

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
