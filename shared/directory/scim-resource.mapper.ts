import { ENTERPRISE_USER_SCHEMA_ID, GROUP_SCHEMA_ID, USER_SCHEMA_ID } from '../scim/schemas.ts';
import type { ResourceRecord, ResourceType, ScimJson } from './directory.ports.ts';

export const ENDPOINTS: Record<ResourceType, string> = { User: 'Users', Group: 'Groups' };

/** The ETag of a version (RFC 7644 section 3.14): weak, since the representation varies with `attributes`. */
export const etagOf = (version: number): string => `W/"${version}"`;

/** The version an If-Match / If-None-Match entity tag names; undefined for `*` or a foreign tag. */
export const versionFromEtag = (tag: string): number | undefined => {
  const match = /^(?:W\/)?"(\d+)"$/.exec(tag.trim());
  return match ? Number(match[1]) : undefined;
};

/**
 * The full SCIM representation of a stored record: client attributes plus the server-owned
 * `id`, `schemas` and `meta` (RFC 7643 section 3.1). Derived attributes (`groups`, `members`)
 * are added by the caller, which knows whether they were asked for.
 */
export const toScimResource = (record: ResourceRecord, baseUrl: string): ScimJson => {
  const schemas =
    record.resourceType === 'User' ? [USER_SCHEMA_ID, ...(record.data[ENTERPRISE_USER_SCHEMA_ID] ? [ENTERPRISE_USER_SCHEMA_ID] : [])] : [GROUP_SCHEMA_ID];
  return {
    schemas,
    id: record.id,
    ...record.data,
    meta: {
      resourceType: record.resourceType,
      created: record.created,
      lastModified: record.lastModified,
      version: etagOf(record.version),
      location: `${baseUrl}/${ENDPOINTS[record.resourceType]}/${record.id}`,
    },
  };
};
