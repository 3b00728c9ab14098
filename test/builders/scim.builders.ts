/** SCIM request bodies and URNs for the HTTP tests, so each test states only what it is about. */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const HUB_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:extension:hub:2.0:Group';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
export const MICROSOFT_GROUP_SCHEMA = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

type Json = Record<string, unknown>;

export const userBody = (userName: string, extra: Json = {}): Json => ({ schemas: [USER_SCHEMA], userName, ...extra });

export const groupBody = (displayName: string, memberIds: string[] = [], extra: Json = {}): Json => ({
  schemas: [GROUP_SCHEMA],
  displayName,
  ...(memberIds.length > 0 ? { members: memberIds.map((value) => ({ value })) } : {}),
  ...extra,
});

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

export const patchBody = (...operations: PatchOperation[]): Json => ({ schemas: [PATCH_OP_SCHEMA], Operations: operations });

/** `?filter=...` with the filter URL-encoded, plus any other query parameters. */
export const filterQuery = (filter: string, more = ''): string => `?filter=${encodeURIComponent(filter)}${more ? `&${more}` : ''}`;

/** The ids of a ListResponse's resources, in order. */
export const idsOf = (list: { Resources?: Array<{ id: string }> }): string[] => (list.Resources ?? []).map((resource) => resource.id);

/** The member ids of a group representation, sorted (membership has no order). */
export const memberIdsOf = (group: { members?: Array<{ value: string }> }): string[] => (group.members ?? []).map((member) => member.value).sort();

/** The SCIM Error body of RFC 7644 section 3.12 for a status and an optional scimType. */
export const scimError = (status: number, scimType?: string): Json => ({
  schemas: [ERROR_SCHEMA],
  status: String(status),
  ...(scimType === undefined ? {} : { scimType }),
});
