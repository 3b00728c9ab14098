/**
 * Normalises a resource body a client sends to POST or PUT (RFC 7644 sections 3.3 and 3.5.1) into
 * the clean JSON the hub stores: only attributes the schemas define, under their canonical names,
 * with the types the schemas declare. The server owns `id`, `meta`, `schemas` and `groups`.
 */
import { coerceAttributeValue, coerceSingle } from './coerce.ts';
import { scimErrors } from './errors.ts';
import { getIgnoringCase, isPlainObject, isUnassigned, type JsonObject, normalizeUniqueNames } from './json.ts';
import {
  type AttributeDefinition,
  COMMON_ATTRIBUTES,
  findAttribute,
  findExtension,
  RESOURCE_TYPES,
  type ResourceTypeName,
  type SchemaDefinition,
} from './schemas.ts';

export interface NormalizeOptions {
  /** When true, attributes no schema defines are a 400 `invalidSyntax`; otherwise they are dropped and listed. */
  readonly strictUnknown: boolean;
}

export interface NormalizedResource {
  /** The clean resource, with `schemas` set by the server; never holds the password. */
  readonly resource: Record<string, unknown>;
  /** The cleartext password the client set (RFC 7643 section 4.1.1): hash it, never store it. */
  readonly password?: string;
  /** Paths of the attributes that were dropped because no schema defines them. */
  readonly unknownAttributes: string[];
}

/** Normalises a User body; a missing or empty `userName` is `invalidValue` (RFC 7643 section 4.1.1). */
export function normalizeUser(body: unknown, options: NormalizeOptions): NormalizedResource {
  return normalize(body, 'User', options);
}

/** Normalises a Group body; a missing `displayName` is `invalidValue`; every member needs a `value`. */
export function normalizeGroup(body: unknown, options: NormalizeOptions): NormalizedResource {
  const normalized = normalize(body, 'Group', options);
  const members = normalized.resource.members;
  if (Array.isArray(members) && members.some((member) => getIgnoringCase(member, 'value') === undefined)) {
    throw scimErrors.invalidValue("Each member needs a 'value': the id of the member");
  }
  return normalized;
}

interface Collected {
  readonly data: JsonObject;
  readonly unknown: string[];
  password?: string;
}

function normalize(body: unknown, resourceType: ResourceTypeName, options: NormalizeOptions): NormalizedResource {
  if (!isPlainObject(body)) throw scimErrors.invalidSyntax('The request body must be a JSON object');
  const type = RESOURCE_TYPES[resourceType];
  const collected: Collected = { data: {}, unknown: [] };
  for (const [key, value] of Object.entries(body)) collect(collected, resourceType, key, value);
  normalizeUniqueNames(collected.data, resourceType);
  assertRequired(collected.data, type.schema);
  if (options.strictUnknown && collected.unknown.length > 0) {
    throw scimErrors.invalidSyntax(`Attributes not defined by the ${resourceType} schemas: ${collected.unknown.join(', ')}`);
  }
  const extensions = type.schemaExtensions.map(({ schema }) => schema.id).filter((urn) => urn in collected.data);
  const resource = { schemas: [type.schema.id, ...extensions], ...collected.data };
  return {
    resource,
    ...(collected.password === undefined ? {} : { password: collected.password }),
    unknownAttributes: collected.unknown,
  };
}

function collect(collected: Collected, resourceType: ResourceTypeName, key: string, value: unknown): void {
  const extension = findExtension(resourceType, key);
  if (key.toLowerCase() === 'schemas') assertSchemas(value);
  else if (extension !== undefined) collectExtension(collected, extension, value);
  else collectAttribute(collected, resourceType, key, value);
}

function collectAttribute(collected: Collected, resourceType: ResourceTypeName, key: string, value: unknown): void {
  const definition = findAttribute(RESOURCE_TYPES[resourceType].schema.attributes, key) ?? findAttribute(COMMON_ATTRIBUTES, key);
  if (definition === undefined) {
    // Unknown attributes and data under unknown schema URNs (vendor extensions); an empty
    // `"http://schemas.microsoft.com/...:Group": {}` carries nothing and is not worth reporting.
    if (!isUnassigned(value)) collected.unknown.push(key);
    return;
  }
  // RFC 7644 section 3.3: readOnly attributes in a request (id, meta, groups) SHALL be ignored.
  if (definition.mutability === 'readOnly') return;
  if (definition.name === 'password') {
    collected.password = passwordOf(value);
    return;
  }
  put(collected.data, definition, coerceAttributeValue(definition, value, definition.name, collected.unknown));
}

/**
 * `schemas` is set by the server from the data present, so the client's list only has to be a
 * list of strings: unknown URNs (Microsoft's ADSCIM Group URN, vendor extensions) are accepted.
 */
function assertSchemas(value: unknown): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw scimErrors.invalidValue("'schemas' must be an array of schema URIs");
  }
}

function collectExtension(collected: Collected, extension: SchemaDefinition, value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isPlainObject(value)) throw scimErrors.invalidValue(`'${extension.id}' must be an object of its attributes`);
  const section: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    // An extension object carrying its own `schemas` list: the server sets `schemas`.
    if (key.toLowerCase() === 'schemas') continue;
    const definition = findAttribute(extension.attributes, key);
    const name = `${extension.id}:${definition?.name ?? key}`;
    if (definition === undefined) {
      if (!isUnassigned(item)) collected.unknown.push(name);
    } else if (definition.mutability !== 'readOnly') {
      put(section, definition, coerceAttributeValue(definition, item, name, collected.unknown));
    }
  }
  if (Object.keys(section).length > 0) collected.data[extension.id] = section;
}

const put = (target: JsonObject, definition: AttributeDefinition, value: unknown): void => {
  if (value !== undefined) target[definition.name] = value;
};

const PASSWORD = findAttribute(RESOURCE_TYPES.User.schema.attributes, 'password')!;

function passwordOf(value: unknown): string | undefined {
  const password = coerceSingle(PASSWORD, value, 'password', []);
  return password === undefined || password === '' ? undefined : (password as string);
}

/** RFC 7643 sections 4.1.1 and 4.2: userName (User) and displayName (Group) are required and non-empty. */
function assertRequired(data: JsonObject, schema: SchemaDefinition): void {
  for (const definition of schema.attributes) {
    const value = data[definition.name];
    const missing = value === undefined || (typeof value === 'string' && value.trim() === '');
    if (definition.required && missing) throw scimErrors.invalidValue(`'${definition.name}' is required`);
  }
}
