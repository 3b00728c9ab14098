import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../shared/scim/errors.ts';
import { applyPatch, extractMemberOperations, type MemberChange, PATCH_OP_SCHEMA, type PatchOperation, parsePatchRequest } from '../../../shared/scim/patch.ts';
import { ENTERPRISE_USER_SCHEMA_ID, GROUP_SCHEMA_ID, USER_SCHEMA_ID } from '../../../shared/scim/schemas.ts';
import { deepFreeze, scimErrorFrom } from './scim-test-support.ts';

const ENTERPRISE = ENTERPRISE_USER_SCHEMA_ID;

/** A stored User as the directory hands it to applyPatch; frozen so any mutation fails the test. */
const user = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  deepFreeze({
    schemas: [USER_SCHEMA_ID],
    id: 'u-1',
    userName: 'bjensen',
    name: { givenName: 'Barbara', familyName: 'Jensen' },
    active: true,
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@home.example.org', type: 'home' },
    ],
    meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z' },
    ...extra,
  });

const userWithout = (...names: string[]): Record<string, unknown> =>
  deepFreeze(Object.fromEntries(Object.entries(user()).filter(([key]) => !names.includes(key))));

const group = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  deepFreeze({
    schemas: [GROUP_SCHEMA_ID],
    id: 'g-1',
    displayName: 'Admins',
    members: [{ value: 'u-1', type: 'User' }, { value: 'u-2' }],
    ...extra,
  });

const op = (name: PatchOperation['op'], path: string | undefined, value?: unknown): PatchOperation => ({
  op: name,
  ...(path === undefined ? {} : { path }),
  ...(value === undefined ? {} : { value }),
});

describe('parsePatchRequest (RFC 7644 section 3.5.2)', () => {
  it('returns the operations of a valid PatchOp with lower-case op names', () => {
    // Prepare
    const body = {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [
        { op: 'Replace', path: 'active', value: false },
        { op: 'ADD', value: { title: 'Boss' } },
        { op: 'remove', path: 'title' },
      ],
    };

    // Act
    const operations = parsePatchRequest(body);

    // Assess
    expect(operations).toEqual([
      { op: 'replace', path: 'active', value: false },
      { op: 'add', value: { title: 'Boss' } },
      { op: 'remove', path: 'title' },
    ]);
  });

  it('reads message attribute names ignoring case and drops a null path', () => {
    // Prepare
    const body = {
      Schemas: [PATCH_OP_SCHEMA.toUpperCase()],
      operations: [
        { Op: 'remove', Path: 'title', Value: null },
        { OP: 'add', path: null, VALUE: { title: 'x' } },
      ],
    };

    // Act
    const operations = parsePatchRequest(body);

    // Assess
    expect(operations).toEqual([
      { op: 'remove', path: 'title', value: null },
      { op: 'add', value: { title: 'x' } },
    ]);
  });

  it('accepts an empty Operations array', () => {
    // Act
    const operations = parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations: [] });

    // Assess
    expect(operations).toEqual([]);
  });

  it('accepts a PatchOp without schemas unless schemas are required (authentik renames groups so)', () => {
    // Prepare
    const body = { Operations: [{ op: 'replace', path: 'displayName', value: 'Renamed' }] };

    // Act
    const lenient = parsePatchRequest(body, { requireSchemas: false });
    const strict = scimErrorFrom(() => parsePatchRequest(body, { requireSchemas: true }));
    const wrongSchemas = scimErrorFrom(() => parsePatchRequest({ ...body, schemas: ['urn:other'] }, { requireSchemas: false }));

    // Assess
    expect(lenient).toEqual([{ op: 'replace', path: 'displayName', value: 'Renamed' }]);
    expect(strict).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(wrongSchemas).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
  });

  it.each<[string, unknown, string]>([
    ['a non-object body', 'patch', 'Invalid PatchOp request'],
    ['no schemas (a strict token)', { Operations: [] }, 'schemas'],
    ['schemas without PatchOp', { schemas: ['urn:other'], Operations: [] }, `must contain ${PATCH_OP_SCHEMA}`],
    ['no Operations', { schemas: [PATCH_OP_SCHEMA] }, 'Operations'],
    ['Operations not an array', { schemas: [PATCH_OP_SCHEMA], Operations: {} }, 'Operations'],
    ['an unknown op', { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'move', path: 'a' }] }, 'Operations.0.op'],
    ['a numeric path', { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'remove', path: 3 }] }, 'Operations.0.path'],
    ['add without value', { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'title' }] }, "Operations.0: 'add' needs a value"],
    [
      'replace without value',
      { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'remove', path: 'x' }, { op: 'Replace' }] },
      "Operations.1: 'replace' needs a value",
    ],
  ])('rejects %s with invalidSyntax', (_case, body, detail) => {
    // Act
    const error = scimErrorFrom(() => parsePatchRequest(body));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(error.message).toContain(detail);
  });
});

interface PatchCase {
  readonly name: string;
  readonly resource?: Record<string, unknown>;
  readonly operations: PatchOperation[];
  /** The top-level attributes the patch sets, each with its whole new value; every other attribute stays as it was. */
  readonly expected?: Record<string, unknown>;
  /** Top-level attributes the patch removes. */
  readonly absent?: string[];
  readonly changed: boolean;
}

const cases: PatchCase[] = [
  { name: 'no operations', operations: [], changed: false },
  { name: 'replace userName', operations: [op('replace', 'userName', 'babs')], expected: { userName: 'babs' }, changed: true },
  { name: 'replace with the current value', operations: [op('replace', 'userName', 'bjensen')], changed: false },
  { name: 'replace active with "False"', operations: [op('replace', 'active', 'False')], expected: { active: false }, changed: true },
  { name: 'add a single-valued attribute', operations: [op('add', 'title', 'Boss')], expected: { title: 'Boss' }, changed: true },
  {
    name: 'add null to a single-valued attribute',
    resource: user({ title: 'Boss' }),
    operations: [op('add', 'title', null)],
    absent: ['title'],
    changed: true,
  },
  { name: 'replace with a number for a string', operations: [op('replace', 'title', 42)], expected: { title: '42' }, changed: true },
  { name: 'attribute names ignore case', operations: [op('replace', 'USERNAME', 'babs')], expected: { userName: 'babs' }, changed: true },
  {
    name: 'a stored key in another case is rewritten under the canonical name',
    resource: user({ Title: 'Old' }),
    operations: [op('replace', 'title', 'New')],
    expected: { title: 'New' },
    absent: ['Title'],
    changed: true,
  },
  {
    name: 'path-less replace with dotted and filtered keys',
    operations: [op('replace', undefined, { 'name.givenName': 'Babs', 'emails[type eq "work"].value': 'new@example.com' })],
    expected: {
      name: { givenName: 'Babs', familyName: 'Jensen' },
      emails: [
        { value: 'new@example.com', type: 'work', primary: true },
        { value: 'babs@home.example.org', type: 'home' },
      ],
    },
    changed: true,
  },
  {
    name: 'path-less replace ignores echoed id, meta and schemas',
    operations: [op('replace', undefined, { id: 'other', meta: { resourceType: 'x' }, schemas: ['x'], displayName: 'Babs' })],
    expected: { id: 'u-1', meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z' }, schemas: [USER_SCHEMA_ID], displayName: 'Babs' },
    changed: true,
  },
  {
    name: 'path-less replace with URN-qualified enterprise keys',
    operations: [op('replace', undefined, { [`${ENTERPRISE}:department`]: 'R&D', [`${ENTERPRISE}:manager`]: 'boss-1' })],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { department: 'R&D', manager: { value: 'boss-1' } } },
    changed: true,
  },
  {
    name: 'path-less add with the enterprise URN mapping to an object',
    operations: [op('add', undefined, { [ENTERPRISE.toLowerCase()]: { Department: 'R&D', manager: { value: 'b', displayName: 'ignored' } } })],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { department: 'R&D', manager: { value: 'b' } } },
    changed: true,
  },
  {
    name: 'replace of the bare enterprise URN path',
    operations: [op('replace', ENTERPRISE, { employeeNumber: 701984 })],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { employeeNumber: '701984' } },
    changed: true,
  },
  {
    name: 'remove of the bare enterprise URN path',
    resource: user({ schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { department: 'R&D' } }),
    operations: [op('remove', ENTERPRISE)],
    expected: { schemas: [USER_SCHEMA_ID] },
    absent: [ENTERPRISE],
    changed: true,
  },
  {
    name: 'removing the last enterprise attribute removes the extension',
    resource: user({ schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { department: 'R&D' } }),
    operations: [op('remove', `${ENTERPRISE}:department`)],
    expected: { schemas: [USER_SCHEMA_ID] },
    absent: [ENTERPRISE],
    changed: true,
  },
  {
    name: 'removing an enterprise attribute of a user without the extension',
    operations: [op('remove', `${ENTERPRISE}:department`)],
    absent: [ENTERPRISE],
    changed: false,
  },
  {
    name: 'replace of manager by path with a bare id',
    operations: [op('replace', `${ENTERPRISE}:manager`, 'boss-2')],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { manager: { value: 'boss-2' } } },
    changed: true,
  },
  {
    name: 'replace of manager.value',
    resource: user({ [ENTERPRISE]: { manager: { value: 'boss-1', $ref: '../Users/boss-1' } } }),
    operations: [op('replace', `${ENTERPRISE}:manager.value`, 'boss-2')],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { manager: { value: 'boss-2', $ref: '../Users/boss-1' } } },
    changed: true,
  },
  {
    name: 'remove of manager keeps other enterprise data',
    resource: user({ [ENTERPRISE]: { manager: { value: 'boss-1' }, department: 'R&D' } }),
    operations: [op('remove', `${ENTERPRISE}:manager`)],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { department: 'R&D' } },
    changed: true,
  },
  {
    name: 'add appends to a multi-valued attribute',
    operations: [op('add', 'emails', [{ value: 'third@example.com', type: 'other' }])],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true },
        { value: 'babs@home.example.org', type: 'home' },
        { value: 'third@example.com', type: 'other' },
      ],
    },
    changed: true,
  },
  {
    name: 'add skips values already present',
    operations: [op('add', 'emails', [{ type: 'home', value: 'babs@home.example.org' }])],
    changed: false,
  },
  {
    name: 'add of one value without an array',
    operations: [op('add', 'phoneNumbers', { value: '+1 555 0100', type: 'work' })],
    expected: { phoneNumbers: [{ value: '+1 555 0100', type: 'work' }] },
    changed: true,
  },
  { name: 'add of an empty list', operations: [op('add', 'emails', [])], changed: false },
  {
    name: 'add of a primary value clears primary on the others (RFC 7643 section 2.4)',
    operations: [op('add', 'emails', [{ value: 'new@example.com', primary: 'True' }])],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: false },
        { value: 'babs@home.example.org', type: 'home' },
        { value: 'new@example.com', primary: true },
      ],
    },
    changed: true,
  },
  {
    name: 'replace replaces the whole set',
    operations: [op('replace', 'emails', [{ value: 'only@example.com' }])],
    expected: { emails: [{ value: 'only@example.com' }] },
    changed: true,
  },
  { name: 'replace with an empty list unassigns', operations: [op('replace', 'emails', [])], absent: ['emails'], changed: true },
  {
    name: 'replace through a filter sets the sub-attribute of matching values',
    operations: [op('replace', 'emails[type eq "WORK"].value', 'new@example.com')],
    expected: {
      emails: [
        { value: 'new@example.com', type: 'work', primary: true },
        { value: 'babs@home.example.org', type: 'home' },
      ],
    },
    changed: true,
  },
  {
    name: 'replace through a filter replaces whole matching values',
    operations: [op('replace', 'emails[type eq "home"]', { value: 'b@example.net', type: 'other' })],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true },
        { value: 'b@example.net', type: 'other' },
      ],
    },
    changed: true,
  },
  {
    name: 'replace of a value as primary clears the other primary',
    operations: [op('replace', 'emails[type eq "home"].primary', true)],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: false },
        { value: 'babs@home.example.org', type: 'home', primary: true },
      ],
    },
    changed: true,
  },
  {
    name: 'replace through a filter with null removes the matching values',
    operations: [op('replace', 'emails[type eq "home"]', null)],
    expected: { emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }] },
    changed: true,
  },
  {
    name: 'add through a filter that matches sets the sub-attribute',
    operations: [op('add', 'emails[type eq "work"].display', 'Work')],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true, display: 'Work' },
        { value: 'babs@home.example.org', type: 'home' },
      ],
    },
    changed: true,
  },
  {
    name: 'add through a filter that matches merges an object value',
    operations: [op('add', 'emails[type eq "home"]', { display: 'Home' })],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true },
        { value: 'babs@home.example.org', type: 'home', display: 'Home' },
      ],
    },
    changed: true,
  },
  {
    name: 'add through an equality filter that matches nothing creates the value (Entra ID)',
    operations: [op('add', 'emails[type eq "other"].value', 'o@example.com')],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true },
        { value: 'babs@home.example.org', type: 'home' },
        { type: 'other', value: 'o@example.com' },
      ],
    },
    changed: true,
  },
  {
    name: 'add through an and of equalities creates the value they describe',
    operations: [op('add', 'phoneNumbers[type eq "mobile" and primary eq true]', { value: '+1 555 0101' })],
    expected: { phoneNumbers: [{ type: 'mobile', primary: true, value: '+1 555 0101' }] },
    changed: true,
  },
  {
    name: 'add through a filter on a missing attribute creates it',
    operations: [op('add', 'addresses[type eq "work"].locality', 'Berlin')],
    expected: { addresses: [{ type: 'work', locality: 'Berlin' }] },
    changed: true,
  },
  {
    name: 'add of null through a filter that matches changes nothing',
    operations: [op('add', 'emails[type eq "home"]', null)],
    changed: false,
  },
  {
    name: 'add of null through an equality filter that matches nothing creates the described value',
    operations: [op('add', 'emails[type eq "other"]', null)],
    expected: { emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'babs@home.example.org', type: 'home' }, { type: 'other' }] },
    changed: true,
  },
  {
    name: 'remove with a value list keeps stored values that have no value sub-attribute',
    resource: user({ emails: [{ type: 'work' }] }),
    operations: [op('remove', 'emails', [{ value: 'x@example.com' }])],
    expected: { emails: [{ type: 'work' }] },
    changed: false,
  },
  {
    name: 'a required attribute that was already missing is not reported',
    resource: deepFreeze({ schemas: [USER_SCHEMA_ID], id: 'u-1' }),
    operations: [op('add', 'title', 'x')],
    expected: { title: 'x' },
    changed: true,
  },
  {
    name: 'remove of a sub-attribute of an absent single complex attribute',
    resource: userWithout('name'),
    operations: [op('remove', 'name.givenName')],
    absent: ['name'],
    changed: false,
  },
  {
    name: 'remove through a filter removes only matching values',
    operations: [op('remove', 'emails[type eq "home"]')],
    expected: { emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }] },
    changed: true,
  },
  { name: 'remove through a filter that matches nothing', operations: [op('remove', 'emails[type eq "other"]')], changed: false },
  {
    name: 'remove of the last value through a filter unassigns the attribute',
    resource: user({ emails: [{ value: 'only@example.com' }] }),
    operations: [op('remove', 'emails[value eq "ONLY@example.com"]')],
    absent: ['emails'],
    changed: true,
  },
  {
    name: 'remove of a sub-attribute through a filter',
    operations: [op('remove', 'emails[type eq "work"].primary')],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'work' },
        { value: 'babs@home.example.org', type: 'home' },
      ],
    },
    changed: true,
  },
  { name: 'remove of a multi-valued attribute', operations: [op('remove', 'emails')], absent: ['emails'], changed: true },
  {
    name: 'remove with a value list removes by value ignoring case (Entra ID)',
    operations: [op('remove', 'emails', [{ value: 'BJENSEN@example.com' }])],
    expected: { emails: [{ value: 'babs@home.example.org', type: 'home' }] },
    changed: true,
  },
  {
    name: 'remove with a value list compares case-exact values exactly',
    resource: user({ x509Certificates: [{ value: 'MIIDQzCC' }] }),
    operations: [op('remove', 'x509Certificates', [{ value: 'miidqzcc' }])],
    expected: { x509Certificates: [{ value: 'MIIDQzCC' }] },
    changed: false,
  },
  {
    name: 'remove with a value list compares values without a value sub-attribute whole',
    resource: user({
      addresses: [
        { type: 'work', locality: 'Berlin' },
        { type: 'home', locality: 'Bonn' },
      ],
    }),
    operations: [
      op('remove', 'addresses', [
        { type: 'home', locality: 'Bonn' },
        { type: 'work', locality: 'Paris' },
      ]),
    ],
    expected: { addresses: [{ type: 'work', locality: 'Berlin' }] },
    changed: true,
  },
  {
    name: 'remove of a sub-attribute of a complex attribute',
    operations: [op('remove', 'name.givenName')],
    expected: { name: { familyName: 'Jensen' } },
    changed: true,
  },
  {
    name: 'remove of the last sub-attribute unassigns the complex attribute',
    resource: user({ name: { givenName: 'Barbara' } }),
    operations: [op('remove', 'name.givenName')],
    absent: ['name'],
    changed: true,
  },
  { name: 'remove of an absent attribute', operations: [op('remove', 'title')], changed: false },
  { name: 'remove of a sub-attribute of an absent complex attribute', operations: [op('remove', 'addresses.locality')], changed: false },
  {
    name: 'replace of a complex attribute merges sub-attributes (RFC 7644 section 3.5.2.3)',
    operations: [op('replace', 'name', { familyName: 'Smith', formatted: 'Barbara Smith' })],
    expected: { name: { givenName: 'Barbara', familyName: 'Smith', formatted: 'Barbara Smith' } },
    changed: true,
  },
  { name: 'replace of a complex attribute with null', operations: [op('replace', 'name', null)], absent: ['name'], changed: true },
  {
    name: 'add of a sub-attribute creates the complex attribute',
    resource: userWithout('name'),
    operations: [op('add', 'name.givenName', 'Babs')],
    expected: { name: { givenName: 'Babs' } },
    changed: true,
  },
  {
    name: 'replace of a sub-attribute of every value of a multi-valued attribute',
    operations: [op('replace', 'emails.type', 'other')],
    expected: {
      emails: [
        { value: 'bjensen@example.com', type: 'other', primary: true },
        { value: 'babs@home.example.org', type: 'other' },
      ],
    },
    changed: true,
  },
  {
    name: 'add of a sub-attribute of a missing multi-valued attribute creates one value',
    operations: [op('add', 'phoneNumbers.value', '+1 555 0100')],
    expected: { phoneNumbers: [{ value: '+1 555 0100' }] },
    changed: true,
  },
  {
    name: 'remove of a sub-attribute of every value',
    operations: [op('remove', 'emails.type')],
    expected: { emails: [{ value: 'bjensen@example.com', primary: true }, { value: 'babs@home.example.org' }] },
    changed: true,
  },
  {
    name: 'operations apply in order',
    operations: [op('add', 'title', 'A'), op('replace', 'title', 'B'), op('remove', 'nickName'), op('add', 'nickName', 'Babs')],
    expected: { title: 'B', nickName: 'Babs' },
    changed: true,
  },
  // Request shapes identity providers send (Entra ID, OneLogin).
  {
    name: 'replace an enterprise attribute named without its URN',
    operations: [op('replace', 'department', 'Engines'), op('add', 'employeeNumber', 701984)],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { department: 'Engines', employeeNumber: '701984' } },
    changed: true,
  },
  {
    name: 'remove an enterprise attribute named without its URN',
    resource: user({ schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { costCenter: 'CC-1' } }),
    operations: [op('remove', 'costCenter')],
    expected: { schemas: [USER_SCHEMA_ID] },
    absent: [ENTERPRISE],
    changed: true,
  },
  {
    name: 'path-less keys naming enterprise attributes without their URN',
    operations: [op('replace', undefined, { organization: 'Acme', division: 'West' })],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { organization: 'Acme', division: 'West' } },
    changed: true,
  },
  {
    name: 'manager as a plain id',
    operations: [op('replace', 'manager', 'boss-1')],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { manager: { value: 'boss-1' } } },
    changed: true,
  },
  {
    name: 'manager as {value}',
    operations: [op('add', 'manager', { value: 'boss-1' })],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { manager: { value: 'boss-1' } } },
    changed: true,
  },
  {
    name: 'manager as a list of one {value} (Entra ID)',
    operations: [op('replace', `${ENTERPRISE}:manager`, [{ value: 'boss-1' }])],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { manager: { value: 'boss-1' } } },
    changed: true,
  },
  {
    name: 'an extension URN path whose value carries schemas',
    operations: [op('add', ENTERPRISE, { schemas: [ENTERPRISE], department: 'Engines' })],
    expected: { schemas: [USER_SCHEMA_ID, ENTERPRISE], [ENTERPRISE]: { department: 'Engines' } },
    changed: true,
  },
  {
    name: 'replace of a multi-valued attribute with one object instead of a list (OneLogin)',
    operations: [op('replace', 'emails', { value: 'new@example.com', primary: true })],
    expected: { emails: [{ value: 'new@example.com', primary: true }] },
    changed: true,
  },
  {
    name: 'path-less replace of a multi-valued attribute with one object',
    operations: [op('replace', undefined, { phoneNumbers: { value: '+1 555 0100', type: 'work' } })],
    expected: { phoneNumbers: [{ value: '+1 555 0100', type: 'work' }] },
    changed: true,
  },
  {
    name: 'the server sets schemas when the stored resource has none',
    resource: deepFreeze({ id: 'u-1', userName: 'bjensen' }),
    operations: [],
    expected: { schemas: [USER_SCHEMA_ID] },
    changed: true,
  },
];

describe('applyPatch on a User', () => {
  it.each(cases)('$name', ({ resource = user(), operations, expected, absent = [], changed }) => {
    // Act
    const result = applyPatch(resource, operations, 'User');

    // Assess: the whole result, the input with exactly the expected top-level attributes set and removed
    const whole = Object.fromEntries(Object.entries({ ...resource, ...expected }).filter(([name]) => !absent.includes(name)));
    expect(result).toEqual({ resource: whole, changed });
    expect(result.resource).not.toBe(resource);
  });

  it('returns a resource equal to the input when nothing changes', () => {
    // Prepare
    const resource = user();

    // Act
    const result = applyPatch(resource, [op('remove', 'title')], 'User');

    // Assess
    expect(result).toEqual({ resource, changed: false });
  });

  it('returns a new password separately and never writes it into the resource', () => {
    // Act
    const byPath = applyPatch(user(), [op('replace', 'password', 't1meMa$heen')], 'User');
    const pathless = applyPatch(user(), [op('add', undefined, { password: 'other', title: 'x' })], 'User');

    // Assess
    expect(byPath).toEqual({ resource: user(), changed: true, password: 't1meMa$heen' });
    expect(byPath.resource).not.toHaveProperty('password');
    expect(pathless).toEqual({ resource: { ...user(), title: 'x' }, changed: true, password: 'other' });
    expect(pathless.resource).not.toHaveProperty('password');
  });

  it.each<[string, PatchOperation[], string, string]>([
    ['remove without a path', [op('remove', undefined)], 'noTarget', 'needs a path'],
    ['replace through a filter matching nothing', [op('replace', 'emails[type eq "other"].value', 'x')], 'noTarget', "No value of 'emails' matches"],
    ['add through a non-equality filter matching nothing', [op('add', 'emails[value co "zzz"].type', 'x')], 'noTarget', 'does not describe a new one'],
    ['add through an "eq null" filter matching nothing', [op('add', 'emails[type eq null].display', 'x')], 'noTarget', 'does not describe'],
    ['add through an "or" filter matching nothing', [op('add', 'emails[type eq "a" or type eq "b"].display', 'x')], 'noTarget', 'does not describe'],
    ['an unknown attribute', [op('replace', 'nope', 'x')], 'invalidPath', "'nope' is not an attribute of User"],
    ['an unknown sub-attribute', [op('replace', 'name.nope', 'x')], 'invalidPath', "'name.nope' is not an attribute"],
    ['an unknown enterprise attribute', [op('replace', `${ENTERPRISE}:nope`, 'x')], 'invalidPath', 'is not an attribute'],
    ['a manager list of two', [op('replace', 'manager', [{ value: 'a' }, { value: 'b' }])], 'invalidValue', 'single-valued'],
    ['an unknown extension', [op('replace', 'urn:example:vendor:1.0:User:badge', 'x')], 'invalidPath', 'is not an attribute'],
    ['an unknown key without a path', [op('add', undefined, { nope: 1 })], 'invalidPath', "'nope' is not an attribute"],
    ['a malformed path', [op('replace', 'name..givenName', 'x')], 'invalidPath', 'not a valid attribute path'],
    ['a filter on a single-valued attribute', [op('replace', 'name[givenName eq "x"].familyName', 'y')], 'invalidPath', 'only multi-valued complex'],
    ['a malformed filter in the path', [op('remove', 'emails[type eq]')], 'invalidFilter', 'Expected a value'],
    ['a filter on an unknown sub-attribute', [op('remove', 'emails[nope eq "x"]')], 'invalidFilter', 'not a sub-attribute'],
    ['replace of id', [op('replace', 'id', 'u-2')], 'mutability', "'id' is read-only"],
    ['replace of meta.created', [op('replace', 'meta.created', '2024-01-01T00:00:00Z')], 'mutability', 'read-only'],
    ['add to groups', [op('add', 'groups', [{ value: 'g-1' }])], 'mutability', "'groups' is read-only"],
    ['groups in a path-less value', [op('add', undefined, { groups: [{ value: 'g-1' }] })], 'mutability', 'read-only'],
    ['replace of schemas by path', [op('replace', 'schemas', [USER_SCHEMA_ID])], 'mutability', 'read-only'],
    ['replace of manager.displayName', [op('replace', `${ENTERPRISE}:manager.displayName`, 'x')], 'mutability', 'read-only'],
    ['remove of userName', [op('remove', 'userName')], 'mutability', "'userName' is required"],
    ['replace of userName with ""', [op('replace', 'userName', '')], 'mutability', "'userName' is required"],
    ['replace of userName with null', [op('replace', 'userName', null)], 'mutability', "'userName' is required"],
    ['remove of the password', [op('remove', 'password')], 'invalidValue', 'can be replaced but not removed'],
    ['a non-string password', [op('replace', 'password', 1234)], 'invalidValue', 'non-empty string'],
    ['an empty password', [op('replace', 'password', '')], 'invalidValue', 'non-empty string'],
    ['a path-less value that is not an object', [op('replace', undefined, 'x')], 'invalidValue', 'needs an object'],
    ['a bare extension path with a non-object value', [op('replace', ENTERPRISE, 'x')], 'invalidValue', 'must be an object'],
    ['an extension key with a non-object value', [op('add', undefined, { [ENTERPRISE]: 'x' })], 'invalidValue', 'must be an object'],
    ['a boolean that is not one', [op('replace', 'active', 'maybe')], 'invalidValue', "'active' must be a boolean"],
    ['a complex attribute given a string', [op('replace', 'name', 'Barbara')], 'invalidValue', "'name' must be an object"],
    ['a string attribute given an object', [op('replace', 'title', { a: 1 })], 'invalidValue', "'title' must be a string"],
    [
      'two primary values',
      [
        op('replace', 'emails', [
          { value: 'a', primary: true },
          { value: 'b', primary: true },
        ]),
      ],
      'invalidValue',
      'Only one value',
    ],
    ['primary set on every value', [op('replace', 'emails.primary', true)], 'invalidValue', 'Only one value'],
  ])('rejects %s', (_case, operations, scimType, detail) => {
    // Act
    const error = scimErrorFrom(() => applyPatch(user(), operations, 'User'));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType });
    expect(error.message).toContain(detail);
  });
});

describe('applyPatch on a Group', () => {
  it('changes the mutable display of a member', () => {
    // Act
    const result = applyPatch(group(), [op('replace', 'members[value eq "u-1"].display', 'Babs')], 'Group');

    // Assess
    expect(result).toEqual({ resource: { ...group(), members: [{ value: 'u-1', type: 'User', display: 'Babs' }, { value: 'u-2' }] }, changed: true });
  });

  it('sets an immutable sub-attribute that has no value yet (RFC 7644 section 3.5.2)', () => {
    // Act
    const result = applyPatch(group(), [op('add', 'members[value eq "u-2"].type', 'User')], 'Group');

    // Assess
    expect(result).toEqual({
      resource: {
        ...group(),
        members: [
          { value: 'u-1', type: 'User' },
          { value: 'u-2', type: 'User' },
        ],
      },
      changed: true,
    });
  });

  it('keeps an immutable sub-attribute when a replacement repeats it', () => {
    // Act
    const result = applyPatch(group(), [op('replace', 'members[value eq "u-1"]', { value: 'u-1', type: 'User', display: 'B' })], 'Group');

    // Assess
    expect(result).toEqual({ resource: { ...group(), members: [{ value: 'u-1', type: 'User', display: 'B' }, { value: 'u-2' }] }, changed: true });
  });

  it.each<[string, PatchOperation[]]>([
    ['changing an immutable sub-attribute', [op('replace', 'members[value eq "u-1"].value', 'u-9')]],
    ['changing it by adding', [op('add', 'members[value eq "u-1"].type', 'Group')]],
    ['replacing a value with another id', [op('replace', 'members[value eq "u-1"]', { value: 'u-9', type: 'User' })]],
    ['dropping an immutable sub-attribute in a replacement', [op('replace', 'members[value eq "u-1"]', { value: 'u-1' })]],
    ['removing an immutable sub-attribute', [op('remove', 'members[value eq "u-1"].type')]],
  ])('rejects %s with mutability', (_case, operations) => {
    // Act
    const error = scimErrorFrom(() => applyPatch(group(), operations, 'Group'));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'mutability' });
    expect(error.message).toContain('is immutable');
  });

  it('rejects removing the required displayName', () => {
    // Act
    const error = scimErrorFrom(() => applyPatch(group(), [op('remove', 'displayName')], 'Group'));

    // Assess
    expect(error).toMatchObject({ scimType: 'mutability' });
    expect(error.message).toContain("'displayName' is required");
  });

  it('rejects enterprise attributes, which Groups do not have', () => {
    // Act
    const error = scimErrorFrom(() => applyPatch(group(), [op('add', undefined, { [ENTERPRISE]: { department: 'x' } })], 'Group'));

    // Assess
    expect(error).toMatchObject({ scimType: 'invalidPath' });
  });
});

describe('applyPatch properties', () => {
  const operationPool: PatchOperation[] = [
    op('add', 'emails', [{ value: 'a@example.com', primary: true }]),
    op('add', 'emails', { value: 'b@example.com', type: 'work' }),
    op('add', 'emails[value eq "b@example.com"].primary', true),
    op('remove', 'emails[type eq "home"]'),
    op('add', 'emails[type eq "other"].value', 'c@example.com'),
    op('add', 'emails[value eq "a@example.com"].primary', false),
    op('replace', 'name.givenName', 'B'),
    op('remove', 'name'),
    op('add', undefined, { title: 'T', [`${ENTERPRISE}:department`]: 'D' }),
    op('remove', `${ENTERPRISE}:department`),
    op('replace', 'active', 'False'),
  ];
  const sequence = fc.array(fc.constantFrom(...operationPool), { maxLength: 8 });

  it('never modifies its input, and either rejects the request or keeps at most one primary email', () => {
    fc.assert(
      fc.property(sequence, (operations) => {
        // Prepare
        const resource = user();

        // Act
        let patched: Record<string, unknown>;
        try {
          patched = applyPatch(resource, operations, 'User').resource;
        } catch (error) {
          // e.g. a filter matching two values that both become primary (RFC 7643 section 2.4)
          expect(error).toBeInstanceOf(ScimError);
          expect(resource).toEqual(user());
          return;
        }

        // Assess
        expect(resource).toEqual(user());
        const emails = (patched.emails ?? []) as Array<Record<string, unknown>>;
        expect(emails.filter((email) => email.primary === true).length).toBeLessThanOrEqual(1);
        const hasEnterprise = patched[ENTERPRISE] !== undefined;
        expect(patched.schemas).toEqual(hasEnterprise ? [USER_SCHEMA_ID, ENTERPRISE] : [USER_SCHEMA_ID]);
      }),
    );
  });

  it('is idempotent: applying the same operations again changes nothing', () => {
    const idempotent = operationPool.filter((operation) => operation.op !== 'add' || operation.path !== 'emails');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...idempotent), { maxLength: 6 }), (operations) => {
        // Prepare
        const once = applyPatch(user(), operations, 'User').resource;

        // Act
        const twice = applyPatch(once, operations, 'User');

        // Assess
        expect(twice).toEqual({ resource: once, changed: false });
      }),
    );
  });

  it('adds any email once however often it is added', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        // Prepare
        const add = op('add', 'emails', [{ value: email, type: 'other' }]);
        const once = applyPatch(user(), [add], 'User');

        // Act
        const again = applyPatch(once.resource, [add, add], 'User');

        // Assess
        expect(again).toEqual({ resource: once.resource, changed: false });
        expect(again.resource.emails).toEqual([...(user().emails as unknown[]), { value: email, type: 'other' }]);
      }),
    );
  });
});

describe('extractMemberOperations', () => {
  it.each<[string, PatchOperation[], MemberChange[], PatchOperation[]]>([
    [
      'add by path with $ref null and duplicates',
      [op('add', 'members', [{ value: 'u-1', $ref: null, display: 'A' }, { Value: 'u-2' }, { value: 'u-1' }])],
      [{ kind: 'add', ids: ['u-1', 'u-2'] }],
      [],
    ],
    ['add of a bare id string (Azure reference suite)', [op('add', 'members', 'string id 1')], [{ kind: 'add', ids: ['string id 1'] }], []],
    ['add of an empty list', [op('add', 'members', [])], [], []],
    ['add with a core-URN-qualified path', [op('add', `${GROUP_SCHEMA_ID}:members`, [{ value: 'u-1' }])], [{ kind: 'add', ids: ['u-1'] }], []],
    ['path-less add', [op('add', undefined, { members: [{ value: 'u-1' }] })], [{ kind: 'add', ids: ['u-1'] }], []],
    [
      'path-less replace with other attributes',
      [op('replace', undefined, { displayName: 'Ops', Members: [{ value: 'u-3' }] })],
      [{ kind: 'replace', ids: ['u-3'] }],
      [op('replace', undefined, { displayName: 'Ops' })],
    ],
    ['path-less replace with no members', [op('replace', undefined, { members: [] })], [{ kind: 'replace', ids: [] }], []],
    ['path-less add with no members', [op('add', undefined, { members: [], externalId: 'e' })], [], [op('add', undefined, { externalId: 'e' })]],
    ['path-less add without members', [op('add', undefined, { displayName: 'Ops' })], [], [op('add', undefined, { displayName: 'Ops' })]],
    ['path-less remove', [op('remove', undefined)], [], [op('remove', undefined)]],
    ['remove with a value list (Entra ID)', [op('remove', 'members', [{ value: 'u-1' }])], [{ kind: 'remove', ids: ['u-1'] }], []],
    ['remove by filter (Okta, RFC)', [op('remove', 'members[value eq "u-1"]')], [{ kind: 'remove', ids: ['u-1'] }], []],
    ['remove by an or of ids', [op('remove', 'members[value eq "u-1" or value eq "u-2"]')], [{ kind: 'remove', ids: ['u-1', 'u-2'] }], []],
    ['remove by an unquoted numeric id', [op('remove', 'members[value eq 123]')], [{ kind: 'remove', ids: ['123'] }], []],
    ['remove of all members', [op('remove', 'members')], [{ kind: 'removeAll' }], []],
    ['remove of all members with a null value', [op('remove', 'members', null)], [{ kind: 'removeAll' }], []],
    ['remove of all members with an empty list', [op('remove', 'members', [])], [{ kind: 'removeAll' }], []],
    ['replace by path', [op('replace', 'members', [{ value: 'u-1' }])], [{ kind: 'replace', ids: ['u-1'] }], []],
    ['replace by path with an empty list', [op('replace', 'members', [])], [{ kind: 'replace', ids: [] }], []],
    ['other attributes', [op('replace', 'displayName', 'Ops')], [], [op('replace', 'displayName', 'Ops')]],
    [
      'several operations in order',
      [op('add', 'members', [{ value: 'a' }]), op('replace', 'displayName', 'x'), op('remove', 'members[value eq "a"]')],
      [
        { kind: 'add', ids: ['a'] },
        { kind: 'remove', ids: ['a'] },
      ],
      [op('replace', 'displayName', 'x')],
    ],
  ])('%s', (_case, operations, memberChanges, rest) => {
    // Act
    const result = extractMemberOperations(operations);

    // Assess
    expect(result).toEqual({ memberChanges, rest });
  });

  it.each<[string, PatchOperation, string, string]>([
    ['a filter not on value', op('remove', 'members[type eq "User"]'), 'invalidFilter', 'selected by id'],
    ['a filter with and', op('remove', 'members[value eq "a" and type eq "User"]'), 'invalidFilter', 'selected by id'],
    ['a filter with ne', op('remove', 'members[value ne "a"]'), 'invalidFilter', 'selected by id'],
    ['a replace through a filter', op('replace', 'members[value eq "a"].display', 'x'), 'invalidPath', 'whole values'],
    ['an add through a filter', op('add', 'members[value eq "a"]', { value: 'a' }), 'invalidPath', 'whole values'],
    ['a sub-attribute path', op('add', 'members.value', 'a'), 'invalidPath', 'whole values'],
    ['a member without value', op('add', 'members', [{ display: 'x' }]), 'invalidValue', "needs a 'value'"],
    ['a member with an empty value', op('add', 'members', [{ value: ' ' }]), 'invalidValue', "needs a 'value'"],
    ['a malformed path', op('add', 'members[', []), 'invalidPath', "without a matching ']'"],
  ])('rejects %s', (_case, operation, scimType, detail) => {
    // Act
    const error = scimErrorFrom(() => extractMemberOperations([operation]));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType });
    expect(error.message).toContain(detail);
  });
});
