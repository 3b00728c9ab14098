import { describe, expect, it } from 'vitest';
import { normalizeGroup, normalizeUser } from '../../../shared/scim/input.ts';
import { ENTERPRISE_USER_SCHEMA_ID, GROUP_SCHEMA_ID, USER_SCHEMA_ID } from '../../../shared/scim/schemas.ts';
import { deepFreeze, scimErrorFrom } from './scim-test-support.ts';

const ENTERPRISE = ENTERPRISE_USER_SCHEMA_ID;
const MICROSOFT_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
const lenient = { strictUnknown: false };
const strict = { strictUnknown: true };

describe('normalizeUser', () => {
  it('keeps known attributes under canonical names, coerced to their types', () => {
    // Prepare: the shape Entra ID and Microsoft's reference suite send.
    const body = deepFreeze({
      schemas: [USER_SCHEMA_ID, ENTERPRISE],
      UserName: 'UserName123',
      active: 'True',
      displayName: 'BobIsAmazing',
      externalId: 'e-1',
      name: { formatted: 'Ryan Leenay', FamilyName: 'Leenay', givenName: 'Ryan', honorificPrefix: null },
      emails: [
        { Primary: true, type: 'work', value: 'testing@bob.com' },
        { Primary: 'False', type: 'home', value: 'testinghome@bob.com' },
      ],
      roles: [],
      [ENTERPRISE]: { Department: 'bob', Manager: { Value: 'SuzzyQ', displayName: 'ignored' }, employeeNumber: 701984 },
    });

    // Act
    const { resource, unknownAttributes, password } = normalizeUser(body, lenient);

    // Assess
    expect(resource).toEqual({
      schemas: [USER_SCHEMA_ID, ENTERPRISE],
      userName: 'UserName123',
      active: true,
      displayName: 'BobIsAmazing',
      externalId: 'e-1',
      name: { formatted: 'Ryan Leenay', familyName: 'Leenay', givenName: 'Ryan' },
      emails: [
        { primary: true, type: 'work', value: 'testing@bob.com' },
        { primary: false, type: 'home', value: 'testinghome@bob.com' },
      ],
      [ENTERPRISE]: { department: 'bob', manager: { value: 'SuzzyQ' }, employeeNumber: '701984' },
    });
    expect(unknownAttributes).toEqual([]);
    expect(password).toBeUndefined();
  });

  it('drops read-only attributes the client echoes (RFC 7644 section 3.3)', () => {
    // Prepare
    const body = {
      id: 'client-chosen',
      userName: 'a',
      meta: { created: '2019-09-18T18:15:26.5788954+00:00', resourceType: 'User' },
      groups: [{ value: 'g-1' }],
    };

    // Act
    const { resource, unknownAttributes } = normalizeUser(body, strict);

    // Assess
    expect(resource).toEqual({ schemas: [USER_SCHEMA_ID], userName: 'a' });
    expect(unknownAttributes).toEqual([]);
  });

  it('keeps the password apart from the resource so it can be hashed', () => {
    // Act
    const { resource, password } = normalizeUser({ userName: 'a', password: 't1meMa$heen' }, strict);

    // Assess
    expect(password).toBe('t1meMa$heen');
    expect(resource).not.toHaveProperty('password');
  });

  it.each([null, ''])('treats a %j password as no password', (value) => {
    // Act
    const normalized = normalizeUser({ userName: 'a', password: value }, strict);

    // Assess
    expect(normalized).not.toHaveProperty('password');
  });

  it('sets schemas from the data present, not from what the client lists', () => {
    // Act
    const withoutData = normalizeUser(
      { schemas: [ENTERPRISE, USER_SCHEMA_ID, 'urn:example:other'], userName: 'a', [ENTERPRISE]: { department: null } },
      strict,
    );
    const withoutSchemas = normalizeUser({ userName: 'a', [ENTERPRISE]: { costCenter: 'CC-1' } }, strict);

    // Assess
    expect(withoutData.resource).toEqual({ schemas: [USER_SCHEMA_ID], userName: 'a' });
    expect(withoutSchemas.resource).toEqual({ schemas: [USER_SCHEMA_ID, ENTERPRISE], userName: 'a', [ENTERPRISE]: { costCenter: 'CC-1' } });
  });

  it('lists unknown attributes, unknown sub-attributes and data under unknown schema URNs', () => {
    // Prepare: a misspelt attribute as in Microsoft's "garbage" tests, and a vendor extension.
    const body = {
      userName: 'a',
      adreses: [{ country: 'Germany' }],
      emails: [{ value: 'a@example.com', label: 'x' }],
      name: { givenName: 'A', nickname: 'x', middle: null },
      [ENTERPRISE]: { department: 'D', floor: 3 },
      'urn:example:vendor:1.0:User': { badge: 7 },
      'urn:example:empty:1.0:User': {},
      emptyUnknown: null,
    };

    // Act
    const { resource, unknownAttributes } = normalizeUser(body, lenient);

    // Assess
    expect(unknownAttributes).toEqual(['adreses', 'emails.label', 'name.nickname', `${ENTERPRISE}:floor`, 'urn:example:vendor:1.0:User']);
    expect(resource).toEqual({
      schemas: [USER_SCHEMA_ID, ENTERPRISE],
      userName: 'a',
      emails: [{ value: 'a@example.com' }],
      name: { givenName: 'A' },
      [ENTERPRISE]: { department: 'D' },
    });
  });

  it('rejects unknown attributes with invalidSyntax when strict', () => {
    // Act
    const error = scimErrorFrom(() => normalizeUser({ userName: 'a', adreses: [], favouriteColour: 'blue' }, strict));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(error.message).toBe('Attributes not defined by the User schemas: favouriteColour');
  });

  it.each<[string, unknown, string, string]>([
    ['a body that is not an object', [{ userName: 'a' }], 'invalidSyntax', 'must be a JSON object'],
    ['a missing userName', { userame: 'OMalley' }, 'invalidValue', "'userName' is required"],
    ['an empty userName', { userName: '  ' }, 'invalidValue', "'userName' is required"],
    ['a null userName', { userName: null }, 'invalidValue', "'userName' is required"],
    ['a numeric active', { userName: 'a', active: 12 }, 'invalidValue', "'active' must be a boolean"],
    ['emails a string', { userName: 'a', emails: 'a@example.com' }, 'invalidValue', "'emails' is multi-valued"],
    ['a manager list of two', { userName: 'a', [ENTERPRISE]: { manager: [{ value: 'a' }, { value: 'b' }] } }, 'invalidValue', 'single-valued'],
    ['an email that is not an object', { userName: 'a', emails: [true] }, 'invalidValue', "'emails' must be an object"],
    ['name that is not an object', { userName: 'a', name: 'A B' }, 'invalidValue', "'name' must be an object"],
    ['a boolean string attribute', { userName: 'a', title: true }, 'invalidValue', "'title' must be a string"],
    [
      'two primary emails',
      {
        userName: 'a',
        emails: [
          { value: 'a', primary: true },
          { value: 'b', primary: 'true' },
        ],
      },
      'invalidValue',
      "Only one value of 'emails'",
    ],
    ['schemas that are not strings', { userName: 'a', schemas: [1] }, 'invalidValue', "'schemas' must be an array"],
    ['schemas that is a string', { userName: 'a', schemas: USER_SCHEMA_ID }, 'invalidValue', "'schemas' must be an array"],
    ['an extension that is not an object', { userName: 'a', [ENTERPRISE]: 'R&D' }, 'invalidValue', 'must be an object of its attributes'],
    ['a wrongly typed extension attribute', { userName: 'a', [ENTERPRISE]: { manager: true } }, 'invalidValue', `'${ENTERPRISE}:manager' must be an object`],
    ['a password that is not a string', { userName: 'a', password: false }, 'invalidValue', "'password' must be a string"],
  ])('rejects %s', (_case, body, scimType, detail) => {
    // Act
    const error = scimErrorFrom(() => normalizeUser(body, lenient));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType });
    expect(error.message).toContain(detail);
  });

  it('reports a missing userName before unknown attributes, even when strict', () => {
    // Act
    const error = scimErrorFrom(() => normalizeUser({ userame: 'x' }, strict));

    // Assess
    expect(error).toMatchObject({ scimType: 'invalidValue' });
  });

  it('accepts a null schemas and a null extension', () => {
    // Act
    const { resource } = normalizeUser({ schemas: null, userName: 'a', [ENTERPRISE]: null }, strict);

    // Assess
    expect(resource).toEqual({ schemas: [USER_SCHEMA_ID], userName: 'a' });
  });
  it.each<[string, unknown]>([
    ['a plain id', 'boss-1'],
    ['{ value }', { value: 'boss-1' }],
    ['a list of one { value } (Entra ID)', [{ value: 'boss-1' }]],
  ])('reads manager given as %s', (_, manager) => {
    // Act
    const { resource } = normalizeUser({ userName: 'a', [ENTERPRISE]: { manager } }, lenient);

    // Assess
    expect(resource[ENTERPRISE]).toEqual({ manager: { value: 'boss-1' } });
  });

  it('reads one object given for a multi-valued attribute as a list of one (OneLogin)', () => {
    // Act
    const { resource } = normalizeUser({ userName: 'a', emails: { value: 'a@example.com', primary: true }, phoneNumbers: { value: '+1 555 0100' } }, lenient);

    // Assess
    expect(resource).toMatchObject({ emails: [{ value: 'a@example.com', primary: true }], phoneNumbers: [{ value: '+1 555 0100' }] });
  });

  it('ignores a schemas key inside the enterprise extension object, even for a strict token', () => {
    // Act
    const { resource, unknownAttributes } = normalizeUser({ userName: 'a', [ENTERPRISE]: { schemas: [ENTERPRISE], department: 'R&D' } }, strict);

    // Assess
    expect(resource[ENTERPRISE]).toEqual({ department: 'R&D' });
    expect(unknownAttributes).toEqual([]);
  });
});

describe('normalizeGroup', () => {
  it('accepts the Microsoft group schema URN and drops "$ref": null from members', () => {
    // Prepare
    const body = {
      schemas: [GROUP_SCHEMA_ID, MICROSOFT_GROUP],
      externalId: 'e-1',
      displayName: 'Group1DisplayName',
      members: [
        { value: 'u-1', display: 'VP', $ref: null },
        { value: 'u-2', type: 'User' },
      ],
    };

    // Act
    const { resource, unknownAttributes } = normalizeGroup(body, strict);

    // Assess
    expect(resource).toEqual({
      schemas: [GROUP_SCHEMA_ID],
      externalId: 'e-1',
      displayName: 'Group1DisplayName',
      members: [
        { value: 'u-1', display: 'VP' },
        { value: 'u-2', type: 'User' },
      ],
    });
    expect(unknownAttributes).toEqual([]);
  });

  it('reads one member object given instead of a list as a list of one', () => {
    // Act
    const { resource } = normalizeGroup({ displayName: 'G', members: { value: 'u-1' } }, strict);

    // Assess
    expect(resource.members).toEqual([{ value: 'u-1' }]);
  });

  it('accepts an empty members list as no members', () => {
    // Act
    const { resource } = normalizeGroup({ displayName: 'G', members: [] }, strict);

    // Assess
    expect(resource).toEqual({ schemas: [GROUP_SCHEMA_ID], displayName: 'G' });
  });

  it('lists data under the Microsoft group schema URN as unknown', () => {
    // Act
    const { unknownAttributes } = normalizeGroup({ displayName: 'G', [MICROSOFT_GROUP]: { owner: 'x' } }, lenient);

    // Assess
    expect(unknownAttributes).toEqual([MICROSOFT_GROUP]);
  });

  it.each<[string, unknown, string]>([
    ['a missing displayName', { members: [] }, "'displayName' is required"],
    ['a member without a value', { displayName: 'G', members: [{ display: 'VP' }] }, "Each member needs a 'value'"],
    ['a password, which Groups do not have', { displayName: 'G', password: 'x' }, 'Attributes not defined by the Group schemas: password'],
    ['enterprise attributes, which Groups do not have', { displayName: 'G', [ENTERPRISE]: { department: 'x' } }, ENTERPRISE],
  ])('rejects %s', (_case, body, detail) => {
    // Act
    const error = scimErrorFrom(() => normalizeGroup(body, strict));

    // Assess
    expect(error.status).toBe(400);
    expect(error.message).toContain(detail);
  });
});
