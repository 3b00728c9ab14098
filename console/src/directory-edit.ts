import type { ScimResource } from './types.ts';

/** The directory's resource endpoints on the admin API. */
export type DirectoryType = 'users' | 'groups';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** What the console's forms edit: the common attributes of a user, or a group's name. */
export interface UserFields {
  userName: string;
  givenName: string;
  familyName: string;
  displayName: string;
  email: string;
  externalId: string;
}

export const userFieldsOf = (resource: ScimResource | undefined): UserFields => ({
  userName: resource?.userName ?? '',
  givenName: resource?.name?.givenName ?? '',
  familyName: resource?.name?.familyName ?? '',
  displayName: resource?.displayName ?? '',
  email: (resource?.emails?.find((e) => e.primary) ?? resource?.emails?.[0])?.value ?? '',
  externalId: resource?.externalId ?? '',
});

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export const patchOf = (operations: PatchOperation[]) => ({ schemas: [PATCH_SCHEMA], Operations: operations });

const PATHS: Record<keyof UserFields, string> = {
  userName: 'userName',
  givenName: 'name.givenName',
  familyName: 'name.familyName',
  displayName: 'displayName',
  email: 'emails',
  externalId: 'externalId',
};

/**
 * The PATCH operations (RFC 7644 section 3.5.2) that take a user from `before` to `after`: only
 * the fields that changed, a cleared field removed, so attributes the form does not show (and
 * changes made elsewhere meanwhile, which If-Match guards) are left alone.
 */
export const userPatch = (before: UserFields, after: UserFields): PatchOperation[] =>
  (Object.keys(PATHS) as Array<keyof UserFields>).flatMap((field): PatchOperation[] => {
    const value = after[field].trim();
    if (value === before[field].trim()) return [];
    const path = PATHS[field];
    if (value === '') return [{ op: 'remove', path }];
    return [{ op: 'replace', path, value: field === 'email' ? [{ value, type: 'work', primary: true }] : value }];
  });

/** A new user's SCIM body from the form: empty fields are left out. */
export const newUserBody = (fields: UserFields, active: boolean) => {
  const given = fields.givenName.trim();
  const family = fields.familyName.trim();
  return {
    schemas: [USER_SCHEMA],
    userName: fields.userName.trim(),
    active,
    ...(given || family ? { name: { ...(given ? { givenName: given } : {}), ...(family ? { familyName: family } : {}) } } : {}),
    ...(fields.displayName.trim() ? { displayName: fields.displayName.trim() } : {}),
    ...(fields.externalId.trim() ? { externalId: fields.externalId.trim() } : {}),
    ...(fields.email.trim() ? { emails: [{ value: fields.email.trim(), type: 'work', primary: true }] } : {}),
  };
};

/** An If-Match header for the version read (RFC 7644 section 3.14: the ETag is `W/"<version>"`). */
export const ifMatch = (version: number) => ({ 'If-Match': `W/"${version}"` });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCIM_OPERATOR = /\s(eq|ne|co|sw|ew|gt|ge|lt|le)\s|\spr(\s|$)|\[/i;

/** A SCIM string literal (RFC 7644 section 3.4.2.2): JSON's escaping. */
const literal = (text: string) => JSON.stringify(text);

/**
 * What the search box asks the directory: a SCIM filter as typed (`userName eq "ada"`), or, for
 * plain words, a match on the names operators know people and groups by. An exact `eq` on an
 * indexed attribute is an index lookup; the plain-word search is evaluated over the directory's
 * capped scan, and beyond its cap the hub says so (400 tooMany).
 */
export const filterOf = (type: DirectoryType, text: string): string | undefined => {
  const query = text.trim();
  if (query === '') return undefined;
  if (SCIM_OPERATOR.test(query)) return query;
  if (UUID.test(query)) return `id eq ${literal(query)}`;
  return type === 'users'
    ? `userName sw ${literal(query)} or displayName co ${literal(query)} or emails.value sw ${literal(query)} or externalId eq ${literal(query)}`
    : `displayName co ${literal(query)} or externalId eq ${literal(query)}`;
};

/** The name a resource is shown by. */
export const nameOf = (resource: ScimResource): string => resource.userName ?? resource.displayName ?? resource.id;
