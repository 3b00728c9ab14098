import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../../shared/auth/bearer-token.ts';
import { resourceKey } from '../../../shared/store/hub-table.layout.ts';
import { TokenRepository } from '../../../shared/store/token.repository.ts';
import { ERROR_SCHEMA, filterQuery, groupBody, patchBody, scimError, SEARCH_REQUEST_SCHEMA, USER_SCHEMA, userBody } from '../../builders/scim.builders.ts';
import { hubTableOf } from '../../support/hub-table.ts';
import { scimClient, startTestHub, TEST_TOKEN } from '../../support/local-hub.ts';

/**
 * RFC 7644 section 3.12: every failure is a SCIM Error with its status and scimType, and writes
 * nothing. This file's hub evaluates unindexed filters over at most SCAN_CAP users (10 000 in
 * the stack), so `tooMany` takes four users to reach.
 */
const SCAN_CAP = 3;
const ONE_MEGABYTE_AND_MORE = 'x'.repeat(1_048_577);

describe('SCIM errors and authentication', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let table: ReturnType<typeof hubTableOf>;
  const api = () => scimClient(hub.scim);
  let counter = 0;
  const uniqueName = (label: string) => `${label}-${++counter}@example.com`;
  const createUser = async (extra: Record<string, unknown> = {}) => {
    const created = await api().post('/Users', userBody(uniqueName('user'), extra));
    expect(created.status).toBe(201);
    return created.json as { id: string; userName: string } & Record<string, unknown>;
  };

  beforeAll(async () => {
    hub = await startTestHub('scim-errors', { environment: { SCIM_MAX_SCANNED: String(SCAN_CAP) } });
    table = hubTableOf(hub);
  });
  afterAll(async () => {
    table?.close();
    await hub?.stop();
  });

  describe('every error is a SCIM Error with status and scimType', () => {
    const cases: Array<[string, () => ReturnType<ReturnType<typeof scimClient>['call']>, number, string | undefined]> = [
      ['a malformed filter', () => api().get(`/Users${filterQuery('userName eq')}`), 400, 'invalidFilter'],
      ['a filter on an unknown attribute', () => api().get(`/Users${filterQuery('shoeSize eq 42')}`), 400, 'invalidFilter'],
      ['an ordering comparison on a boolean', () => api().get(`/Users${filterQuery('active gt true')}`), 400, 'invalidFilter'],
      [
        'a malformed filter in a search',
        () => api().post('/Groups/.search', { schemas: [SEARCH_REQUEST_SCHEMA], filter: '(displayName eq "x"' }),
        400,
        'invalidFilter',
      ],
      ['a user without userName', () => api().post('/Users', { schemas: [USER_SCHEMA], name: { givenName: 'Nobody' } }), 400, 'invalidValue'],
      ['a group without displayName', () => api().post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'] }), 400, 'invalidValue'],
      ['a member that does not exist', () => api().post('/Groups', groupBody('Dangling', ['00000000-0000-0000-0000-000000000000'])), 400, 'invalidValue'],
      ['malformed JSON', () => api().post('/Users', '{"userName":', { 'content-type': 'application/scim+json' }), 400, 'invalidSyntax'],
      ['a JSON body that is not an object', () => api().post('/Users', '["a"]', { 'content-type': 'application/scim+json' }), 400, 'invalidSyntax'],
      ['an empty body', () => api().post('/Users', '', { 'content-type': 'application/scim+json' }), 400, 'invalidSyntax'],
      ['a search without the SearchRequest schema', () => api().post('/Users/.search', { filter: 'userName pr' }), 400, 'invalidSyntax'],
      ['a cursor it did not issue', () => api().get('/Users?cursor=forged'), 400, 'invalidCursor'],
      ['a resource that does not exist', () => api().get('/Groups/00000000-0000-0000-0000-000000000000'), 404, undefined],
      ['a DELETE of the collection', () => api().delete('/Users'), 405, undefined],
      ['a PUT on the collection', () => api().put('/Groups', groupBody('x')), 405, undefined],
      ['a GET of .search', () => api().get('/Users/.search'), 405, undefined],
      ['a POST over the advertised maxPayloadSize', () => api().post('/Users', userBody('big@example.com', { title: ONE_MEGABYTE_AND_MORE })), 413, undefined],
      [
        'a PATCH over the advertised maxPayloadSize',
        () => api().patch('/Users/any', patchBody({ op: 'replace', path: 'title', value: ONE_MEGABYTE_AND_MORE })),
        413,
        undefined,
      ],
    ];

    it.each(cases)('answers %s with its status and scimType', async (_, call, status, scimType) => {
      // Act
      const answer = await call();

      // Assess
      expect(answer.status).toBe(status);
      expect(answer.headers.get('content-type')).toContain('application/scim+json');
      expect(answer.json).toEqual({ ...scimError(status, scimType), detail: expect.any(String) });
    });

    it('answers a taken userName with 409 uniqueness, ignoring case', async () => {
      // Prepare
      const existing = await createUser();

      // Act
      const answer = await api().post('/Users', userBody(existing.userName.toUpperCase()));

      // Assess
      expect(answer.status).toBe(409);
      expect(answer.json).toEqual({ ...scimError(409, 'uniqueness'), detail: expect.stringContaining('userName') });
    });

    it('answers PATCH paths: malformed with invalidPath, read-only with mutability, a filter that cannot match with noTarget', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const malformed = await api().patch(`/Users/${user.id}`, patchBody({ op: 'remove', path: 'name..givenName' }));
      const readOnly = await api().patch(`/Users/${user.id}`, patchBody({ op: 'replace', path: 'groups', value: [] }));
      const noTarget = await api().patch(`/Users/${user.id}`, patchBody({ op: 'replace', path: 'emails[type eq "work"].value', value: 'x@example.com' }));

      // Assess
      expect(malformed.json).toMatchObject(scimError(400, 'invalidPath'));
      expect(readOnly.json).toMatchObject(scimError(400, 'mutability'));
      expect(noTarget.json).toMatchObject(scimError(400, 'noTarget'));
    });

    it('answers a filter that would examine more users than the cap with 400 tooMany, but still answers indexed filters', async () => {
      // Prepare
      const users = [];
      for (let i = 0; i <= SCAN_CAP; i++) users.push(await createUser({ title: 'Scanned' }));

      // Act
      const scan = await api().get(`/Users${filterQuery('title eq "Scanned"')}`);
      const sort = await api().get('/Users?sortBy=title');
      const indexed = await api().get(`/Users${filterQuery(`userName eq "${users[0]?.userName}" and title eq "Scanned"`)}`);

      // Assess
      expect(scan.status).toBe(400);
      expect(scan.json).toEqual({ ...scimError(400, 'tooMany'), detail: expect.stringContaining(`more than ${SCAN_CAP} Users`) });
      expect(sort.json).toMatchObject(scimError(400, 'tooMany'));
      expect(indexed.status).toBe(200);
      expect(indexed.json.totalResults).toBe(1);
    });
  });

  describe('a failed request writes nothing', () => {
    it("leaves a user unchanged when its PUT would take another user's userName", async () => {
      // Prepare
      const taken = await createUser();
      const user = await createUser({ title: 'Before', externalId: `ext-${counter}` });
      const freshExternalId = `ext-fresh-${counter}`;

      // Act
      const answer = await api().put(`/Users/${user.id}`, userBody(taken.userName, { title: 'After', externalId: freshExternalId }));

      // Assess
      expect(answer.status).toBe(409);
      expect(answer.json).toMatchObject(scimError(409, 'uniqueness'));
      expect((await api().get(`/Users/${user.id}`)).json).toEqual(user);
      // Neither the new externalId was indexed nor the old one dropped from the index.
      const byExternalId = async (value: string) =>
        ((await api().get(`/Users?filter=${encodeURIComponent(`externalId eq "${value}"`)}`)).json.Resources as Array<{ id: string }>).map((found) => found.id);
      expect(await byExternalId(freshExternalId)).toEqual([]);
      expect(await byExternalId(String(user.externalId))).toEqual([user.id]);
    });

    it('leaves no trace of a create refused for its userName: its externalId is not indexed', async () => {
      // Prepare
      const taken = await createUser();

      // Act
      const refused = await api().post('/Users', userBody(taken.userName, { externalId: 'ext-of-the-refused' }));

      // Assess
      expect(refused.status).toBe(409);
      const found = await api().get(`/Users?filter=${encodeURIComponent('externalId eq "ext-of-the-refused"')}`);
      expect(found.json).toMatchObject({ totalResults: 0, Resources: [] });
    });

    it('leaves no group behind when a create names a member that does not exist', async () => {
      // Prepare
      const member = await createUser();

      // Act
      const refused = await api().post('/Groups', groupBody('Half made', [member.id, '00000000-0000-0000-0000-000000000000']));

      // Assess
      expect(refused.json).toMatchObject(scimError(400, 'invalidValue'));
      expect((await api().get(`/Groups${filterQuery('displayName eq "Half made"')}`)).json.totalResults).toBe(0);
      expect((await api().get(`/Users/${member.id}`)).json.groups).toBeUndefined();
      expect((await api().post('/Groups', groupBody('Half made'))).status).toBe(201);
    });

    it('leaves a group unchanged when a PATCH renames it and adds a member that does not exist', async () => {
      // Prepare
      const member = await createUser();
      const group = (await api().post('/Groups', groupBody(`Patched ${counter}`, [member.id]))).json;

      // Act
      const refused = await api().patch(
        `/Groups/${group.id}`,
        patchBody(
          { op: 'replace', path: 'displayName', value: 'Renamed anyway' },
          { op: 'add', path: 'members', value: [{ value: '00000000-0000-0000-0000-000000000000' }] },
        ),
      );

      // Assess
      expect(refused.json).toMatchObject(scimError(400, 'invalidValue'));
      expect((await api().get(`/Groups/${group.id}`)).json).toEqual(group);
    });

    it('leaves a group unchanged when a PUT names a member that does not exist', async () => {
      // Prepare
      const member = await createUser();
      const group = (await api().post('/Groups', groupBody(`Put ${counter}`, [member.id]))).json;

      // Act
      const refused = await api().put(`/Groups/${group.id}`, groupBody('Put anyway', ['00000000-0000-0000-0000-000000000000']));

      // Assess
      expect(refused.json).toMatchObject(scimError(400, 'invalidValue'));
      expect((await api().get(`/Groups/${group.id}`)).json).toEqual(group);
    });
  });

  describe('authentication', () => {
    const tokens = () => new TokenRepository(table.documents, table.tableName);
    const storeToken = async (name: string, options: { strict?: boolean; revoked?: boolean } = {}) => {
      const issued = issueToken();
      const now = new Date().toISOString();
      await tokens().put({ id: issued.id, hash: issued.hash, name, created: now, strictUnknownAttributes: options.strict ?? false });
      if (options.revoked) await tokens().revoke(issued.id, now);
      return issued.token;
    };

    it.each([
      ['no Authorization header', {}],
      ['a wrong bearer token', { authorization: 'Bearer wrong-token-0000000000000000' }],
      ['another scheme', { authorization: `Basic ${Buffer.from(`user:${TEST_TOKEN}`).toString('base64')}` }],
      ['an empty bearer', { authorization: 'Bearer ' }],
    ])('answers %s with 401 and a SCIM error, on resources and discovery alike', async (_, headers: Record<string, string>) => {
      for (const path of ['/Users', '/ServiceProviderConfig']) {
        // Act
        const answer = await fetch(`${hub.scim}${path}`, { headers });

        // Assess
        expect(answer.status).toBe(401);
        expect(answer.headers.get('content-type')).toContain('application/scim+json');
        expect(await answer.json()).toEqual({ schemas: [ERROR_SCHEMA], status: '401', detail: expect.any(String) });
      }
    });

    it('accepts tokens created through the TokenRepository, several at once, besides SCIM_BEARER_TOKEN', async () => {
      // Prepare
      const first = await storeToken('okta');
      const second = await storeToken('entra');

      // Act
      const answers = await Promise.all([first, second, TEST_TOKEN].map((token) => scimClient(hub.scim, token).get('/Users?count=1')));

      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    });

    it('refuses a revoked token with 401', async () => {
      // Prepare: revoked before its first use, so no cached Allow from the authorizer can stand in.
      const revoked = await storeToken('revoked', { revoked: true });

      // Act
      const answer = await scimClient(hub.scim, revoked).get('/Users?count=1');

      // Assess
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject(scimError(401));
    });

    it('ignores unknown attributes for a default token and refuses them with 400 invalidSyntax for a strict one', async () => {
      // Prepare
      const strict = scimClient(hub.scim, await storeToken('strict', { strict: true }));
      const lenient = scimClient(hub.scim, await storeToken('lenient'));
      const existing = await createUser();

      // Act
      const strictCreate = await strict.post('/Users', userBody(uniqueName('strict'), { shoeSize: 42 }));
      const strictReplace = await strict.put(`/Users/${existing.id}`, userBody(existing.userName, { name: { givenName: 'A', nickname: 'typo' } }));
      const strictKnown = await strict.post('/Users', userBody(uniqueName('strict-known'), { title: 'Known' }));
      const lenientCreate = await lenient.post('/Users', userBody(uniqueName('lenient'), { shoeSize: 42 }));

      // Assess
      expect(strictCreate.status).toBe(400);
      expect(strictCreate.json).toEqual({ ...scimError(400, 'invalidSyntax'), detail: expect.stringContaining('shoeSize') });
      expect(strictReplace.json).toEqual({ ...scimError(400, 'invalidSyntax'), detail: expect.stringContaining('name.nickname') });
      expect(strictKnown.status).toBe(201);
      expect(lenientCreate.status).toBe(201);
      expect(lenientCreate.json.shoeSize).toBeUndefined();
      const stored = await table.documents.send(new GetCommand({ TableName: table.tableName, Key: resourceKey('User', lenientCreate.json.id) }));
      expect(stored.Item?.data).not.toHaveProperty('shoeSize');
    });

    it('accepts a PATCH without schemas from a default token and refuses it with 400 invalidSyntax for a strict one', async () => {
      // Prepare
      const strict = scimClient(hub.scim, await storeToken('strict-patch', { strict: true }));
      const user = await createUser();
      const body = { Operations: [{ op: 'replace', path: 'title', value: 'No schemas' }] };

      // Act
      const refused = await strict.patch(`/Users/${user.id}`, body);
      const accepted = await api().patch(`/Users/${user.id}`, body);

      // Assess
      expect(refused.json).toMatchObject(scimError(400, 'invalidSyntax'));
      expect(accepted.status).toBe(200);
      expect(accepted.json.title).toBe('No schemas');
    });
  });
});
