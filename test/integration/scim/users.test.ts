import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENTERPRISE_SCHEMA,
  filterQuery,
  groupBody,
  LIST_RESPONSE_SCHEMA,
  patchBody,
  scimError,
  SEARCH_REQUEST_SCHEMA,
  USER_SCHEMA,
  userBody,
} from '../../builders/scim.builders.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/** RFC 7644 sections 3.3 to 3.6 and 3.14 for /Users over HTTP: the lifecycle, versions and derived groups. */
describe('SCIM /Users', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);
  let counter = 0;
  const uniqueName = (label: string) => `${label}-${++counter}@example.com`;
  const createUser = async (label: string, extra: Record<string, unknown> = {}) => {
    const created = await api().post('/Users', userBody(uniqueName(label), extra));
    expect(created.status).toBe(201);
    return created.json;
  };

  beforeAll(async () => {
    hub = await startTestHub('scim-users');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  describe('create', () => {
    it('answers 201 with the stored resource, a server-assigned id, its Location, ETag and meta', async () => {
      // Prepare
      const body = userBody('Ada.Lovelace@example.com', {
        id: 'client-chosen-id',
        externalId: 'ext-ada',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
        active: true,
      });

      // Act
      const created = await api().post('/Users', body);

      // Assess
      expect(created.status).toBe(201);
      expect(created.headers.get('content-type')).toContain('application/scim+json');
      const { id, meta } = created.json;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.headers.get('location')).toBe(`${hub.scim}/Users/${id}`);
      expect(created.headers.get('etag')).toBe('W/"1"');
      expect(created.json).toEqual({
        schemas: [USER_SCHEMA],
        id,
        externalId: 'ext-ada',
        userName: 'Ada.Lovelace@example.com',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        active: true,
        emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
        meta: { resourceType: 'User', created: meta.created, lastModified: meta.created, version: 'W/"1"', location: `${hub.scim}/Users/${id}` },
      });
    });

    it('lists the enterprise extension in schemas when the user has enterprise attributes', async () => {
      // Act
      const created = await createUser('enterprise', {
        schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
        [ENTERPRISE_SCHEMA]: { department: 'Engines', employeeNumber: '42' },
      });

      // Assess
      expect(created.schemas).toEqual([USER_SCHEMA, ENTERPRISE_SCHEMA]);
      expect(created[ENTERPRISE_SCHEMA]).toEqual({ department: 'Engines', employeeNumber: '42' });
    });
  });

  describe('get', () => {
    it('answers 200 with the same representation and ETag as the create', async () => {
      // Prepare
      const created = await createUser('get', { title: 'Countess' });

      // Act
      const got = await api().get(`/Users/${created.id}`);

      // Assess
      expect(got.status).toBe(200);
      expect(got.headers.get('etag')).toBe('W/"1"');
      expect(got.json).toEqual(created);
    });

    it('answers 404 with a SCIM error for an id that does not exist', async () => {
      // Act
      const got = await api().get('/Users/00000000-0000-0000-0000-000000000000');

      // Assess
      expect(got.status).toBe(404);
      expect(got.json).toMatchObject(scimError(404));
    });
  });

  describe('list', () => {
    it('answers a ListResponse, through GET and through POST /.search alike', async () => {
      // Prepare
      const created = await createUser('listed');
      const filter = `userName eq "${created.userName}"`;

      // Act
      const viaGet = await api().get(`/Users${filterQuery(filter)}`);
      const viaSearch = await api().post('/Users/.search', { schemas: [SEARCH_REQUEST_SCHEMA], filter });

      // Assess
      expect(viaGet.status).toBe(200);
      expect(viaGet.json).toEqual({ schemas: [LIST_RESPONSE_SCHEMA], totalResults: 1, itemsPerPage: 1, startIndex: 1, Resources: [created] });
      expect(viaSearch.status).toBe(200);
      expect(viaSearch.json).toEqual(viaGet.json);
    });
  });

  describe('replace (PUT)', () => {
    it('replaces every client attribute, keeps id and meta.created, and bumps the version', async () => {
      // Prepare
      const created = await createUser('put', { title: 'Countess', nickName: 'Ada' });

      // Act
      const replaced = await api().put(`/Users/${created.id}`, userBody(created.userName, { displayName: 'A. Lovelace' }));

      // Assess
      expect(replaced.status).toBe(200);
      expect(replaced.headers.get('etag')).toBe('W/"2"');
      expect(replaced.json).toMatchObject({
        id: created.id,
        userName: created.userName,
        displayName: 'A. Lovelace',
        meta: { version: 'W/"2"', created: created.meta.created },
      });
      expect(replaced.json.title).toBeUndefined();
      expect(replaced.json.nickName).toBeUndefined();
      expect((await api().get(`/Users/${created.id}`)).json).toEqual(replaced.json);
    });

    it('moves the userName: the old one is free afterwards and the new one is taken', async () => {
      // Prepare
      const created = await createUser('rename');
      const newName = uniqueName('renamed');

      // Act
      const renamed = await api().put(`/Users/${created.id}`, userBody(newName));

      // Assess
      expect(renamed.status).toBe(200);
      expect((await api().post('/Users', userBody(created.userName))).status).toBe(201);
      expect((await api().post('/Users', userBody(newName.toUpperCase()))).json).toMatchObject(scimError(409, 'uniqueness'));
    });

    it('answers 404 for a user that does not exist', async () => {
      // Act
      const answer = await api().put('/Users/00000000-0000-0000-0000-000000000000', userBody(uniqueName('ghost')));

      // Assess
      expect(answer.status).toBe(404);
      expect(answer.json).toMatchObject(scimError(404));
    });
  });

  describe('delete', () => {
    it('answers 204, then 404 for the user, frees its userName and takes it out of the externalId index', async () => {
      // Prepare
      const created = await createUser('deleted', { externalId: 'ext-deleted' });
      const twin = await createUser('deleted-twin', { externalId: 'ext-deleted' });
      const byExternalId = () => api().get(`/Users?filter=${encodeURIComponent('externalId eq "ext-deleted"')}`);
      expect((await byExternalId()).json.totalResults).toBe(2);

      // Act
      const deleted = await api().delete(`/Users/${created.id}`);

      // Assess
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expect((await api().get(`/Users/${created.id}`)).status).toBe(404);
      expect((await api().delete(`/Users/${created.id}`)).status).toBe(404);
      expect((await byExternalId()).json.Resources.map((user: { id: string }) => user.id)).toEqual([twin.id]);
      const again = await api().post('/Users', userBody(created.userName.toUpperCase(), { externalId: 'ext-deleted' }));
      expect(again.status).toBe(201);
      expect(again.json.id).not.toBe(created.id);
    });
  });

  describe('versions (RFC 7644 section 3.14)', () => {
    it('answers 412 to a PUT, PATCH or DELETE whose If-Match is stale, and changes nothing', async () => {
      // Prepare
      const created = await createUser('stale', { title: 'v1' });
      await api().patch(`/Users/${created.id}`, patchBody({ op: 'replace', path: 'title', value: 'v2' }));
      const path = `/Users/${created.id}`;

      // Act
      const put = await api().put(path, userBody(created.userName, { title: 'put' }), { 'if-match': 'W/"1"' });
      const patch = await api().patch(path, patchBody({ op: 'replace', path: 'title', value: 'patch' }), { 'if-match': 'W/"1"' });
      const del = await api().delete(path, { 'if-match': 'W/"1"' });

      // Assess
      for (const answer of [put, patch, del]) {
        expect(answer.status).toBe(412);
        expect(answer.json).toMatchObject(scimError(412));
      }
      expect((await api().get(path)).json).toMatchObject({ title: 'v2', meta: { version: 'W/"2"' } });
    });

    it('applies a PUT, PATCH and DELETE whose If-Match is current', async () => {
      // Prepare
      const created = await createUser('current');
      const path = `/Users/${created.id}`;

      // Act
      const put = await api().put(path, userBody(created.userName, { title: 'put' }), { 'if-match': 'W/"1"' });
      const patch = await api().patch(path, patchBody({ op: 'replace', path: 'title', value: 'patch' }), { 'if-match': put.headers.get('etag') ?? '' });
      const del = await api().delete(path, { 'if-match': patch.headers.get('etag') ?? '' });

      // Assess
      expect([put.status, patch.status, del.status]).toEqual([200, 200, 204]);
      expect([put.headers.get('etag'), patch.headers.get('etag')]).toEqual(['W/"2"', 'W/"3"']);
      expect(patch.json.meta.version).toBe('W/"3"');
    });

    it('answers a GET whose If-None-Match names the current version with 304 and no body', async () => {
      // Prepare
      const created = await createUser('conditional');

      // Act
      const unchanged = await api().get(`/Users/${created.id}`, { 'if-none-match': 'W/"1"' });
      const stale = await api().get(`/Users/${created.id}`, { 'if-none-match': 'W/"7"' });

      // Assess
      expect(unchanged.status).toBe(304);
      expect(unchanged.headers.get('etag')).toBe('W/"1"');
      expect(unchanged.text).toBe('');
      expect(stale.status).toBe(200);
      expect(stale.json.id).toBe(created.id);
    });
  });

  describe('groups (RFC 7643 section 4.1.2)', () => {
    it("derives a user's groups from the groups' members, and updates them when membership changes", async () => {
      // Prepare
      const user = await createUser('member');
      const red = (await api().post('/Groups', groupBody('Red', [user.id]))).json;
      const blue = (await api().post('/Groups', groupBody('Blue', [user.id]))).json;

      // Act
      const inBoth = await api().get(`/Users/${user.id}`);
      await api().patch(`/Groups/${red.id}`, patchBody({ op: 'remove', path: `members[value eq "${user.id}"]` }));
      await api().delete(`/Groups/${blue.id}`);
      const inNone = await api().get(`/Users/${user.id}`);

      // Assess
      expect([...inBoth.json.groups].sort((a: { display: string }, b: { display: string }) => a.display.localeCompare(b.display))).toEqual([
        { value: blue.id, $ref: `${hub.scim}/Groups/${blue.id}`, display: 'Blue', type: 'direct' },
        { value: red.id, $ref: `${hub.scim}/Groups/${red.id}`, display: 'Red', type: 'direct' },
      ]);
      expect(inNone.json.groups).toBeUndefined();
    });

    it('refuses a PATCH on groups with 400 mutability and ignores groups sent on create and PUT', async () => {
      // Prepare
      const user = await createUser('readonly-groups');
      const group = (await api().post('/Groups', groupBody('Readonly'))).json;
      const groups = [{ value: group.id }];

      // Act
      const patched = await api().patch(`/Users/${user.id}`, patchBody({ op: 'add', path: 'groups', value: groups }));
      const created = await api().post('/Users', userBody(uniqueName('sent-groups'), { groups }));
      const replaced = await api().put(`/Users/${user.id}`, userBody(user.userName, { groups }));

      // Assess
      expect(patched.status).toBe(400);
      expect(patched.json).toMatchObject(scimError(400, 'mutability'));
      expect(created.status).toBe(201);
      expect(created.json.groups).toBeUndefined();
      expect(replaced.status).toBe(200);
      expect(replaced.json.groups).toBeUndefined();
      expect((await api().get(`/Groups/${group.id}`)).json.members).toBeUndefined();
    });
  });
});
