/**
 * SCIM PATCH, RFC 7644 section 3.5.2: validating the PatchOp message and applying its operations to
 * a resource, plus splitting Group membership changes out of a PatchOp (members live outside the
 * group item in the store).
 *
 * Emit strictly, accept what real clients send: op names in any case (`Replace`), path-less values
 * whose keys are paths (`name.givenName`, URN-qualified enterprise attributes), `"False"` strings
 * for booleans, `manager` as a bare id, echoed `id`/`meta`/`schemas`, member removal both as a
 * value list (Entra ID) and as `members[value eq "id"]` (Okta, RFC).
 */
import * as z from 'zod';
import { assertSinglePrimary, coerceAttributeValue, coerceSingle } from './coerce.ts';
import { scimErrors } from './errors.ts';
import { compileValueFilter, type FilterNode } from './filter.ts';
import {
  cloneJson,
  deepEqual,
  deleteIgnoringCase,
  findKey,
  getIgnoringCase,
  isPlainObject,
  isUnassigned,
  type JsonObject,
  normalizeUniqueNames,
  setIgnoringCase,
} from './json.ts';
import { parsePath } from './path.ts';
import {
  type AttributeDefinition,
  findExtension,
  findSubAttribute,
  type ResolvedAttribute,
  type ResourceTypeRef,
  resolveAttribute,
  resourceTypeOf,
} from './schemas.ts';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export type PatchOperationName = 'add' | 'remove' | 'replace';

export interface PatchOperation {
  readonly op: PatchOperationName;
  readonly path?: string;
  readonly value?: unknown;
}

/** Message attribute names are case-insensitive like all SCIM attribute names (RFC 7643 section 2.1). */
const withCanonicalKeys =
  (names: readonly string[]) =>
  (input: unknown): unknown => {
    if (!isPlainObject(input)) return input;
    return Object.fromEntries(Object.entries(input).map(([key, value]) => [names.find((name) => name.toLowerCase() === key.toLowerCase()) ?? key, value]));
  };

const PatchOperationSchema = z.preprocess(
  withCanonicalKeys(['op', 'path', 'value']),
  z.object({
    // Entra ID sends "Add", "Replace", "Remove".
    op: z
      .string()
      .transform((op) => op.toLowerCase())
      .pipe(z.enum(['add', 'remove', 'replace'])),
    path: z.string().nullish(),
    value: z.unknown().optional(),
  }),
);

const PatchSchemasSchema = z.array(z.string()).refine((schemas) => schemas.some((schema) => schema.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase()), {
  message: `must contain ${PATCH_OP_SCHEMA}`,
});

const patchRequestSchema = (requireSchemas: boolean) =>
  z.preprocess(
    withCanonicalKeys(['schemas', 'Operations']),
    z.object({
      // authentik renames a group with a PatchOp that has no `schemas`; a `schemas` that is sent must be right.
      schemas: requireSchemas ? PatchSchemasSchema : PatchSchemasSchema.optional(),
      Operations: z.array(PatchOperationSchema),
    }),
  );

const PATCH_REQUEST = { strict: patchRequestSchema(true), lenient: patchRequestSchema(false) };

export interface PatchRequestOptions {
  /**
   * RFC 7644 section 3.5.2 makes the PatchOp `schemas` REQUIRED. A strict token keeps that rule;
   * otherwise a body without `schemas` is accepted.
   */
  readonly requireSchemas: boolean;
}

/** Validates a PatchOp request body (RFC 7644 section 3.5.2); anything malformed is `invalidSyntax`. */
export function parsePatchRequest(body: unknown, options: PatchRequestOptions = { requireSchemas: true }): PatchOperation[] {
  const parsed = (options.requireSchemas ? PATCH_REQUEST.strict : PATCH_REQUEST.lenient).safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw scimErrors.invalidSyntax(`Invalid PatchOp request: ${where}${issue?.message ?? 'malformed'}`);
  }
  return parsed.data.Operations.map(({ op, path, value }, index) => {
    // RFC 7644 sections 3.5.2.1 and 3.5.2.3: add and replace MUST carry a value.
    if (op !== 'remove' && value === undefined) {
      throw scimErrors.invalidSyntax(`Invalid PatchOp request: Operations.${index}: '${op}' needs a value`);
    }
    return { op, ...(path == null ? {} : { path }), ...(value === undefined ? {} : { value }) };
  });
}

export interface PatchResult {
  /** A new object; the input resource is never modified. */
  readonly resource: Record<string, unknown>;
  /** True when the resource or the password changed; an idempotent PATCH reports false. */
  readonly changed: boolean;
  /** A cleartext password the PATCH sets. It is never written into `resource`: hash it, then drop it. */
  readonly password?: string;
}

interface PatchState {
  readonly resourceType: ResourceTypeRef;
  readonly doc: JsonObject;
  password?: string;
}

/** Applies PATCH operations, in order, to a copy of `resource` (RFC 7644 section 3.5.2). */
export function applyPatch(resource: Record<string, unknown>, operations: readonly PatchOperation[], resourceType: ResourceTypeRef): PatchResult {
  const state: PatchState = { resourceType, doc: cloneJson(resource) };
  for (const operation of operations) applyOperation(state, operation);
  const typeName = resourceTypeOf(resourceType).name;
  if (typeName === 'User' || typeName === 'Group') normalizeUniqueNames(state.doc, typeName);
  syncSchemas(state.doc, resourceType);
  assertRequiredKept(resource, state.doc, resourceType);
  const changed = state.password !== undefined || !deepEqual(resource, state.doc);
  return { resource: state.doc, changed, ...(state.password === undefined ? {} : { password: state.password }) };
}

function applyOperation(state: PatchState, { op, path, value }: PatchOperation): void {
  const extension = path === undefined ? undefined : findExtension(state.resourceType, path.trim());
  if (path === undefined) applyWithoutPath(state, op, value);
  else if (extension !== undefined) applyToExtension(state, op, extension.id, value);
  else applyAtPath(state, op, path, value);
}

/** Clients echo these when they send a whole resource as a path-less value; the server owns them. */
const ECHOED = new Set(['schemas', 'id', 'meta']);

function applyWithoutPath(state: PatchState, op: PatchOperationName, value: unknown): void {
  if (op === 'remove') throw scimErrors.noTarget('A remove operation needs a path (RFC 7644 section 3.5.2.2)');
  if (!isPlainObject(value)) throw scimErrors.invalidValue(`An ${op} without a path needs an object of attributes as its value`);
  // RFC 7644 section 3.5.2.1: without a path the value's attributes are applied one by one; their
  // names may be full paths (`name.givenName`, `urn:...:enterprise:2.0:User:department`).
  for (const [key, item] of Object.entries(value)) {
    if (ECHOED.has(key.toLowerCase())) continue;
    const extension = findExtension(state.resourceType, key);
    if (extension === undefined) applyAtPath(state, op, key, item);
    else applyToExtension(state, op, extension.id, item);
  }
}

function applyToExtension(state: PatchState, op: PatchOperationName, urn: string, value: unknown): void {
  if (op === 'remove') {
    deleteIgnoringCase(state.doc, urn);
    return;
  }
  if (!isPlainObject(value)) throw scimErrors.invalidValue(`The value of '${urn}' must be an object of its attributes`);
  // Some clients send the extension object with its own `schemas` list; the server sets `schemas`.
  for (const [key, item] of Object.entries(value)) if (key.toLowerCase() !== 'schemas') applyAtPath(state, op, `${urn}:${key}`, item);
}

/** Where an operation writes: the object holding the attribute (the resource or its extension object). */
interface Site {
  readonly container: JsonObject;
  readonly attribute: AttributeDefinition;
  readonly name: string;
}

function applyAtPath(state: PatchState, op: PatchOperationName, pathText: string, value: unknown): void {
  const path = parsePath(pathText);
  const target = resolveAttribute(state.resourceType, path);
  if (target === undefined) {
    throw scimErrors.invalidPath(`'${pathText}' is not an attribute of ${resourceTypeOf(state.resourceType).name}`);
  }
  assertWritable(target, pathText);
  if (target.extension === undefined && target.attribute.name === 'password') {
    setPassword(state, op, value);
    return;
  }
  if (path.valueFilter !== undefined && !(target.attribute.multiValued && target.attribute.type === 'complex')) {
    throw scimErrors.invalidPath(`'${pathText}': only multi-valued complex attributes take a value filter`);
  }
  const container = containerOf(state.doc, target, op !== 'remove');
  if (container === undefined) return;
  const site: Site = { container, attribute: target.attribute, name: pathText };
  if (path.valueFilter !== undefined) applyFiltered(site, op, path.valueFilter, target.subAttribute, value);
  else if (target.subAttribute !== undefined) applySubAttribute(site, op, target.subAttribute, value);
  else applyWhole(site, op, value);
  if (target.extension !== undefined && isUnassigned(container)) deleteIgnoringCase(state.doc, target.extension);
}

/** RFC 7643 section 2.2: readOnly attributes SHALL NOT be modified; naming one in a path is a client error. */
function assertWritable(target: ResolvedAttribute, name: string): void {
  if (target.attribute.mutability === 'readOnly' || target.subAttribute?.mutability === 'readOnly') {
    throw scimErrors.mutability(`'${name}' is read-only`);
  }
}

function setPassword(state: PatchState, op: PatchOperationName, value: unknown): void {
  if (op === 'remove') throw scimErrors.invalidValue('The password can be replaced but not removed');
  if (typeof value !== 'string' || value === '') throw scimErrors.invalidValue("'password' must be a non-empty string");
  state.password = value;
}

function containerOf(doc: JsonObject, target: ResolvedAttribute, create: boolean): JsonObject | undefined {
  if (target.extension === undefined) return doc;
  const current = getIgnoringCase(doc, target.extension);
  if (isPlainObject(current)) return current;
  if (!create) return undefined;
  const created: JsonObject = {};
  setIgnoringCase(doc, target.extension, created);
  return created;
}

// ---------------------------------------------------------------------------------------------
// Writing values

/**
 * Sets or clears one attribute or sub-attribute. RFC 7644 section 3.5.2: an immutable attribute
 * may be given a value when it has none, but never changed afterwards.
 */
function assign(target: JsonObject, definition: AttributeDefinition, value: unknown, name: string): void {
  const current = getIgnoringCase(target, definition.name);
  if (definition.mutability === 'immutable' && !isUnassigned(current) && !deepEqual(current, value)) {
    throw scimErrors.mutability(`'${name}' is immutable`);
  }
  if (value === undefined) deleteIgnoringCase(target, definition.name);
  else setIgnoringCase(target, definition.name, value);
}

function currentValues(site: Site): unknown[] {
  const current = getIgnoringCase(site.container, site.attribute.name);
  if (current === undefined || current === null) return [];
  return Array.isArray(current) ? [...current] : [current];
}

/** PATCH may add a single value to a multi-valued attribute without wrapping it in an array. */
function coerceValues(site: Site, value: unknown): unknown[] {
  const list = Array.isArray(value) ? value : [value];
  return (coerceAttributeValue(site.attribute, list, site.name, []) as unknown[] | undefined) ?? [];
}

/**
 * Writes a multi-valued attribute back, dropping emptied values. RFC 7643 section 2.4: when a
 * written value is primary, every other value stops being primary.
 */
function store(site: Site, records: unknown[], written: readonly unknown[]): void {
  const primaries = written.filter((record) => isPlainObject(record) && record.primary === true);
  assertSinglePrimary(primaries, site.name);
  for (const record of records) {
    if (isPlainObject(record) && record.primary === true && !primaries.includes(record) && primaries.length > 0) {
      record.primary = false;
    }
  }
  const kept = records.filter((record) => !isUnassigned(record));
  if (kept.length === 0) deleteIgnoringCase(site.container, site.attribute.name);
  else setIgnoringCase(site.container, site.attribute.name, kept);
}

function applyWhole(site: Site, op: PatchOperationName, value: unknown): void {
  const { attribute, container, name } = site;
  if (op === 'remove' && attribute.multiValued && !isUnassigned(value)) removeListed(site, value);
  else if (op === 'remove') assign(container, attribute, undefined, name);
  else if (attribute.multiValued && op === 'add') appendValues(site, value);
  else if (attribute.multiValued) replaceValues(site, value);
  else if (attribute.type === 'complex') mergeComplex(site, value);
  else assign(container, attribute, coerceSingle(attribute, value, name, []), name);
}

/** RFC 7644 section 3.5.2.1: add appends to a multi-valued attribute; a value already there is not added twice. */
function appendValues(site: Site, value: unknown): void {
  const records = currentValues(site);
  const written = coerceValues(site, value).filter((item) => !records.some((record) => deepEqual(record, item)));
  store(site, [...records, ...written], written);
}

/** RFC 7644 section 3.5.2.3: replace without a filter replaces the whole set. */
function replaceValues(site: Site, value: unknown): void {
  const records = coerceValues(site, value);
  store(site, records, records);
}

/**
 * Entra ID removes values of a multi-valued attribute by listing them in `value` (not in the RFC,
 * which uses a filter). A listed value matches a stored one by its `value` sub-attribute, or exactly.
 */
function removeListed(site: Site, value: unknown): void {
  const targets = coerceValues(site, value);
  const valueSub = findSubAttribute(site.attribute, 'value');
  const same = (record: unknown, target: unknown): boolean => {
    const [left, right] = [getIgnoringCase(record, 'value'), getIgnoringCase(target, 'value')];
    if (valueSub === undefined || left === undefined || right === undefined) return deepEqual(record, target);
    return valueSub.caseExact ? left === right : String(left).toLowerCase() === String(right).toLowerCase();
  };
  store(
    site,
    currentValues(site).filter((record) => !targets.some((target) => same(record, target))),
    [],
  );
}

/** RFC 7644 sections 3.5.2.1 and 3.5.2.3: sub-attributes given for a complex attribute are merged; others stay. */
function mergeComplex(site: Site, value: unknown): void {
  const { attribute, container, name } = site;
  const coerced = coerceSingle(attribute, value, name, []) as JsonObject | undefined;
  if (coerced === undefined) {
    assign(container, attribute, undefined, name);
    return;
  }
  const current = getIgnoringCase(container, attribute.name);
  const merged: JsonObject = isPlainObject(current) ? current : {};
  for (const [key, item] of Object.entries(coerced)) {
    assign(merged, findSubAttribute(attribute, key)!, item, `${name}.${key}`);
  }
  setIgnoringCase(container, attribute.name, merged);
}

/** `name.givenName`, `emails.type`: the sub-attribute of a single complex value, or of every value. */
function applySubAttribute(site: Site, op: PatchOperationName, sub: AttributeDefinition, value: unknown): void {
  const { attribute, container, name } = site;
  const newValue = op === 'remove' ? undefined : coerceSingle(sub, value, name, []);
  if (!attribute.multiValued) {
    const current = getIgnoringCase(container, attribute.name);
    const record: JsonObject = isPlainObject(current) ? current : {};
    assign(record, sub, newValue, name);
    if (isUnassigned(record)) deleteIgnoringCase(container, attribute.name);
    else setIgnoringCase(container, attribute.name, record);
    return;
  }
  const records = currentValues(site).filter(isPlainObject);
  if (records.length === 0 && newValue !== undefined) records.push({});
  for (const record of records) assign(record, sub, newValue, name);
  store(site, records, newValue === undefined ? [] : records);
}

// ---------------------------------------------------------------------------------------------
// Value paths: `emails[type eq "work"]`, `emails[type eq "work"].value`

function applyFiltered(site: Site, op: PatchOperationName, filter: FilterNode, sub: AttributeDefinition | undefined, value: unknown): void {
  const records = currentValues(site);
  const matched = records.filter(compileValueFilter(filter, site.attribute)) as JsonObject[];
  // RFC 7644 section 3.5.2.3: a replace whose filter matches nothing fails with noTarget.
  if (op === 'replace' && matched.length === 0) {
    throw scimErrors.noTarget(`No value of '${site.attribute.name}' matches '${site.name}'`);
  }
  if (op === 'remove') removeMatched(site, records, matched, sub);
  else if (matched.length === 0) addSeeded(site, records, filter, sub, value);
  else if (sub !== undefined) setOnMatched(site, records, matched, sub, value);
  else if (op === 'add') mergeIntoMatched(site, records, matched, value);
  else replaceMatched(site, records, matched, value);
}

/**
 * RFC 7644 section 3.5.2.2: removes the matching values, or their sub-attribute. Matching nothing
 * is not an error: removing a member that is already gone must succeed for IdPs to converge.
 */
function removeMatched(site: Site, records: unknown[], matched: JsonObject[], sub: AttributeDefinition | undefined): void {
  if (sub === undefined) {
    store(
      site,
      records.filter((record) => !matched.includes(record as JsonObject)),
      [],
    );
    return;
  }
  for (const record of matched) assign(record, sub, undefined, site.name);
  store(site, records, []);
}

/** RFC 7644 section 3.5.2.3: the matching sub-attribute of all matching values is replaced. */
function setOnMatched(site: Site, records: unknown[], matched: JsonObject[], sub: AttributeDefinition, value: unknown): void {
  const newValue = coerceSingle(sub, value, site.name, []);
  for (const record of matched) assign(record, sub, newValue, site.name);
  store(site, records, matched);
}

/** RFC 7644 section 3.5.2.3: all matching values are replaced; immutable sub-attributes must not change. */
function replaceMatched(site: Site, records: unknown[], matched: JsonObject[], value: unknown): void {
  const replacement = coerceSingle(site.attribute, value, site.name, []) as JsonObject | undefined;
  const written: JsonObject[] = [];
  const next = records.map((record) => {
    if (!matched.includes(record as JsonObject)) return record;
    assertImmutablesKept(site, record as JsonObject, replacement ?? {});
    const copy = cloneJson(replacement ?? {});
    written.push(copy);
    return copy;
  });
  store(site, next, written);
}

function assertImmutablesKept(site: Site, before: JsonObject, after: JsonObject): void {
  for (const sub of site.attribute.subAttributes ?? []) {
    const old = getIgnoringCase(before, sub.name);
    if (sub.mutability === 'immutable' && !isUnassigned(old) && !deepEqual(old, getIgnoringCase(after, sub.name))) {
      throw scimErrors.mutability(`'${site.attribute.name}.${sub.name}' is immutable`);
    }
  }
}

/** An add through a filter that matches: the value's sub-attributes are merged into each matching value. */
function mergeIntoMatched(site: Site, records: unknown[], matched: JsonObject[], value: unknown): void {
  const addition = coerceSingle(site.attribute, value, site.name, []) as JsonObject | undefined;
  for (const record of matched) mergeRecord(site, record, addition ?? {});
  store(site, records, matched);
}

function mergeRecord(site: Site, record: JsonObject, addition: JsonObject): void {
  for (const [key, item] of Object.entries(addition)) {
    assign(record, findSubAttribute(site.attribute, key)!, item, `${site.name}.${key}`);
  }
}

/**
 * An add through a filter that matches nothing creates the value the filter describes. Entra ID
 * sends `add emails[type eq "work"].value` for a user without a work email and expects one to
 * appear, in line with RFC 7644 section 3.5.2.1 ("If the target location does not exist, the
 * attribute and value are added"). Only an equality (or an `and` of equalities) describes a value.
 */
function addSeeded(site: Site, records: unknown[], filter: FilterNode, sub: AttributeDefinition | undefined, value: unknown): void {
  const record = seedFromFilter(filter, site.attribute);
  if (record === undefined) {
    throw scimErrors.noTarget(`No value of '${site.attribute.name}' matches '${site.name}', and its filter does not describe a new one`);
  }
  if (sub === undefined) mergeRecord(site, record, (coerceSingle(site.attribute, value, site.name, []) as JsonObject | undefined) ?? {});
  else assign(record, sub, coerceSingle(sub, value, site.name, []), site.name);
  store(site, [...records, record], [record]);
}

function seedFromFilter(filter: FilterNode, attribute: AttributeDefinition): JsonObject | undefined {
  if (filter.op === 'and') {
    const [left, right] = [seedFromFilter(filter.left, attribute), seedFromFilter(filter.right, attribute)];
    return left === undefined || right === undefined ? undefined : { ...left, ...right };
  }
  if (filter.op !== 'eq' || filter.value === null) return undefined;
  // compileValueFilter has already rejected paths that are not sub-attributes of `attribute`.
  const sub = findSubAttribute(attribute, filter.path.attribute)!;
  return { [sub.name]: coerceSingle(sub, filter.value, `${attribute.name}.${sub.name}`, []) };
}

// ---------------------------------------------------------------------------------------------
// After all operations

/** `schemas` lists the core schema and every extension the resource has data for (RFC 7643 section 3). */
function syncSchemas(doc: JsonObject, resourceType: ResourceTypeRef): void {
  const type = resourceTypeOf(resourceType);
  const present = type.schemaExtensions.map((extension) => extension.schema.id).filter((urn) => !isUnassigned(getIgnoringCase(doc, urn)));
  const wanted = [type.schema.id, ...present];
  const current = doc.schemas;
  const same =
    Array.isArray(current) &&
    current.length === wanted.length &&
    wanted.every((urn) => current.some((item) => typeof item === 'string' && item.toLowerCase() === urn.toLowerCase()));
  if (!same) doc.schemas = wanted;
}

/** RFC 7644 section 3.5.2: a required attribute that a PATCH leaves unassigned is a `mutability` error. */
function assertRequiredKept(before: JsonObject, after: JsonObject, resourceType: ResourceTypeRef): void {
  const blank = (value: unknown) => isUnassigned(value) || value === '';
  for (const definition of resourceTypeOf(resourceType).schema.attributes) {
    if (definition.required && !blank(getIgnoringCase(before, definition.name)) && blank(getIgnoringCase(after, definition.name))) {
      throw scimErrors.mutability(`'${definition.name}' is required and cannot be removed`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Group membership

export type MemberChange =
  | { readonly kind: 'add'; readonly ids: string[] }
  | { readonly kind: 'remove'; readonly ids: string[] }
  | { readonly kind: 'removeAll' }
  | { readonly kind: 'replace'; readonly ids: string[] };

export interface MemberOperations {
  /** The membership changes, in request order. */
  readonly memberChanges: MemberChange[];
  /** The operations left for the group item itself, for `applyPatch`. */
  readonly rest: PatchOperation[];
}

/**
 * Splits a Group PatchOp into membership changes and the rest. Handles every shape IdPs send:
 * `add`/`replace` with path `members` or a path-less `{ members: [...] }`, `remove` with path
 * `members` and a value list (Entra ID), `remove` with `members[value eq "id"]` (Okta, RFC 7644
 * section 3.5.2.2), and `remove` of `members` without a value (remove all).
 */
export function extractMemberOperations(operations: readonly PatchOperation[]): MemberOperations {
  const memberChanges: MemberChange[] = [];
  const rest: PatchOperation[] = [];
  for (const operation of operations) {
    const split = operation.path === undefined ? splitPathless(operation) : splitWithPath(operation, operation.path);
    if (split.change !== undefined) memberChanges.push(split.change);
    if (split.rest !== undefined) rest.push(split.rest);
  }
  return { memberChanges, rest };
}

interface Split {
  readonly change?: MemberChange;
  readonly rest?: PatchOperation;
}

function splitPathless(operation: PatchOperation): Split {
  const { op, value } = operation;
  const key = op !== 'remove' && isPlainObject(value) ? findKey(value, 'members') : undefined;
  if (key === undefined || !isPlainObject(value)) return { rest: operation };
  const { [key]: members, ...others } = value;
  const ids = memberIds(members);
  return {
    ...(op === 'replace' || ids.length > 0 ? { change: { kind: op === 'add' ? 'add' : 'replace', ids } } : {}),
    ...(Object.keys(others).length > 0 ? { rest: { ...operation, value: others } } : {}),
  };
}

function splitWithPath(operation: PatchOperation, pathText: string): Split {
  const path = parsePath(pathText);
  if (path.schema !== undefined || path.attribute.toLowerCase() !== 'members') return { rest: operation };
  if (path.valueFilter !== undefined && operation.op === 'remove' && path.subAttribute === undefined) {
    return { change: { kind: 'remove', ids: idsFromFilter(path.valueFilter) } };
  }
  if (path.valueFilter !== undefined || path.subAttribute !== undefined) {
    throw scimErrors.invalidPath(`'${pathText}': members are added, removed or replaced as whole values`);
  }
  if (operation.op === 'remove' && isUnassigned(operation.value)) return { change: { kind: 'removeAll' } };
  const ids = memberIds(operation.value);
  if (operation.op === 'replace') return { change: { kind: 'replace', ids } };
  return ids.length === 0 ? {} : { change: { kind: operation.op, ids } };
}

/** `members[value eq "a" or value eq "b"]`: only selection by id can be turned into a store operation. */
function idsFromFilter(filter: FilterNode): string[] {
  if (filter.op === 'or') return [...idsFromFilter(filter.left), ...idsFromFilter(filter.right)];
  const byValue =
    filter.op === 'eq' &&
    filter.path.schema === undefined &&
    filter.path.subAttribute === undefined &&
    filter.path.attribute.toLowerCase() === 'value' &&
    (typeof filter.value === 'string' || typeof filter.value === 'number');
  if (!byValue) throw scimErrors.invalidFilter('Members can only be selected by id, as in members[value eq "id"]');
  return [String(filter.value)];
}

/** Member ids from `[{ value: "id", "$ref": null, display: ... }, ...]`; a bare id string is accepted too. */
function memberIds(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  const ids = items.map((item) => {
    const id = typeof item === 'string' ? item : getIgnoringCase(item, 'value');
    if (typeof id !== 'string' || id.trim() === '') {
      throw scimErrors.invalidValue("Each member needs a 'value': the id of the member");
    }
    return id;
  });
  return [...new Set(ids)];
}
