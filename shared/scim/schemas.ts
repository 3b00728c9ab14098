/**
 * The SCIM schemas this server implements, written once as data (RFC 7643 sections 4 and 8.7).
 * Everything else in the protocol layer (filters, PATCH, projection, input normalisation, sorting)
 * reads attribute characteristics from here rather than hard-coding attribute names.
 */
import type { AttributePath } from './scim.types.ts';

export const USER_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA_ID = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCHEMA_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
export const RESOURCE_TYPE_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

/** RFC 7643 section 7: the characteristics of one attribute. */
export interface AttributeDefinition {
  readonly name: string;
  readonly type: AttributeType;
  readonly multiValued: boolean;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: Mutability;
  readonly returned: Returned;
  readonly uniqueness: Uniqueness;
  readonly description: string;
  readonly subAttributes?: readonly AttributeDefinition[];
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
}

export interface SchemaDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDefinition[];
}

export type ResourceTypeName = 'User' | 'Group';

/** RFC 7643 section 6. */
export interface ResourceTypeDefinition {
  readonly id: string;
  readonly name: string;
  readonly endpoint: string;
  readonly description: string;
  readonly schema: SchemaDefinition;
  readonly schemaExtensions: readonly { readonly schema: SchemaDefinition; readonly required: boolean }[];
}

type Characteristics = Partial<Omit<AttributeDefinition, 'name' | 'type' | 'description'>>;

/** RFC 7643 section 2.2: the defaults an attribute has when its definition says nothing. */
export const attribute = (name: string, type: AttributeType, description: string, characteristics: Characteristics = {}): AttributeDefinition => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  description,
  ...characteristics,
});

const str = (name: string, description: string, characteristics: Characteristics = {}) => attribute(name, 'string', description, characteristics);

/**
 * The sub-attributes that RFC 7643 section 2.4 gives every multi-valued complex attribute
 * (`value`, `display`, `type`, `primary`), specialised per attribute in section 4.1.2.
 */
const multiValuedComplex = (
  name: string,
  description: string,
  options: {
    value?: AttributeDefinition;
    typeValues?: readonly string[];
    mutability?: Mutability;
  } = {},
): AttributeDefinition => {
  const mutability = options.mutability ?? 'readWrite';
  const typeCanonical = options.typeValues ? { canonicalValues: options.typeValues } : {};
  return attribute(name, 'complex', description, {
    multiValued: true,
    mutability,
    subAttributes: [
      options.value ?? str('value', `The value of one ${name} entry.`, { mutability }),
      str('display', 'A human-readable name, primarily used for display purposes.', { mutability }),
      str('type', "A label indicating the attribute's function.", { mutability, ...typeCanonical }),
      attribute('primary', 'boolean', "A Boolean value indicating the 'primary' or preferred value; true at most once.", {
        mutability,
      }),
    ],
  });
};

/** RFC 7643 section 3.1: attributes every resource has, outside any schema's attribute list. */
export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  str('id', 'A unique identifier for a SCIM resource as defined by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  str('externalId', 'A String that is an identifier for the resource as defined by the provisioning client.', {
    caseExact: true,
  }),
  attribute('meta', 'complex', 'A complex attribute containing resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', 'The name of the resource type of the resource.', { caseExact: true, mutability: 'readOnly' }),
      attribute('created', 'dateTime', 'The DateTime that the resource was added to the service provider.', {
        mutability: 'readOnly',
      }),
      attribute('lastModified', 'dateTime', 'The most recent DateTime that the details of this resource were updated.', {
        mutability: 'readOnly',
      }),
      attribute('location', 'reference', 'The URI of the resource being returned.', {
        caseExact: true,
        mutability: 'readOnly',
        referenceTypes: ['uri'],
      }),
      str('version', 'The version of the resource being returned (its ETag).', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
  // RFC 7643 section 3: "schemas" is on every resource. The server sets it, so clients cannot write it.
  attribute('schemas', 'reference', 'The schema URIs that define the attributes present in the resource.', {
    multiValued: true,
    required: true,
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    referenceTypes: ['uri'],
  }),
];

const NAME_PARTS: readonly [string, string][] = [
  ['formatted', "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III')."],
  ['familyName', "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III')."],
  ['givenName', "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III')."],
  ['middleName', "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III')."],
  [
    'honorificPrefix',
    "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III').",
  ],
  [
    'honorificSuffix',
    "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III').",
  ],
];

const ADDRESS_PARTS: readonly [string, string][] = [
  ['formatted', 'The full mailing address, formatted for display or use with a mailing label. This attribute MAY contain newlines.'],
  [
    'streetAddress',
    'The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information. This attribute MAY contain newlines.',
  ],
  ['locality', 'The city or locality component.'],
  ['region', 'The state or region component.'],
  ['postalCode', 'The zip code or postal code component.'],
  ['country', 'The country name component.'],
];

/** RFC 7643 sections 4.1 and 8.7.1: the core User schema. */
export const USER_SCHEMA: SchemaDefinition = {
  id: USER_SCHEMA_ID,
  name: 'User',
  description: 'User Account',
  attributes: [
    str(
      'userName',
      "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.",
      { required: true, uniqueness: 'server' },
    ),
    attribute('name', 'complex', "The components of the user's real name.", {
      subAttributes: NAME_PARTS.map(([part, description]) => str(part, description)),
    }),
    str('displayName', 'The name of the User, suitable for display to end-users.'),
    str('nickName', "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'."),
    attribute('profileUrl', 'reference', "A fully qualified URL pointing to a page representing the User's online profile.", {
      referenceTypes: ['external'],
    }),
    str('title', 'The user\'s title, such as "Vice President."'),
    str('userType', 'Used to identify the relationship between the organization and the user.'),
    str('preferredLanguage', "Indicates the User's preferred written or spoken language, e.g., 'en-US'."),
    str('locale', "Used to indicate the User's default location for purposes of localizing items."),
    str('timezone', "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
    attribute('active', 'boolean', "A Boolean value indicating the User's administrative status."),
    str('password', "The User's cleartext password, used to set an initial password or reset an existing one.", {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multiValuedComplex('emails', 'Email addresses for the user.', {
      value: str('value', 'Email addresses for the user.'),
      typeValues: ['work', 'home', 'other'],
    }),
    multiValuedComplex('phoneNumbers', 'Phone numbers for the User.', {
      value: str('value', 'Phone number of the User.'),
      typeValues: ['work', 'home', 'mobile', 'fax', 'pager', 'other'],
    }),
    multiValuedComplex('ims', 'Instant messaging addresses for the User.', {
      value: str('value', 'Instant messaging address for the User.'),
      typeValues: ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'],
    }),
    multiValuedComplex('photos', 'URLs of photos of the User.', {
      value: attribute('value', 'reference', 'URL of a photo of the User.', { referenceTypes: ['external'] }),
      typeValues: ['photo', 'thumbnail'],
    }),
    attribute('addresses', 'complex', 'A physical mailing address for this User.', {
      multiValued: true,
      subAttributes: [
        ...ADDRESS_PARTS.map(([part, description]) => str(part, description)),
        str('type', "A label indicating the attribute's function, e.g., 'work' or 'home'.", {
          canonicalValues: ['work', 'home', 'other'],
        }),
        attribute('primary', 'boolean', "A Boolean value indicating the 'primary' or preferred address."),
      ],
    }),
    attribute('groups', 'complex', 'A list of groups to which the user belongs.', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        str('value', "The identifier of the User's group.", { mutability: 'readOnly', caseExact: true }),
        attribute('$ref', 'reference', "The URI of the corresponding 'Group' resource.", {
          mutability: 'readOnly',
          referenceTypes: ['User', 'Group'],
        }),
        str('display', 'A human-readable name, primarily used for display purposes.', { mutability: 'readOnly' }),
        str('type', "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.", {
          mutability: 'readOnly',
          canonicalValues: ['direct', 'indirect'],
        }),
      ],
    }),
    multiValuedComplex('entitlements', 'A list of entitlements for the User that represent a thing the User has.'),
    multiValuedComplex('roles', 'A list of roles for the User that collectively represent who the User is.'),
    multiValuedComplex('x509Certificates', 'A list of certificates issued to the User.', {
      value: attribute('value', 'binary', 'The value of an X.509 certificate.', { caseExact: true }),
    }),
  ],
};

/*
 * The `value` of groups, members and manager holds a resource `id`, which is case-exact (RFC 7643
 * section 3.1), so we make those sub-attributes caseExact although the listing in section 8.7.1
 * says false: `members[value eq "ABC"]` must not match the member "abc".
 */

/** RFC 7643 sections 4.3 and 8.7.1: the enterprise User extension. */
export const ENTERPRISE_USER_SCHEMA: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA_ID,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.'),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organization.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    attribute('manager', 'complex', "The User's manager.", {
      subAttributes: [
        str('value', "The id of the SCIM resource representing the User's manager.", { caseExact: true }),
        attribute('$ref', 'reference', "The URI of the SCIM resource representing the User's manager.", {
          referenceTypes: ['User'],
        }),
        str('displayName', "The displayName of the User's manager.", { mutability: 'readOnly' }),
      ],
    }),
  ],
};

/** RFC 7643 sections 4.2 and 8.7.1: the core Group schema. */
export const GROUP_SCHEMA: SchemaDefinition = {
  id: GROUP_SCHEMA_ID,
  name: 'Group',
  description: 'Group',
  attributes: [
    // RFC 7643 section 4.2 says REQUIRED in prose although 8.7.1 shows required false; we require it.
    str('displayName', 'A human-readable name for the Group. REQUIRED.', { required: true }),
    attribute('members', 'complex', 'A list of members of the Group.', {
      multiValued: true,
      subAttributes: [
        str('value', 'Identifier of the member of this Group.', { mutability: 'immutable', caseExact: true }),
        attribute('$ref', 'reference', 'The URI corresponding to a SCIM resource that is a member of this Group.', {
          mutability: 'immutable',
          referenceTypes: ['User', 'Group'],
        }),
        str('display', 'A human-readable name, primarily used for display purposes.'),
        str('type', "A label indicating the type of resource, e.g., 'User' or 'Group'.", {
          mutability: 'immutable',
          canonicalValues: ['User', 'Group'],
        }),
      ],
    }),
  ],
};

export const USER_RESOURCE_TYPE: ResourceTypeDefinition = {
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: USER_SCHEMA,
  schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
};

export const GROUP_RESOURCE_TYPE: ResourceTypeDefinition = {
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: GROUP_SCHEMA,
  schemaExtensions: [],
};

export const RESOURCE_TYPES: Readonly<Record<ResourceTypeName, ResourceTypeDefinition>> = {
  User: USER_RESOURCE_TYPE,
  Group: GROUP_RESOURCE_TYPE,
};

/**
 * The protocol functions take a resource type by name ('User', 'Group') or as a definition, so
 * that the same schema-driven code serves resource types defined elsewhere (and test schemas).
 */
export type ResourceTypeRef = ResourceTypeName | ResourceTypeDefinition;

export const resourceTypeOf = (ref: ResourceTypeRef): ResourceTypeDefinition => (typeof ref === 'string' ? RESOURCE_TYPES[ref] : ref);

/** Every schema served at /Schemas. */
export const ALL_SCHEMAS: readonly SchemaDefinition[] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA];

/** The extension schema of `resourceType` whose URN equals `urn` ignoring case (RFC 7643 section 2.1). */
export function findExtension(resourceType: ResourceTypeRef, urn: string): SchemaDefinition | undefined {
  const lower = urn.toLowerCase();
  return resourceTypeOf(resourceType).schemaExtensions.find((extension) => extension.schema.id.toLowerCase() === lower)?.schema;
}

/** The URNs of core schemas; a path qualified by one of them just means "no extension" (RFC 7644 section 3.10). */
export const CORE_SCHEMA_IDS: readonly string[] = [USER_SCHEMA_ID, GROUP_SCHEMA_ID];

/** Every schema URN this server knows, longest first so that prefix matching picks the most specific. */
export const KNOWN_SCHEMA_IDS: readonly string[] = ALL_SCHEMAS.map((schema) => schema.id).sort((left, right) => right.length - left.length);

export function findSubAttribute(parent: AttributeDefinition, name: string): AttributeDefinition | undefined {
  const lower = name.toLowerCase();
  return parent.subAttributes?.find((sub) => sub.name.toLowerCase() === lower);
}

export function findAttribute(attributes: readonly AttributeDefinition[], name: string): AttributeDefinition | undefined {
  const lower = name.toLowerCase();
  return attributes.find((candidate) => candidate.name.toLowerCase() === lower);
}

/** Where an attribute lives: its definitions and, for an extension, the URN key it sits under in resource JSON. */
export interface ResolvedAttribute {
  /** The URN of the schema that defines the attribute. */
  readonly schemaId: string;
  /** Set when the attribute belongs to an extension: the resource JSON keeps it under `resource[extension]`. */
  readonly extension?: string;
  readonly attribute: AttributeDefinition;
  readonly subAttribute?: AttributeDefinition;
}

/**
 * Finds the definition an attribute path refers to, or undefined if the resource type has no such
 * attribute. Names and URNs match ignoring case (RFC 7643 section 2.1). An unqualified name is a
 * core or common attribute, or else the one extension attribute of that name.
 */
export function resolveAttribute(resourceType: ResourceTypeRef, path: AttributePath): ResolvedAttribute | undefined {
  const base = resolveTopLevel(resourceType, path);
  if (base === undefined || path.subAttribute === undefined) return base;
  const subAttribute = findSubAttribute(base.attribute, path.subAttribute);
  return subAttribute === undefined ? undefined : { ...base, subAttribute };
}

function resolveTopLevel(resourceType: ResourceTypeRef, path: AttributePath): ResolvedAttribute | undefined {
  const core = resourceTypeOf(resourceType).schema;
  if (path.schema === undefined || path.schema.toLowerCase() === core.id.toLowerCase()) {
    const found = findAttribute(core.attributes, path.attribute) ?? findAttribute(COMMON_ATTRIBUTES, path.attribute);
    if (found !== undefined) return { schemaId: core.id, attribute: found };
    return path.schema === undefined ? resolveUnqualifiedExtension(resourceType, path.attribute) : undefined;
  }
  const extension = findExtension(resourceType, path.schema);
  const found = extension === undefined ? undefined : findAttribute(extension.attributes, path.attribute);
  if (extension === undefined || found === undefined) return undefined;
  return { schemaId: extension.id, extension: extension.id, attribute: found };
}

/**
 * An extension attribute named without its URN (`manager`, `department`): RFC 7644 section 3.10
 * wants the URN, but Entra ID and OneLogin send the bare name in PATCH paths and filters. It is
 * read as the extension's attribute only when no core or common attribute has that name and
 * exactly one extension of the resource type defines it, so the reading is never ambiguous.
 */
function resolveUnqualifiedExtension(resourceType: ResourceTypeRef, name: string): ResolvedAttribute | undefined {
  const candidates = resourceTypeOf(resourceType).schemaExtensions.flatMap(({ schema }) => {
    const found = findAttribute(schema.attributes, name);
    return found === undefined ? [] : [{ schemaId: schema.id, extension: schema.id, attribute: found }];
  });
  return candidates.length === 1 ? candidates[0] : undefined;
}

const trimSlash = (baseUrl: string): string => baseUrl.replace(/\/+$/, '');

function renderAttribute(definition: AttributeDefinition): Record<string, unknown> {
  return {
    name: definition.name,
    type: definition.type,
    multiValued: definition.multiValued,
    description: definition.description,
    required: definition.required,
    caseExact: definition.caseExact,
    mutability: definition.mutability,
    returned: definition.returned,
    uniqueness: definition.uniqueness,
    ...(definition.canonicalValues ? { canonicalValues: [...definition.canonicalValues] } : {}),
    ...(definition.referenceTypes ? { referenceTypes: [...definition.referenceTypes] } : {}),
    ...(definition.subAttributes ? { subAttributes: definition.subAttributes.map(renderAttribute) } : {}),
  };
}

/** The /Schemas representation of a schema (RFC 7643 section 7, RFC 7644 section 4). */
export function toScimSchemaResource(schema: SchemaDefinition, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA_ID],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(renderAttribute),
    meta: { resourceType: 'Schema', location: `${trimSlash(baseUrl)}/Schemas/${schema.id}` },
  };
}

/** The /ResourceTypes representation of a resource type (RFC 7643 section 6). */
export function toResourceTypeResource(resourceType: ResourceTypeDefinition, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA_ID],
    id: resourceType.id,
    name: resourceType.name,
    endpoint: resourceType.endpoint,
    description: resourceType.description,
    schema: resourceType.schema.id,
    ...(resourceType.schemaExtensions.length > 0
      ? {
          schemaExtensions: resourceType.schemaExtensions.map((extension) => ({
            schema: extension.schema.id,
            required: extension.required,
          })),
        }
      : {}),
    meta: { resourceType: 'ResourceType', location: `${trimSlash(baseUrl)}/ResourceTypes/${resourceType.id}` },
  };
}
