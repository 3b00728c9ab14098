import { createHash, randomInt } from 'node:crypto';
import type { TargetAccount, TargetAttributes, TargetGroup } from '../connector.port.ts';

type Json = Record<string, unknown>;

/**
 * Translation between the connector's flat attribute map and Microsoft Graph's `user` and
 * `group` resources. Keys are Graph property names (`givenName`, `jobTitle`); a dotted key
 * (`onPremisesExtensionAttributes.extensionAttribute1`) is a property of a complex property.
 * Two keys are not Graph properties: `active` is `accountEnabled`, and `manager` is the
 * manager reference (`manager/$ref`), written with its own request.
 */
export const ACTIVE = 'active';
export const MANAGER = 'manager';

/** The user properties read when the connector's document has no mapping (the default mapping's targets). */
export const DEFAULT_USER_PROPERTIES = ['userPrincipalName', 'displayName', 'givenName', 'surname', 'mail', 'jobTitle', 'department', 'employeeId'];

/** Properties written only when the user is created: Graph keeps them, we do not compare them. */
const CREATE_ONLY = new Set(['mailNickname', 'passwordProfile']);

/**
 * The `$select` of user reads: the mapped properties (top-level names), the id, the sign-in
 * name and the enabled state. `manager` and create-only properties are not read.
 */
export const userSelect = (mappedTargets: string[] | undefined): string => {
  const names = (mappedTargets ?? DEFAULT_USER_PROPERTIES)
    .map((target) => target.split('.')[0] as string)
    .filter((name) => name !== ACTIVE && name !== MANAGER && !CREATE_ONLY.has(name));
  return [...new Set(['id', 'userPrincipalName', 'accountEnabled', ...names])].join(',');
};

/** A userPrincipalName: a value without a domain gets the connector's verified `domain`. */
export const userPrincipalNameOf = (value: string, domain: string): string => (value.includes('@') ? value : `${value}@${domain}`);

/**
 * A mailNickname Entra accepts: ASCII without `@ ( ) \ [ ] " ; : < > , .` at the ends or spaces, at
 * most 64 characters, from the local part of an address. Empty input gets a stable name from a hash.
 */
export const mailNicknameOf = (value: string): string => {
  const local = value.split('@')[0] ?? '';
  const cleaned = local
    .normalize('NFKD')
    .replace(/[^\x21-\x7e]/g, '')
    .replace(/[@()\\[\]";:<>,]/g, '')
    .replace(/^\.+|\.+$/g, '')
    .slice(0, 64);
  return cleaned || `user${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;
};

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SYMBOLS = '!#$%&*+-=?@^_';

/**
 * A random initial password meeting Entra's policy (8 to 256 characters, three of: lower case,
 * upper case, digits, symbols): 20 characters with all four classes. Nobody keeps it: the user
 * must change it at first sign-in, or signs in through federation or a reset.
 */
export const generatePassword = (length = 20): string => {
  const all = LOWER + UPPER + DIGITS + SYMBOLS;
  const pick = (set: string) => set[randomInt(set.length)] as string;
  const characters = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS)];
  while (characters.length < length) characters.push(pick(all));
  for (let i = characters.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [characters[i], characters[j]] = [characters[j] as string, characters[i] as string];
  }
  return characters.join('');
};

/** Sets a dotted key in a nested object. */
const setPath = (target: Json, key: string, value: unknown) => {
  const parts = key.split('.');
  let holder = target;
  for (const part of parts.slice(0, -1)) {
    if (!holder[part] || typeof holder[part] !== 'object') holder[part] = {};
    holder = holder[part] as Json;
  }
  holder[parts[parts.length - 1] as string] = value;
};

/**
 * The Graph body for attributes: `active` becomes `accountEnabled`, dotted keys nest,
 * `manager` is left out (its own request), and `unset` properties are sent as null, which is
 * how Graph clears a property.
 */
export const toGraphUser = (set: TargetAttributes, unset: string[] = [], domain?: string): Json => {
  const body: Json = {};
  for (const name of unset) if (name !== MANAGER && name !== ACTIVE) setPath(body, name, null);
  for (const [name, value] of Object.entries(set)) {
    if (name === MANAGER) continue;
    if (name === ACTIVE) body.accountEnabled = value === undefined || value === null ? null : value !== false;
    else if (name === 'userPrincipalName' && typeof value === 'string' && domain) body.userPrincipalName = userPrincipalNameOf(value, domain);
    else setPath(body, name, value === undefined ? null : value);
  }
  return body;
};

/**
 * The body of `POST /users`: the mapped properties and what Graph requires of a new user
 * (accountEnabled, displayName, mailNickname, userPrincipalName, passwordProfile), the missing
 * ones derived: the name from the mapped names or the sign-in name, the alias from it.
 */
export const newGraphUser = (attributes: TargetAttributes, options: { domain: string; password: string; forceChangePasswordNextSignIn: boolean }): Json => {
  const body = toGraphUser(attributes, [], options.domain);
  const upn = typeof body.userPrincipalName === 'string' ? body.userPrincipalName : undefined;
  body.accountEnabled = body.accountEnabled !== false;
  body.mailNickname = mailNicknameOf(typeof body.mailNickname === 'string' && body.mailNickname ? body.mailNickname : (upn ?? ''));
  if (typeof body.displayName !== 'string' || body.displayName.trim() === '') {
    const names = [body.givenName, body.surname].filter((part) => typeof part === 'string' && part.trim() !== '').join(' ');
    body.displayName = names || (upn?.split('@')[0] ?? body.mailNickname);
  }
  body.passwordProfile = { password: options.password, forceChangePasswordNextSignIn: options.forceChangePasswordNextSignIn };
  return body;
};

const flatten = (value: Json, prefix: string, into: TargetAttributes) => {
  for (const [name, item] of Object.entries(value)) {
    if (name.startsWith('@odata.') || name === 'id' || item === null || item === undefined) continue;
    if (typeof item === 'object' && !Array.isArray(item)) flatten(item as Json, `${prefix}${name}.`, into);
    else into[`${prefix}${name}`] = item;
  }
};

/** A Graph user as the connector's account: flat properties, `accountEnabled` as `active`. */
export const toTargetAccount = (user: Json): TargetAccount => {
  const attributes: TargetAttributes = {};
  flatten(user, '', attributes);
  if ('accountEnabled' in attributes) {
    attributes[ACTIVE] = attributes.accountEnabled !== false;
    delete attributes.accountEnabled;
  }
  return { id: String(user.id), attributes };
};

/** The description of a group the hub made: it names the hub group, so the hub knows its own groups again. */
export const hubGroupDescription = (hubGroupId: string) => `Provisioned by the SCIM hub from hub group ${hubGroupId}`;
const HUB_GROUP_OF_DESCRIPTION = /^Provisioned by the SCIM hub from hub group (\S+)$/;

/** A security group's mailNickname: required, but unused by security groups; stable per hub group. */
export const groupMailNickname = (hubGroupId: string) => mailNicknameOf(`hub-${hubGroupId}`);

export const toTargetGroup = (group: Json): TargetGroup => {
  const hubGroupId = HUB_GROUP_OF_DESCRIPTION.exec(typeof group.description === 'string' ? group.description : '')?.[1];
  return { id: String(group.id), displayName: String(group.displayName), ...(hubGroupId ? { externalId: hubGroupId } : {}) };
};

/** OData string literal: single quotes, a quote inside doubled (OData ABNF, SQUOTE-in-string). */
export const odataString = (value: string) => `'${value.replace(/'/g, "''")}'`;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Entra object ids are GUIDs; anything else is no object of the tenant. */
export const isObjectId = (value: string) => GUID.test(value);
