import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Directory, ListQuery, Projection, RequestContext } from '#shared/directory/directory.service.ts';
import type { ResourceType } from '#shared/directory/directory.ports.ts';
import { etagOf, versionFromEtag } from '#shared/directory/scim-resource.mapper.ts';
import { scimErrors } from '#shared/scim/errors.ts';
import { type BulkDeps, runBulk, BULK_LIMITS } from './bulk.ts';
import { resourceTypes, schemas, serviceProviderConfig } from './discovery.ts';
import { header, integerParam, jsonBody, listParam, query, scimResponse } from './http.ts';
import { parseSearchRequest } from './search-request.ts';

const RESOURCE_ENDPOINTS: Record<string, ResourceType> = { users: 'User', groups: 'Group' };
/** Bodies other than /Bulk are held to the same limit as Bulk's advertised maxPayloadSize. */
const MAX_BODY_BYTES = BULK_LIMITS.maxPayloadSize;

export interface RouterDeps {
  directory: Directory;
  /** `SCIM_BASE_URL` when the API sits behind a custom domain; else derived from the request. */
  baseUrl: string | undefined;
}

/** The SCIM base URL as the client called it: scheme, host and any stage prefix, then `/scim/v2`. */
export const baseUrlOf = (event: APIGatewayProxyEvent): string => {
  const host = header(event, 'host') ?? 'localhost';
  const proto = header(event, 'x-forwarded-proto') ?? (host.startsWith('localhost') || host.startsWith('127.') ? 'http' : 'https');
  const fullPath = event.requestContext?.path ?? event.path;
  const stagePrefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
  return `${proto}://${host}${stagePrefix}/scim/v2`;
};

const projectionOf = (event: APIGatewayProxyEvent): Projection => ({
  attributes: listParam(query(event, 'attributes')),
  excludedAttributes: listParam(query(event, 'excludedAttributes')),
});

const listQueryOf = (event: APIGatewayProxyEvent): ListQuery => {
  const sortOrder = query(event, 'sortOrder');
  if (sortOrder !== undefined && !['ascending', 'descending'].includes(sortOrder.toLowerCase())) {
    throw scimErrors.invalidValue(`sortOrder must be "ascending" or "descending", not "${sortOrder}"`);
  }
  return {
    ...projectionOf(event),
    filter: query(event, 'filter'),
    startIndex: integerParam(query(event, 'startIndex'), 'startIndex'),
    count: integerParam(query(event, 'count'), 'count'),
    cursor: query(event, 'cursor'),
    sortBy: query(event, 'sortBy'),
    sortOrder: sortOrder?.toLowerCase() as ListQuery['sortOrder'],
  };
};

const withEtag = (version: number) => ({ ETag: etagOf(version) });

const methodNotAllowed = (method: string, path: string) => scimErrors.methodNotAllowed(`${method} is not allowed on ${path}`);

/**
 * Routes a SCIM request (RFC 7644 section 3.2) to the directory and renders the answer.
 * Errors are thrown as ScimError and rendered by the handler's error middleware.
 */
export const routeScimRequest = async (
  event: APIGatewayProxyEvent,
  deps: RouterDeps,
  ctxOverrides: Partial<RequestContext> = {},
): Promise<APIGatewayProxyResult> => {
  const baseUrl = deps.baseUrl ?? baseUrlOf(event);
  const ctx: RequestContext = { baseUrl, strictUnknownAttributes: false, ...ctxOverrides };
  const method = event.httpMethod.toUpperCase();
  const relative = event.path.replace(/^.*?\/scim\/v2/i, '');
  const segments = relative
    .split('/')
    .filter((segment) => segment !== '')
    .map(decodeURIComponent);
  const [first = '', second, third] = segments;
  const endpoint = first.toLowerCase();
  const { directory } = deps;

  if (third !== undefined) throw scimErrors.notFound(`No SCIM endpoint at ${event.path}`);

  const resourceType = RESOURCE_ENDPOINTS[endpoint];
  if (resourceType) {
    if (second === undefined) {
      if (method === 'GET') return scimResponse(200, await directory.list(resourceType, listQueryOf(event), ctx));
      if (method === 'POST') {
        const created = await directory.create(resourceType, jsonBody(event, MAX_BODY_BYTES), ctx);
        return scimResponse(201, created.resource, { ...withEtag(created.version), Location: `${baseUrl}/${first}/${created.resource.id}` });
      }
      throw methodNotAllowed(method, event.path);
    }
    if (second === '.search') {
      if (method !== 'POST') throw methodNotAllowed(method, event.path);
      return scimResponse(200, await directory.list(resourceType, parseSearchRequest(jsonBody(event, MAX_BODY_BYTES)), ctx));
    }
    const id = second;
    switch (method) {
      case 'GET': {
        const found = await directory.get(resourceType, id, projectionOf(event), ctx);
        const ifNoneMatch = header(event, 'if-none-match');
        if (ifNoneMatch?.split(',').some((tag) => tag.trim() === '*' || versionFromEtag(tag) === found.version)) {
          return scimResponse(304, undefined, withEtag(found.version));
        }
        return scimResponse(200, found.resource, withEtag(found.version));
      }
      case 'PUT': {
        const replaced = await directory.replace(resourceType, id, jsonBody(event, MAX_BODY_BYTES), header(event, 'if-match'), ctx);
        return scimResponse(200, replaced.resource, withEtag(replaced.version));
      }
      case 'PATCH': {
        const projection = projectionOf(event);
        const patched = await directory.patch(resourceType, id, jsonBody(event, MAX_BODY_BYTES), header(event, 'if-match'), ctx, projection);
        // RFC 7644 section 3.5.2 allows 200 with the resource or 204. Users get the resource
        // (Okta reads it); a group's answer would carry up to 10 000 members, so a group PATCH
        // answers 204 unless the client names the attributes it wants back.
        const wantsBody = resourceType === 'User' || projection.attributes !== undefined || projection.excludedAttributes !== undefined;
        return wantsBody ? scimResponse(200, patched.resource, withEtag(patched.version)) : scimResponse(204, undefined, withEtag(patched.version));
      }
      case 'DELETE':
        await directory.delete(resourceType, id, header(event, 'if-match'));
        return scimResponse(204);
      default:
        throw methodNotAllowed(method, event.path);
    }
  }

  // Discovery endpoints are read-only (RFC 7644 section 4).
  const readOnly = (render: () => unknown) => {
    if (method !== 'GET') throw methodNotAllowed(method, event.path);
    return scimResponse(200, render());
  };
  switch (endpoint) {
    case 'serviceproviderconfig':
    // Microsoft's reference server also serves the pre-RFC name; clients still ask for it.
    case 'serviceconfiguration':
      if (second !== undefined) throw scimErrors.notFound(`No SCIM endpoint at ${event.path}`);
      return readOnly(() => serviceProviderConfig(baseUrl));
    case 'schemas':
      return readOnly(() => schemas(baseUrl, second));
    case 'resourcetypes':
      return readOnly(() => resourceTypes(baseUrl, second));
    case 'bulk': {
      if (method !== 'POST') throw methodNotAllowed(method, event.path);
      const bulkDeps: BulkDeps = { directory, ctx };
      // The envelope's depth is not limited here: an operation whose data nests too deep fails
      // on its own, and the operations before it are still reported (RFC 7644 section 3.7.3).
      return scimResponse(200, await runBulk(jsonBody(event, BULK_LIMITS.maxPayloadSize, { maxDepth: Number.POSITIVE_INFINITY }), bulkDeps));
    }
    case '.search':
      // RFC 7644 section 3.4.3: a search at the root of the SCIM base covers every resource type.
      if (second !== undefined) throw scimErrors.notFound(`No SCIM endpoint at ${event.path}`);
      if (method !== 'POST') throw methodNotAllowed(method, event.path);
      return scimResponse(200, await directory.search(parseSearchRequest(jsonBody(event, MAX_BODY_BYTES)), ctx));
    case 'me':
      throw scimErrors.notImplemented('/Me is not supported: tokens identify a client, not a user (RFC 7644 section 3.11)');
    default:
      throw scimErrors.notFound(`No SCIM endpoint at ${event.path}`);
  }
};
