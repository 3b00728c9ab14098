import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, scimError, USER_SCHEMA } from '../../builders/scim.builders.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/** RFC 7644 section 4: the read-only discovery endpoints, and /Me (section 3.11), over HTTP. */
describe('SCIM discovery endpoints', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);

  beforeAll(async () => {
    hub = await startTestHub('scim-discovery');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('advertises the limits it enforces and every feature it supports in /ServiceProviderConfig', async () => {
    // Act
    const answer = await api().get('/ServiceProviderConfig');

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('application/scim+json');
    expect(answer.json).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 100, maxPayloadSize: 1_048_576 },
      filter: { supported: true, maxResults: 1000 },
      sort: { supported: true },
      etag: { supported: true },
      changePassword: { supported: true },
      // RFC 9865 section 4
      pagination: { cursor: true, index: true, defaultPageSize: 100, maxPageSize: 1000 },
      meta: { resourceType: 'ServiceProviderConfig', location: `${hub.scim}/ServiceProviderConfig` },
    });
    expect(answer.json.authenticationSchemes).toEqual([expect.objectContaining({ type: 'oauthbearertoken', primary: true })]);
  });

  it('lists the User, enterprise User and Group schemas in /Schemas and serves each by its URN', async () => {
    // Act
    const all = await api().get('/Schemas');
    const user = await api().get(`/Schemas/${USER_SCHEMA}`);

    // Assess
    expect(all.status).toBe(200);
    expect(all.json).toMatchObject({ schemas: [LIST_RESPONSE_SCHEMA], totalResults: 3, itemsPerPage: 3, startIndex: 1 });
    expect(all.json.Resources.map((schema: { id: string }) => schema.id).sort()).toEqual([ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA].sort());
    expect(user.status).toBe(200);
    expect(user.json).toMatchObject({ id: USER_SCHEMA, name: 'User', meta: { resourceType: 'Schema', location: `${hub.scim}/Schemas/${USER_SCHEMA}` } });
    const userName = user.json.attributes.find((attribute: { name: string }) => attribute.name === 'userName');
    expect(userName).toMatchObject({ required: true, caseExact: false, uniqueness: 'server' });
  });

  it('lists the User and Group resource types in /ResourceTypes and serves each by its id', async () => {
    // Act
    const all = await api().get('/ResourceTypes');
    const user = await api().get('/ResourceTypes/User');
    const group = await api().get('/ResourceTypes/Group');

    // Assess
    expect(all.json).toMatchObject({ schemas: [LIST_RESPONSE_SCHEMA], totalResults: 2 });
    expect(all.json.Resources.map((type: { id: string }) => type.id).sort()).toEqual(['Group', 'User']);
    expect(user.json).toMatchObject({
      id: 'User',
      endpoint: '/Users',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
    });
    expect(group.json).toMatchObject({ id: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA });
  });

  it.each([['/Schemas/urn:example:no-such-schema'], ['/ResourceTypes/Device'], ['/ServiceProviderConfig/extra'], ['/Devices']])(
    'answers 404 with a SCIM error for %s',
    async (path) => {
      // Act
      const answer = await api().get(path);

      // Assess
      expect(answer.status).toBe(404);
      expect(answer.json).toMatchObject(scimError(404));
    },
  );

  it.each(
    ['/ServiceProviderConfig', '/Schemas', `/Schemas/${USER_SCHEMA}`, '/ResourceTypes', '/ResourceTypes/User'].flatMap((path) =>
      ['POST', 'PUT', 'PATCH', 'DELETE'].map((method) => [method, path] as const),
    ),
  )('refuses %s %s with 405: discovery is read-only', async (method, path) => {
    // Act
    const answer = await api().call(method, path, method === 'DELETE' ? undefined : { schemas: [USER_SCHEMA] });

    // Assess
    expect(answer.status).toBe(405);
    expect(answer.json).toMatchObject(scimError(405));
  });

  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('answers %s /Me with 501 and a SCIM error', async (method) => {
    // Act
    const answer = await api().call(method, '/Me', method === 'GET' || method === 'DELETE' ? undefined : { schemas: [USER_SCHEMA], userName: 'me' });

    // Assess
    expect(answer.status).toBe(501);
    expect(answer.headers.get('content-type')).toContain('application/scim+json');
    expect(answer.json).toMatchObject(scimError(501));
  });
});
