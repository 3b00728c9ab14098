import type { AttributeMapping, ConnectorConfig } from '../connectors/connectors.schema.ts';
import type { TargetAttributes } from '../connectors/connector.port.ts';
import { readPath } from '../scim/read-path.ts';

type Json = Record<string, unknown>;

/** The hub user's manager: a hub user id (RFC 7643 section 4.3). */
const ENTERPRISE_MANAGER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value';

/** What a connector pushes when its document gives no mapping. */
export const DEFAULT_MAPPINGS: Record<ConnectorConfig['type'], AttributeMapping[]> = {
  scim: [
    { target: 'userName', source: 'userName', apply: 'always' },
    // The hub id as the target's externalId: accounts the hub created are found again by it.
    { target: 'externalId', source: 'id', apply: 'always' },
    { target: 'active', source: 'active', apply: 'always' },
    { target: 'displayName', source: 'displayName', apply: 'always' },
    { target: 'name.givenName', source: 'name.givenName', apply: 'always' },
    { target: 'name.familyName', source: 'name.familyName', apply: 'always' },
    { target: 'emails', source: 'emails', apply: 'always' },
    // The manager's hub id, which the sync engine replaces with the manager's id on the target (user-references.ts).
    { target: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value', source: ENTERPRISE_MANAGER, apply: 'always' },
  ],
  cognito: [
    { target: 'username', source: 'userName', apply: 'always' },
    { target: 'email', source: 'emails[primary eq true].value', apply: 'always' },
    { target: 'given_name', source: 'name.givenName', apply: 'always' },
    { target: 'family_name', source: 'name.familyName', apply: 'always' },
    { target: 'active', source: 'active', apply: 'always' },
  ],
  // Okta's user profile is flat; login, email, firstName and lastName are required by its default user type.
  okta: [
    { target: 'login', source: 'userName', apply: 'always' },
    { target: 'email', source: 'emails.value', apply: 'always' },
    { target: 'firstName', source: 'name.givenName', apply: 'always' },
    { target: 'lastName', source: 'name.familyName', apply: 'always' },
    { target: 'displayName', source: 'displayName', apply: 'always' },
    { target: 'active', source: 'active', apply: 'always' },
  ],
  // Microsoft Graph user properties; the connector completes a userPrincipalName without a
  // domain with its verified `domain`, and cuts mailNickname (set once, at creation) to what
  // Entra allows. `active` is accountEnabled.
  entra: [
    { target: 'userPrincipalName', source: 'userName', apply: 'always' },
    { target: 'mailNickname', source: 'userName', apply: 'create' },
    { target: 'displayName', source: 'displayName', apply: 'always' },
    { target: 'givenName', source: 'name.givenName', apply: 'always' },
    { target: 'surname', source: 'name.familyName', apply: 'always' },
    { target: 'mail', source: 'emails[primary eq true].value', apply: 'always' },
    { target: 'jobTitle', source: 'title', apply: 'always' },
    { target: 'department', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', apply: 'always' },
    { target: 'employeeId', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', apply: 'always' },
    // Written as `manager/$ref`; the sync engine puts the manager's Entra object id in place of its hub id.
    { target: 'manager', source: ENTERPRISE_MANAGER, apply: 'always' },
    { target: 'active', source: 'active', apply: 'always' },
  ],
  // Username gets the connector's usernameSuffix; Alias, ProfileId and the locale keys are filled by the connector.
  salesforce: [
    { target: 'Username', source: 'userName', apply: 'always' },
    // The IdP's sign-in name, which SAML single sign-on matches on.
    { target: 'FederationIdentifier', source: 'userName', apply: 'always' },
    { target: 'Email', source: 'emails[primary eq true].value', apply: 'always' },
    { target: 'FirstName', source: 'name.givenName', apply: 'always' },
    { target: 'LastName', source: 'name.familyName', apply: 'always' },
    { target: 'active', source: 'active', apply: 'always' },
  ],
};

/**
 * The matching attributes tried in order when a connector's document names none: only
 * attributes the hub keeps unique (userName, and its own id as the SCIM externalId). Matching on
 * email, which two hub users may share, happens only when a connector's `matching` names it.
 */
export const DEFAULT_MATCHING: Record<ConnectorConfig['type'], string[]> = {
  scim: ['userName', 'externalId'],
  cognito: ['username'],
  okta: ['login'],
  entra: ['userPrincipalName'],
  salesforce: ['Username', 'FederationIdentifier'],
};

const readSource = (user: Json, source: string): unknown => readPath(user, source, 'User');

const EXPRESSION_PART = /\$\{([^}]+)\}/g;

const evaluate = (user: Json, mapping: AttributeMapping): unknown => {
  if (mapping.constant !== undefined) return mapping.constant;
  if (mapping.source !== undefined) return readSource(user, mapping.source);
  const text = (mapping.expression ?? '').replace(EXPRESSION_PART, (_, path: string) => {
    const value = readSource(user, path.trim());
    return value === undefined || value === null ? '' : String(value);
  });
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed === '' ? undefined : trimmed;
};

/**
 * A hub user as the target should see it: each mapping's target attribute from a hub attribute,
 * a constant or a template expression. `create`-only mappings apply when the account is made.
 * Attributes without a value are left out (and cleared on the target if they had one).
 */
export const mapUser = (user: Json, mappings: AttributeMapping[], phase: 'create' | 'update'): TargetAttributes => {
  const mapped: TargetAttributes = {};
  for (const mapping of mappings) {
    if (mapping.apply === 'create' && phase !== 'create') continue;
    const value = evaluate(user, mapping);
    if (value !== undefined && value !== null) mapped[mapping.target] = value;
  }
  return mapped;
};

export const createOnlyTargets = (mappings: AttributeMapping[]): Set<string> => new Set(mappings.filter((m) => m.apply === 'create').map((m) => m.target));
