import { ALL_SCHEMAS, RESOURCE_TYPES, toResourceTypeResource, toScimSchemaResource } from '#shared/scim/schemas.ts';
import { scimErrors } from '#shared/scim/errors.ts';
import { DIRECTORY_LIMITS, LIST_RESPONSE_SCHEMA } from '#shared/directory/directory.service.ts';
import { BULK_LIMITS } from './bulk.ts';

/** RFC 7643 section 5, with the RFC 9865 `pagination` object. */
export const serviceProviderConfig = (baseUrl: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
  patch: { supported: true },
  bulk: { supported: true, maxOperations: BULK_LIMITS.maxOperations, maxPayloadSize: BULK_LIMITS.maxPayloadSize },
  filter: { supported: true, maxResults: DIRECTORY_LIMITS.maxResults },
  changePassword: { supported: true },
  sort: { supported: true },
  etag: { supported: true },
  pagination: {
    cursor: true,
    index: true,
    defaultPaginationMethod: 'index',
    defaultPageSize: DIRECTORY_LIMITS.defaultCount,
    maxPageSize: DIRECTORY_LIMITS.maxResults,
    cursorTimeout: 86_400,
  },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'A bearer token issued by the hub operator (npm run tokens -- create), sent as Authorization: Bearer <token>.',
      specUri: 'https://www.rfc-editor.org/info/rfc6750',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
});

const listOf = (resources: unknown[]) => ({
  schemas: [LIST_RESPONSE_SCHEMA],
  totalResults: resources.length,
  itemsPerPage: resources.length,
  startIndex: 1,
  Resources: resources,
});

export const schemas = (baseUrl: string, id?: string) => {
  const all = ALL_SCHEMAS.map((schema) => toScimSchemaResource(schema, baseUrl));
  if (id === undefined) return listOf(all);
  const found = all.find((schema) => schema.id === id);
  if (!found) throw scimErrors.notFound(`Schema ${id} not found`);
  return found;
};

export const resourceTypes = (baseUrl: string, id?: string) => {
  const all = Object.values(RESOURCE_TYPES).map((type) => toResourceTypeResource(type, baseUrl));
  if (id === undefined) return listOf(all);
  const found = all.find((type) => type.id === id);
  if (!found) throw scimErrors.notFound(`ResourceType ${id} not found`);
  return found;
};
