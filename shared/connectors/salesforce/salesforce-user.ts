import type { TargetAttributes } from '../connector.port.ts';

/**
 * The User record and the attribute map the sync engine speaks, kept apart from HTTP. Keys of
 * the map are User field names (`Username`, `LastName`, `FederationIdentifier`, ...), plus
 * `active` (IsActive) and `Profile.Name` (resolved to ProfileId). `Username` is the hub's form:
 * the connector adds the configured suffix on the way out and strips it on the way in.
 */
export const ACTIVE = 'active';
export const PROFILE_NAME = 'Profile.Name';

/** Fields read on every lookup and listing, beyond those the connector's mapping names. */
export const USER_FIELDS = ['Id', 'Username', 'FirstName', 'LastName', 'Email', 'Alias', 'FederationIdentifier', 'IsActive', 'ProfileId', PROFILE_NAME];

const ALIAS_MAX = 8;

/** Salesforce's Alias: at most 8 characters; first initial and last name, in plain letters and digits. */
export const deriveAlias = (firstName: unknown, lastName: unknown, username: unknown): string => {
  const plain = (value: unknown) =>
    typeof value === 'string'
      ? value
          .normalize('NFKD')
          .replace(/[^A-Za-z0-9]/g, '')
          .toLowerCase()
      : '';
  const fromName = `${plain(firstName).slice(0, 1)}${plain(lastName)}`;
  const fromUsername = plain(typeof username === 'string' ? username.split('@')[0] : '');
  return (fromName || fromUsername || 'user').slice(0, ALIAS_MAX);
};

export const withSuffix = (username: string, suffix: string): string => (suffix && !username.endsWith(suffix) ? `${username}${suffix}` : username);
export const withoutSuffix = (username: string, suffix: string): string => (suffix && username.endsWith(suffix) ? username.slice(0, -suffix.length) : username);

/**
 * The Username a removed user gets, so the person's Username is free for a new account: unique
 * (record ids are unique across Salesforce orgs), still in email form, and the same on every
 * retry, so removing twice changes nothing.
 */
export const releasedUsername = (id: string, suffix: string): string => `${id.toLowerCase()}.removed@scim-hub.invalid${suffix}`;

/** The attribute map of a User record as SOQL or the sObject API returns it. */
export const accountAttributes = (record: Record<string, unknown>, suffix: string): TargetAttributes => {
  const attributes: TargetAttributes = {};
  for (const [field, value] of Object.entries(record)) {
    if (field === 'attributes' || field === 'Id' || value === null || value === undefined) continue;
    if (field === 'IsActive') attributes[ACTIVE] = value;
    else if (field === 'Username' && typeof value === 'string') attributes.Username = withoutSuffix(value, suffix);
    else if (typeof value === 'object') {
      const name = (value as Record<string, unknown>).Name;
      if (name !== undefined && name !== null) attributes[`${field}.Name`] = name;
    } else attributes[field] = value;
  }
  return attributes;
};

/** The fields of an attribute map as a record Salesforce takes: `active` → IsActive, suffix on Username; `Profile.Name` left to the caller. */
export const recordFields = (attributes: TargetAttributes, suffix: string): Record<string, unknown> => {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (name === PROFILE_NAME) continue;
    if (name === ACTIVE) fields.IsActive = value;
    else if (name === 'Username' && typeof value === 'string') fields.Username = withSuffix(value, suffix);
    else fields[name] = value ?? null;
  }
  return fields;
};
