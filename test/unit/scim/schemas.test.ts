import { describe, expect, it } from 'vitest';
import { parsePath } from '../../../shared/scim/path.ts';
import {
  ALL_SCHEMAS,
  type AttributeDefinition,
  ENTERPRISE_USER_SCHEMA,
  ENTERPRISE_USER_SCHEMA_ID,
  findExtension,
  GROUP_RESOURCE_TYPE,
  GROUP_SCHEMA,
  RESOURCE_TYPES,
  type ResourceTypeName,
  resolveAttribute,
  resourceTypeOf,
  toResourceTypeResource,
  toScimSchemaResource,
  USER_RESOURCE_TYPE,
  USER_SCHEMA,
} from '../../../shared/scim/schemas.ts';
import { WIDGET_EXTENSION, WIDGET_TYPE } from './scim-test-support.ts';

const ENTERPRISE = ENTERPRISE_USER_SCHEMA_ID;

describe('schema data (RFC 7643 sections 4 and 8.7)', () => {
  it('defines every core User attribute of RFC 7643 section 4.1', () => {
    // Prepare
    const expected = [
      'userName',
      'name',
      'displayName',
      'nickName',
      'profileUrl',
      'title',
      'userType',
      'preferredLanguage',
      'locale',
      'timezone',
      'active',
      'password',
      'emails',
      'phoneNumbers',
      'ims',
      'photos',
      'addresses',
      'groups',
      'entitlements',
      'roles',
      'x509Certificates',
    ];

    // Act
    const names = USER_SCHEMA.attributes.map((attribute) => attribute.name);

    // Assess
    expect(names).toEqual(expected);
  });

  it('defines the enterprise extension and Group attributes', () => {
    // Act
    const enterprise = ENTERPRISE_USER_SCHEMA.attributes.map((attribute) => attribute.name);
    const group = GROUP_SCHEMA.attributes.map((attribute) => attribute.name);

    // Assess
    expect(enterprise).toEqual(['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager']);
    expect(group).toEqual(['displayName', 'members']);
  });

  it.each<[ResourceTypeName, string, Partial<AttributeDefinition>]>([
    ['User', 'id', { mutability: 'readOnly', returned: 'always', caseExact: true, uniqueness: 'server' }],
    ['User', 'externalId', { mutability: 'readWrite', caseExact: true }],
    ['User', 'userName', { required: true, uniqueness: 'server', caseExact: false, returned: 'default' }],
    ['User', 'password', { mutability: 'writeOnly', returned: 'never' }],
    ['User', 'active', { type: 'boolean' }],
    ['User', 'groups', { mutability: 'readOnly', multiValued: true, type: 'complex' }],
    ['User', 'emails', { multiValued: true, type: 'complex' }],
    ['User', 'emails.value', { caseExact: false, type: 'string' }],
    ['User', 'emails.type', { canonicalValues: ['work', 'home', 'other'] }],
    ['User', 'x509Certificates.value', { type: 'binary', caseExact: true }],
    ['User', 'meta.created', { type: 'dateTime', mutability: 'readOnly' }],
    ['User', 'schemas', { multiValued: true, returned: 'always', mutability: 'readOnly' }],
    ['User', `${ENTERPRISE}:manager`, { type: 'complex', multiValued: false }],
    ['User', `${ENTERPRISE}:manager.displayName`, { mutability: 'readOnly' }],
    ['User', `${ENTERPRISE}:manager.$ref`, { type: 'reference', referenceTypes: ['User'] }],
    ['Group', 'displayName', { required: true }],
    ['Group', 'members', { multiValued: true, type: 'complex' }],
    // Values holding a resource id are case-exact like `id` itself (RFC 7643 section 3.1).
    ['Group', 'members.value', { mutability: 'immutable', caseExact: true }],
    ['User', 'groups.value', { caseExact: true }],
    ['User', `${ENTERPRISE}:manager.value`, { caseExact: true }],
    ['Group', 'members.type', { mutability: 'immutable', canonicalValues: ['User', 'Group'] }],
  ])('%s %s has %o', (resourceType, path, characteristics) => {
    // Act
    const resolved = resolveAttribute(resourceType, parsePath(path));

    // Assess
    expect(resolved?.subAttribute ?? resolved?.attribute).toMatchObject(characteristics);
  });

  it('names every attribute by the ATTRNAME grammar of RFC 7643 section 2.1 (or $ref)', () => {
    // Prepare
    const all = (attributes: readonly AttributeDefinition[]): AttributeDefinition[] =>
      attributes.flatMap((attribute) => [attribute, ...all(attribute.subAttributes ?? [])]);

    // Act
    const names = ALL_SCHEMAS.flatMap((schema) => all(schema.attributes)).map((attribute) => attribute.name);

    // Assess
    expect(names.filter((name) => !/^(?:\$ref|[A-Za-z][A-Za-z0-9_-]*)$/.test(name))).toEqual([]);
  });
});

describe('resolveAttribute', () => {
  it.each<[ResourceTypeName, string, { schemaId: string; extension?: string; attribute: string; sub?: string }]>([
    ['User', 'userName', { schemaId: USER_SCHEMA.id, attribute: 'userName' }],
    ['User', 'USERNAME', { schemaId: USER_SCHEMA.id, attribute: 'userName' }],
    ['User', 'name.GIVENNAME', { schemaId: USER_SCHEMA.id, attribute: 'name', sub: 'givenName' }],
    ['User', `${USER_SCHEMA.id}:name.familyName`, { schemaId: USER_SCHEMA.id, attribute: 'name', sub: 'familyName' }],
    ['User', `${ENTERPRISE}:department`, { schemaId: ENTERPRISE, extension: ENTERPRISE, attribute: 'department' }],
    ['User', `${ENTERPRISE.toUpperCase()}:Manager.Value`, { schemaId: ENTERPRISE, extension: ENTERPRISE, attribute: 'manager', sub: 'value' }],
    ['User', 'meta.lastModified', { schemaId: USER_SCHEMA.id, attribute: 'meta', sub: 'lastModified' }],
    // Extension attributes named without their URN, as Entra ID and OneLogin send them.
    ['User', 'department', { schemaId: ENTERPRISE, extension: ENTERPRISE, attribute: 'department' }],
    ['User', 'Manager.value', { schemaId: ENTERPRISE, extension: ENTERPRISE, attribute: 'manager', sub: 'value' }],
    ['User', 'employeeNumber', { schemaId: ENTERPRISE, extension: ENTERPRISE, attribute: 'employeeNumber' }],
    ['User', 'costCenter', { schemaId: ENTERPRISE, extension: ENTERPRISE, attribute: 'costCenter' }],
    ['User', 'organization', { schemaId: ENTERPRISE, extension: ENTERPRISE, attribute: 'organization' }],
    ['User', 'division', { schemaId: ENTERPRISE, extension: ENTERPRISE, attribute: 'division' }],
    ['Group', 'members.$ref', { schemaId: GROUP_SCHEMA.id, attribute: 'members', sub: '$ref' }],
    ['Group', 'externalId', { schemaId: GROUP_SCHEMA.id, attribute: 'externalId' }],
  ])('%s %s resolves', (resourceType, path, expected) => {
    // Act
    const resolved = resolveAttribute(resourceType, parsePath(path));

    // Assess
    expect({
      schemaId: resolved?.schemaId,
      ...(resolved?.extension ? { extension: resolved.extension } : {}),
      attribute: resolved?.attribute.name,
      ...(resolved?.subAttribute ? { sub: resolved.subAttribute.name } : {}),
    }).toEqual(expected);
  });

  it.each<[ResourceTypeName, string]>([
    ['User', 'nope'],
    ['User', 'name.nope'],
    ['User', 'userName.value'],
    ['User', `${ENTERPRISE}:nope`],
    ['Group', 'department'],
    ['User', 'urn:example:vendor:2.0:User:badge'],
    ['Group', `${ENTERPRISE}:department`],
    ['Group', 'userName'],
  ])('%s %s does not resolve', (resourceType, path) => {
    // Act
    const resolved = resolveAttribute(resourceType, parsePath(path));

    // Assess
    expect(resolved).toBeUndefined();
  });

  it('resolves against a resource type given as a definition', () => {
    // Act
    const core = resolveAttribute(WIDGET_TYPE, { attribute: 'count' });
    const extension = resolveAttribute(WIDGET_TYPE, { schema: WIDGET_EXTENSION, attribute: 'size' });
    const qualifiedCore = resolveAttribute(WIDGET_TYPE, { schema: WIDGET_TYPE.schema.id, attribute: 'label' });

    // Assess
    expect(core?.attribute.type).toBe('integer');
    expect(extension).toMatchObject({ extension: WIDGET_EXTENSION, attribute: { name: 'size' } });
    expect(qualifiedCore?.attribute.name).toBe('label');
  });
});

describe('findExtension and resourceTypeOf', () => {
  it('finds an extension by URN ignoring case, only on its own resource type', () => {
    // Act
    const onUser = findExtension('User', ENTERPRISE.toLowerCase());
    const onGroup = findExtension('Group', ENTERPRISE);

    // Assess
    expect(onUser).toBe(ENTERPRISE_USER_SCHEMA);
    expect(onGroup).toBeUndefined();
  });

  it('maps names to the built-in definitions and passes definitions through', () => {
    // Act
    const [user, group, widget] = [resourceTypeOf('User'), resourceTypeOf('Group'), resourceTypeOf(WIDGET_TYPE)];

    // Assess
    expect([user, group, widget]).toEqual([USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE, WIDGET_TYPE]);
    expect(RESOURCE_TYPES).toEqual({ User: USER_RESOURCE_TYPE, Group: GROUP_RESOURCE_TYPE });
  });
});

describe('toScimSchemaResource (RFC 7643 section 7)', () => {
  it('renders a schema with its meta, trimming a trailing slash from the base URL', () => {
    // Act
    const rendered = toScimSchemaResource(ENTERPRISE_USER_SCHEMA, 'https://hub.example.com/scim/v2/');

    // Assess
    expect(rendered).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: ENTERPRISE,
      name: 'EnterpriseUser',
      description: 'Enterprise User',
      meta: { resourceType: 'Schema', location: `https://hub.example.com/scim/v2/Schemas/${ENTERPRISE}` },
    });
  });

  it('renders every characteristic, and optional ones only where defined', () => {
    // Act
    const rendered = toScimSchemaResource(USER_SCHEMA, 'https://hub.example.com/scim/v2');
    const attributes = rendered.attributes as Array<Record<string, unknown>>;
    const byName = (name: string) => attributes.find((attribute) => attribute.name === name);

    // Assess
    expect(byName('userName')).toEqual({
      name: 'userName',
      type: 'string',
      multiValued: false,
      description: expect.stringContaining('Unique identifier for the User'),
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'server',
    });
    expect(byName('profileUrl')).toMatchObject({ type: 'reference', referenceTypes: ['external'] });
    expect(byName('emails')).toMatchObject({
      subAttributes: expect.arrayContaining([expect.objectContaining({ name: 'type', canonicalValues: ['work', 'home', 'other'] })]),
    });
  });
});

describe('toResourceTypeResource (RFC 7643 section 6)', () => {
  it('renders User with the enterprise extension as optional', () => {
    // Act
    const rendered = toResourceTypeResource(USER_RESOURCE_TYPE, 'https://hub.example.com/scim/v2');

    // Assess
    expect(rendered).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER_SCHEMA.id,
      schemaExtensions: [{ schema: ENTERPRISE, required: false }],
      meta: { resourceType: 'ResourceType', location: 'https://hub.example.com/scim/v2/ResourceTypes/User' },
    });
  });

  it('renders Group without schemaExtensions', () => {
    // Act
    const rendered = toResourceTypeResource(GROUP_RESOURCE_TYPE, 'https://hub.example.com/scim/v2');

    // Assess
    expect(rendered).toMatchObject({ id: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA.id });
    expect(rendered).not.toHaveProperty('schemaExtensions');
  });
});
