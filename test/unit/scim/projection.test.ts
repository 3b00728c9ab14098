import { describe, expect, it } from 'vitest';
import { isAttributeRequested, type ProjectionParams, project } from '../../../shared/scim/projection.ts';
import { ENTERPRISE_USER_SCHEMA_ID, GROUP_SCHEMA_ID, type ResourceTypeRef, USER_SCHEMA_ID } from '../../../shared/scim/schemas.ts';
import { deepFreeze, WIDGET_EXTENSION, WIDGET_TYPE } from './scim-test-support.ts';

const ENTERPRISE = ENTERPRISE_USER_SCHEMA_ID;
const HUB = 'urn:ietf:params:scim:schemas:extension:hub:2.0:Group';

const USER = deepFreeze({
  schemas: [USER_SCHEMA_ID, ENTERPRISE],
  id: 'u-1',
  externalId: 'e-1',
  userName: 'bjensen',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  password: 'must-never-leave',
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@example.org', type: 'home' },
  ],
  groups: [{ value: 'g-1', display: 'Admins' }],
  internalVersion: 7,
  [ENTERPRISE]: { department: 'R&D', manager: { value: 'boss-1' } },
  meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z' },
});

const GROUP = deepFreeze({
  schemas: [GROUP_SCHEMA_ID, HUB],
  id: 'g-1',
  displayName: 'Admins',
  members: [{ value: 'u-1', type: 'User' }],
  [HUB]: { memberCount: 1 },
  'urn:example:unlisted': { x: 1 },
});

const ALWAYS = { schemas: USER.schemas, id: 'u-1' };

describe('project (RFC 7644 section 3.9)', () => {
  it('returns default attributes, never the password, nor attributes outside the schemas', () => {
    // Act
    const projected = project(USER, {}, 'User');

    // Assess
    const { password: _password, internalVersion: _internal, ...expected } = USER;
    expect(projected).toEqual(expected);
  });

  it('orders schemas, id and externalId first and meta last', () => {
    // Act
    const keys = Object.keys(project(USER, {}, 'User'));

    // Assess
    expect(keys.slice(0, 3)).toEqual(['schemas', 'id', 'externalId']);
    expect(keys.at(-1)).toBe('meta');
  });

  it.each<[string, ProjectionParams, Record<string, unknown>]>([
    ['attributes=userName', { attributes: ['userName'] }, { ...ALWAYS, userName: 'bjensen' }],
    ['attribute names ignoring case', { attributes: ['USERNAME', 'Name.GivenName'] }, { ...ALWAYS, userName: 'bjensen', name: { givenName: 'Barbara' } }],
    [
      'a sub-attribute of a multi-valued attribute',
      { attributes: ['emails.value'] },
      { ...ALWAYS, emails: [{ value: 'bjensen@example.com' }, { value: 'babs@example.org' }] },
    ],
    ['an attribute and one of its sub-attributes', { attributes: ['name', 'name.givenName'] }, { ...ALWAYS, name: USER.name }],
    ['a URN-qualified extension attribute', { attributes: [`${ENTERPRISE}:department`] }, { ...ALWAYS, [ENTERPRISE]: { department: 'R&D' } }],
    ['a URN-qualified core attribute', { attributes: [`${USER_SCHEMA_ID}:userName`] }, { ...ALWAYS, userName: 'bjensen' }],
    ['a whole extension by its URN', { attributes: [ENTERPRISE.toLowerCase()] }, { ...ALWAYS, [ENTERPRISE]: USER[ENTERPRISE] }],
    ['a name with a value filter (Microsoft test suite)', { attributes: ['emails[type eq "work"]'] }, { ...ALWAYS, emails: USER.emails }],
    ['the password, which is never returned', { attributes: ['password', 'id'] }, ALWAYS],
    ['names that match nothing', { attributes: ['nope', 'name.nope', 'emails[', ' '] }, ALWAYS],
    ['a sub-attribute no value has', { attributes: ['emails.display'] }, ALWAYS],
    ['an empty list, as if absent', { attributes: [] }, project(USER, {}, 'User')],
    ['excludedAttributes=emails', { excludedAttributes: ['emails', 'groups', 'meta', ENTERPRISE, 'name', 'externalId'] }, { ...ALWAYS, userName: 'bjensen' }],
    ['an excluded sub-attribute', { attributes: ['name'], excludedAttributes: ['name.givenName'] }, { ...ALWAYS, name: { familyName: 'Jensen' } }],
    [
      'an excluded returned-always attribute, which stays',
      { attributes: ['userName'], excludedAttributes: ['id', 'schemas'] },
      { ...ALWAYS, userName: 'bjensen' },
    ],
    [
      'an excluded extension attribute',
      { attributes: [ENTERPRISE], excludedAttributes: [`${ENTERPRISE}:manager`] },
      { ...ALWAYS, [ENTERPRISE]: { department: 'R&D' } },
    ],
    ['an excluded extension', { attributes: [ENTERPRISE, 'userName'], excludedAttributes: [ENTERPRISE] }, { ...ALWAYS, userName: 'bjensen' }],
    ['an attribute both named and excluded', { attributes: ['userName', 'title'], excludedAttributes: ['userName'] }, ALWAYS],
  ])('projects %s', (_case, params, expected) => {
    // Act
    const projected = project(USER, params, 'User');

    // Assess
    expect(projected).toEqual(expected);
  });

  it('writes attribute names in their canonical case', () => {
    // Prepare
    const resource = { ID: 'u-1', UserName: 'bjensen', EMAILS: [{ VALUE: 'a@example.com' }] };

    // Act
    const projected = project(resource, {}, 'User');

    // Assess
    expect(projected).toEqual({ id: 'u-1', userName: 'bjensen', emails: [{ value: 'a@example.com' }] });
  });

  it('returns a copy that shares nothing with the input', () => {
    // Act
    const projected = project(USER, {}, 'User');
    (projected.name as Record<string, unknown>).givenName = 'changed';

    // Assess
    expect(USER.name.givenName).toBe('Barbara');
  });

  it.each<[string, ProjectionParams, Record<string, unknown>]>([
    ['by default', {}, { schemas: GROUP.schemas, id: 'g-1', displayName: 'Admins', members: GROUP.members, [HUB]: { memberCount: 1 } }],
    ['when other attributes are named', { attributes: ['displayName'] }, { schemas: GROUP.schemas, id: 'g-1', displayName: 'Admins' }],
    ['when its URN is named', { attributes: [HUB] }, { schemas: GROUP.schemas, id: 'g-1', [HUB]: { memberCount: 1 } }],
    ['when its URN is excluded', { excludedAttributes: [HUB.toUpperCase(), 'members'] }, { schemas: GROUP.schemas, id: 'g-1', displayName: 'Admins' }],
  ])('passes an extension the resource lists but the schemas do not define through %s', (_case, params, expected) => {
    // Act
    const projected = project(GROUP, params, 'Group');

    // Assess
    expect(projected).toEqual(expected);
  });

  it('drops a listed unknown extension whose data is not an object', () => {
    // Prepare
    const resource = { schemas: [GROUP_SCHEMA_ID, HUB, 42], id: 'g-1', [HUB]: 'not-an-object' };

    // Act
    const projected = project(resource, {}, 'Group');

    // Assess
    expect(projected).toEqual({ schemas: resource.schemas, id: 'g-1' });
  });

  it('returns request-only attributes only when named (RFC 7643 section 7, returned "request")', () => {
    // Prepare
    const widget = { label: 'Gear', secret: 's', [WIDGET_EXTENSION]: { size: 1, note: 'n' } };

    // Act
    const byDefault = project(widget, {}, WIDGET_TYPE);
    const excluding = project(widget, { excludedAttributes: ['label'] }, WIDGET_TYPE);
    const named = project(widget, { attributes: ['secret', `${WIDGET_EXTENSION}:note`] }, WIDGET_TYPE);

    // Assess
    expect(byDefault).toEqual({ label: 'Gear', [WIDGET_EXTENSION]: { size: 1 } });
    expect(excluding).toEqual({ [WIDGET_EXTENSION]: { size: 1 } });
    expect(named).toEqual({ secret: 's', [WIDGET_EXTENSION]: { note: 'n' } });
  });
});

describe('isAttributeRequested', () => {
  it.each<[string, ProjectionParams, ResourceTypeRef, boolean]>([
    ['members', {}, 'Group', true],
    ['members', { excludedAttributes: ['members'] }, 'Group', false],
    ['members', { excludedAttributes: ['Members'] }, 'Group', false],
    ['members', { excludedAttributes: ['members.display'] }, 'Group', true],
    ['members', { attributes: ['displayName'] }, 'Group', false],
    ['members', { attributes: ['members.value'] }, 'Group', true],
    ['members', { attributes: ['members[value eq "u-1"]'] }, 'Group', true],
    ['members.value', { attributes: ['members.display'] }, 'Group', false],
    ['members.value', { attributes: ['members'] }, 'Group', true],
    ['members.value', { excludedAttributes: ['members.value'] }, 'Group', false],
    ['groups', {}, 'User', true],
    ['groups', { attributes: ['userName'] }, 'User', false],
    ['password', {}, 'User', false],
    ['password', { attributes: ['password'] }, 'User', false],
    ['id', { attributes: ['userName'], excludedAttributes: ['id'] }, 'User', true],
    [`${ENTERPRISE}:manager`, { attributes: [ENTERPRISE] }, 'User', true],
    [`${ENTERPRISE}:manager`, { excludedAttributes: [ENTERPRISE] }, 'User', false],
    ['nope', {}, 'User', false],
    ['secret', {}, WIDGET_TYPE, false],
    ['secret', { attributes: ['secret'] }, WIDGET_TYPE, true],
  ])('%s with %o on %s is %s', (name, params, resourceType, expected) => {
    // Act
    const requested = isAttributeRequested(params, name, resourceType);

    // Assess
    expect(requested).toBe(expected);
  });
});
