/**
 * The `attributes` and `excludedAttributes` query parameters, RFC 7644 section 3.9, with the
 * `returned` characteristic of RFC 7643 section 7: `always` attributes are always returned,
 * `never` ones never, `request` ones only when named in `attributes`, `default` ones unless
 * `attributes` names others or `excludedAttributes` names them.
 *
 * Names may be sub-attributes (`name.givenName`, `emails.value`), URN-qualified
 * (`urn:...:enterprise:2.0:User:department`) or a whole extension URN. A value filter in a name
 * (`emails[type eq "work"]`, which Microsoft's test suite sends) selects the attribute; its values
 * are not filtered. Names that match no attribute select nothing and are not an error.
 */
import { ScimError } from './errors.ts';
import { cloneJson, findKey, getIgnoringCase, isPlainObject, isUnassigned, type JsonObject } from './json.ts';
import { parsePath } from './path.ts';
import { type AttributeDefinition, COMMON_ATTRIBUTES, findExtension, type ResourceTypeRef, resolveAttribute, resourceTypeOf } from './schemas.ts';

export interface ProjectionParams {
  readonly attributes?: readonly string[];
  readonly excludedAttributes?: readonly string[];
}

/** What one name in `attributes` or `excludedAttributes` selects. */
interface Selector {
  /** The extension URN, or undefined for core and common attributes. */
  readonly extension?: string;
  /** Undefined when the selector names a whole extension. */
  readonly attribute?: AttributeDefinition;
  readonly sub?: AttributeDefinition;
  /** A lowercased name this server has no schema for: it can only select an unknown extension object. */
  readonly opaque?: string;
}

/** How one attribute is returned: whole, or only some sub-attributes, minus excluded sub-attributes. */
interface Plan {
  readonly include: 'all' | readonly AttributeDefinition[];
  readonly exclude: readonly AttributeDefinition[];
}

function selectorOf(name: string, resourceType: ResourceTypeRef): Selector | undefined {
  const trimmed = name.trim();
  if (trimmed === '') return undefined;
  const extension = findExtension(resourceType, trimmed);
  if (extension !== undefined) return { extension: extension.id };
  const resolved = tryResolve(trimmed, resourceType);
  if (resolved === undefined) return { opaque: trimmed.toLowerCase() };
  return {
    ...(resolved.extension === undefined ? {} : { extension: resolved.extension }),
    attribute: resolved.attribute,
    ...(resolved.subAttribute === undefined ? {} : { sub: resolved.subAttribute }),
  };
}

function tryResolve(name: string, resourceType: ResourceTypeRef) {
  try {
    return resolveAttribute(resourceType, parsePath(name));
  } catch (error) {
    if (error instanceof ScimError) return undefined;
    throw error;
  }
}

/** An absent or empty list means "not given" (RFC 7644 section 3.9 defines no meaning for an empty one). */
function selectorsOf(names: readonly string[] | undefined, resourceType: ResourceTypeRef): Selector[] | undefined {
  if (names === undefined || names.length === 0) return undefined;
  return names.flatMap((name) => selectorOf(name, resourceType) ?? []);
}

function planFor(
  definition: AttributeDefinition,
  extension: string | undefined,
  include: readonly Selector[] | undefined,
  exclude: readonly Selector[],
): Plan | undefined {
  if (definition.returned === 'never') return undefined;
  if (definition.returned === 'always') return { include: 'all', exclude: [] };
  const matching = (selectors: readonly Selector[]) =>
    selectors.filter(
      (selector) =>
        selector.opaque === undefined && selector.extension === extension && (selector.attribute === undefined || selector.attribute === definition),
    );
  const subsOf = (selectors: readonly Selector[]) => selectors.flatMap((selector) => selector.sub ?? []);
  const excluded = matching(exclude);
  if (excluded.some((selector) => selector.sub === undefined)) return undefined;
  if (include === undefined) {
    return definition.returned === 'request' ? undefined : { include: 'all', exclude: subsOf(excluded) };
  }
  const included = matching(include);
  if (included.length === 0) return undefined;
  const whole = included.some((selector) => selector.sub === undefined);
  return { include: whole ? 'all' : subsOf(included), exclude: subsOf(excluded) };
}

function projectValue(definition: AttributeDefinition, value: unknown, plan: Plan): unknown {
  if (definition.type !== 'complex') return value;
  const projectRecord = (record: unknown): JsonObject | undefined => {
    const out: JsonObject = {};
    for (const sub of definition.subAttributes ?? []) {
      const item = getIgnoringCase(record, sub.name);
      const wanted = (plan.include === 'all' || plan.include.includes(sub)) && !plan.exclude.includes(sub);
      if (wanted && !isUnassigned(item)) out[sub.name] = item;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  };
  if (!definition.multiValued) return projectRecord(value);
  const records = (Array.isArray(value) ? value : [value]).flatMap((record) => projectRecord(record) ?? []);
  return records.length === 0 ? undefined : records;
}

/** Output order: `schemas`, `id`, `externalId`, core attributes, extensions, `meta`. */
const commonNamed = (names: readonly string[]) => names.map((name) => COMMON_ATTRIBUTES.find((definition) => definition.name === name)!);
const LEADING = commonNamed(['schemas', 'id', 'externalId']);
const TRAILING = commonNamed(['meta']);

/**
 * A new object with the attributes RFC 7644 section 3.9 says to return. Attributes outside the
 * schemas are dropped (we emit strictly), except objects under a schema URN that the resource
 * lists in its own `schemas` but this layer does not define (e.g. a hub-specific extension):
 * those pass through whole unless `attributes` omits or `excludedAttributes` names their URN.
 */
export function project(resource: Record<string, unknown>, params: ProjectionParams, resourceType: ResourceTypeRef): Record<string, unknown> {
  const include = selectorsOf(params.attributes, resourceType);
  const exclude = selectorsOf(params.excludedAttributes, resourceType) ?? [];
  const out: JsonObject = {};
  const emit = (container: unknown, definitions: readonly AttributeDefinition[], into: JsonObject, extension?: string) => {
    for (const definition of definitions) {
      const value = getIgnoringCase(container, definition.name);
      const plan = isUnassigned(value) ? undefined : planFor(definition, extension, include, exclude);
      const projected = plan === undefined ? undefined : projectValue(definition, value, plan);
      if (projected !== undefined) into[definition.name] = projected;
    }
  };
  const type = resourceTypeOf(resourceType);
  emit(resource, LEADING, out);
  emit(resource, type.schema.attributes, out);
  for (const { schema } of type.schemaExtensions) {
    const section: JsonObject = {};
    emit(getIgnoringCase(resource, schema.id), schema.attributes, section, schema.id);
    if (Object.keys(section).length > 0) out[schema.id] = section;
  }
  emitOpaqueExtensions(resource, resourceType, include, exclude, out);
  emit(resource, TRAILING, out);
  return cloneJson(out);
}

function emitOpaqueExtensions(
  resource: JsonObject,
  resourceType: ResourceTypeRef,
  include: readonly Selector[] | undefined,
  exclude: readonly Selector[],
  out: JsonObject,
): void {
  const type = resourceTypeOf(resourceType);
  const known = new Set([type.schema.id, ...type.schemaExtensions.map(({ schema }) => schema.id)].map((id) => id.toLowerCase()));
  const listed = Array.isArray(resource.schemas) ? resource.schemas : [];
  for (const urn of listed) {
    if (typeof urn !== 'string' || known.has(urn.toLowerCase())) continue;
    const key = findKey(resource, urn);
    const named = (selectors: readonly Selector[]) => selectors.some((selector) => selector.opaque === urn.toLowerCase());
    if (key === undefined || !isPlainObject(resource[key])) continue;
    if ((include === undefined || named(include)) && !named(exclude)) out[key] = resource[key];
  }
}

/**
 * Whether `project` would return the attribute `name` (optionally `attribute.sub`), so a store can
 * skip loading derived attributes nobody asked for, e.g. a group's members under
 * `excludedAttributes=members` (RFC 7644 section 3.9). Unknown names are never requested.
 */
export function isAttributeRequested(params: ProjectionParams, name: string, resourceType: ResourceTypeRef): boolean {
  const resolved = tryResolve(name, resourceType);
  if (resolved === undefined) return false;
  const include = selectorsOf(params.attributes, resourceType);
  const exclude = selectorsOf(params.excludedAttributes, resourceType) ?? [];
  const plan = planFor(resolved.attribute, resolved.extension, include, exclude);
  if (plan === undefined || resolved.subAttribute === undefined) return plan !== undefined;
  const sub = resolved.subAttribute;
  return (plan.include === 'all' || plan.include.includes(sub)) && !plan.exclude.includes(sub);
}
