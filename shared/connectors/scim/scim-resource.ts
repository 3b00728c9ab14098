import type { TargetAttributes } from '../connector.port.ts';

/**
 * Between the flat attribute map of the sync engine and SCIM resources. Keys are SCIM attribute
 * paths: `userName`, `name.givenName`, `emails` (a whole multi-valued attribute),
 * `emails[type eq "work"].value` (one value of it), and URN-qualified extension attributes
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`).
 */
const EXTENSION = /^(urn:[^ ]+):([A-Za-z$][\w$-]*(?:\.[\w$-]+)?)$/;
const VALUE_PATH = /^([A-Za-z][\w-]*)\[(\w+) eq "([^"]*)"\]\.(\w+)$/;
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

type Json = Record<string, unknown>;

const setDotted = (target: Json, path: string, value: unknown) => {
  const [head, tail] = path.split('.', 2) as [string, string | undefined];
  if (tail === undefined) {
    target[head] = value;
    return;
  }
  const inner = (typeof target[head] === 'object' && target[head] !== null ? target[head] : {}) as Json;
  inner[tail] = value;
  target[head] = inner;
};

/** The SCIM User resource for a flat attribute map. */
export const toScimUser = (attributes: TargetAttributes): Json => {
  const resource: Json = { schemas: [USER_SCHEMA] };
  for (const [path, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    const extension = EXTENSION.exec(path);
    if (extension) {
      const [, urn = '', rest = ''] = extension;
      const holder = (resource[urn] ?? {}) as Json;
      setDotted(holder, rest, value);
      resource[urn] = holder;
      if (!(resource.schemas as string[]).includes(urn)) (resource.schemas as string[]).push(urn);
      continue;
    }
    const valuePath = VALUE_PATH.exec(path);
    if (valuePath) {
      const [, attribute = '', key = '', keyValue = '', sub = ''] = valuePath;
      const list = (Array.isArray(resource[attribute]) ? resource[attribute] : []) as Json[];
      const entry = list.find((item) => item[key] === keyValue) ?? { [key]: keyValue };
      entry[sub] = value;
      if (!list.includes(entry)) list.push(entry);
      resource[attribute] = list;
      continue;
    }
    setDotted(resource, path, value);
  }
  return resource;
};

/** Reads one flat path out of a SCIM resource (the inverse of toScimUser for that path). */
export const readScimPath = (resource: Json, path: string): unknown => {
  const extension = EXTENSION.exec(path);
  if (extension) {
    const holder = resource[extension[1] ?? ''] as Json | undefined;
    return holder === undefined ? undefined : readScimPath(holder, extension[2] ?? '');
  }
  const valuePath = VALUE_PATH.exec(path);
  if (valuePath) {
    const [, attribute = '', key = '', keyValue = '', sub = ''] = valuePath;
    const list = resource[attribute];
    return Array.isArray(list) ? (list as Json[]).find((item) => item[key] === keyValue)?.[sub] : undefined;
  }
  const [head = '', tail] = path.split('.', 2);
  const value = resource[head];
  if (tail === undefined) return value;
  return typeof value === 'object' && value !== null ? (value as Json)[tail] : undefined;
};

/** A SCIM filter literal: a JSON string (RFC 7644 section 3.4.2.2 uses JSON string syntax). */
export const filterLiteral = (value: string): string => JSON.stringify(value);

/**
 * A SCIM resource as a flat attribute map (the inverse of toScimUser for the plain forms):
 * simple and multi-valued attributes by name, complex ones as `name.sub`, extension attributes
 * under their URN.
 */
export const flattenScim = (resource: Json): TargetAttributes => {
  const flat: TargetAttributes = {};
  const visit = (object: Json, prefix: string, nested: boolean) => {
    for (const [key, value] of Object.entries(object)) {
      if (key === 'schemas' || key === 'meta' || (!nested && key === 'id')) continue;
      if (!nested && key.startsWith('urn:') && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        visit(value as Json, `${key}:`, true);
      } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const [sub, inner] of Object.entries(value as Json)) flat[`${prefix}${key}.${sub}`] = inner;
      } else {
        flat[`${prefix}${key}`] = value;
      }
    }
  };
  visit(resource, '', false);
  return flat;
};
