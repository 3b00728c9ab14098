/**
 * API Gateway's own responses when the authorizer refuses a request, rendered as RFC 7644
 * section 3.12 SCIM errors so that IdPs see the same shape as from the handler. Used by the
 * stack (GatewayResponse) and by the local HTTP adapter.
 */
export const gatewayResponses = {
  unauthorized: {
    statusCode: 401,
    body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401', detail: 'Missing or invalid bearer token.' },
  },
  accessDenied: {
    statusCode: 403,
    body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '403', detail: 'This token may not call this endpoint.' },
  },
} as const;

export const SCIM_CONTENT_TYPE = 'application/scim+json';
