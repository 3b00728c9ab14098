import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { hashToken, issueToken } from '../../../shared/auth/bearer-token.ts';
import { createDocumentClient } from '../../../shared/store/dynamodb.client.ts';
import { resourceKey } from '../../../shared/store/hub-table.keys.ts';
import { TokenRepository } from '../../../shared/store/token.repository.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe('SCIM protocol over HTTP', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let documents: ReturnType<typeof createDocumentClient>;
  let tableName: string;
  const api = () => scimClient(hub.scim);
  const user = (userName: string, extra: Record<string, unknown> = {}) => api().post('/Users', { schemas: [USER], userName, ...extra });

  beforeAll(async () => {
    hub = await startTestHub('protocol');
    tableName = String(process.env.TABLE_NAME);
    documents = createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb }));
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('versions every resource: ETag and meta.version, 412 on a stale If-Match, 304 on a matching If-None-Match', async () => {
    const created = await user('etag@example.com');
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.json.meta.version).toBe('W/"1"');
    const changed = await api().patch(`/Users/${created.json.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, { 'if-match': 'W/"1"' });
    expect(changed.headers.get('etag')).toBe('W/"2"');
    const stale = await api().put(`/Users/${created.json.id}`, { schemas: [USER], userName: 'etag@example.com' }, { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect((await api().get(`/Users/${created.json.id}`, { 'if-none-match': 'W/"2"' })).status).toBe(304);
    expect((await api().get(`/Users/${created.json.id}`, { 'if-none-match': 'W/"1"' })).status).toBe(200);
  });

  it('keeps userName unique ignoring case, externalId unique per resource type, group displayName unique', async () => {
    await user('Unique@Example.com', { externalId: 'ext-1' });
    const sameName = await user('unique@example.COM');
    expect(sameName.status).toBe(409);
    expect(sameName.json).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect((await user('other@example.com', { externalId: 'ext-1' })).json.scimType).toBe('uniqueness');
    expect((await api().post('/Groups', { schemas: [GROUP], displayName: 'Ops', externalId: 'ext-1' })).status).toBe(201);
    expect((await api().post('/Groups', { schemas: [GROUP], displayName: 'OPS' })).json.scimType).toBe('uniqueness');
  });

  it('lets exactly one of ten concurrent creates of one userName succeed', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => user('race@example.com')));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.json.scimType === 'uniqueness')).toHaveLength(9);
  });

  it('frees the userName when the user is deleted', async () => {
    const first = await user('reuse@example.com');
    expect((await api().delete(`/Users/${first.json.id}`)).status).toBe(204);
    expect((await api().get(`/Users/${first.json.id}`)).status).toBe(404);
    expect((await user('reuse@example.com')).status).toBe(201);
  });

  it.each([
    ['a malformed filter', () => api().get('/Users?filter=userName%20eq'), 400, 'invalidFilter'],
    ['a filter on an unknown attribute', () => api().get('/Users?filter=shoeSize%20eq%2042'), 400, 'invalidFilter'],
    ['malformed JSON', () => api().post('/Users', '{"userName":', { 'content-type': 'application/scim+json' }), 400, 'invalidSyntax'],
    ['a user without userName', () => api().post('/Users', { schemas: [USER] }), 400, 'invalidValue'],
    ['a PATCH on an unknown path', () => api().patch('/Users/none', { schemas: [PATCH_OP], Operations: [] }), 404, undefined],
    ['a bad cursor', () => api().get('/Users?cursor=not-a-cursor'), 400, 'invalidCursor'],
    ['POST on a discovery endpoint', () => api().post('/ServiceProviderConfig', {}), 405, undefined],
    ['/Me', () => api().get('/Me'), 501, undefined],
  ])('answers %s with a SCIM error', async (_, call, status, scimType) => {
    const answer = await call();
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/scim+json');
    expect(answer.json).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), ...(scimType ? { scimType } : {}) });
  });

  it('refuses PATCH paths that do not exist or cannot change, and writes nothing', async () => {
    const created = await user('patcherr@example.com');
    const path = `/Users/${created.json.id}`;
    expect((await api().patch(path, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }] })).json.scimType).toMatch(/invalidPath|invalidFilter/);
    expect((await api().patch(path, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'groups', value: [] }] })).json.scimType).toBe('mutability');
    expect((await api().patch(path, { schemas: [PATCH_OP], Operations: [{ op: 'remove' }] })).json.scimType).toBe('noTarget');
    expect((await api().get(path)).json.meta.version).toBe('W/"1"');
  });

  it('refuses a body over the advertised maxPayloadSize with 413', async () => {
    const answer = await api().post('/Users', { schemas: [USER], userName: 'big@example.com', title: 'x'.repeat(1_100_000) });
    expect(answer.status).toBe(413);
  });

  it('pages by cursor through every user exactly once', async () => {
    for (let i = 0; i < 7; i++) await user(`page-${i}@example.com`);
    const seen: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 50; pages++) {
      const page = await api().get(`/Users?count=3&cursor=${encodeURIComponent(cursor)}`);
      expect(page.status).toBe(200);
      seen.push(...page.json.Resources.map((r: { id: string }) => r.id));
      if (!page.json.nextCursor) break;
      cursor = page.json.nextCursor;
    }
    const total = (await api().get('/Users?count=0')).json.totalResults;
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('filters with the RFC operators, sorts, pages by startIndex and projects attributes', async () => {
    for (const [name, title, active] of [['sort-c', 'Zeta', true], ['sort-a', 'Alpha', false], ['sort-b', 'Mid', true]] as const) {
      await user(`${name}@example.com`, { title, active, name: { givenName: name.toUpperCase(), familyName: 'Sorted' } });
    }
    const list = (query: string) => api().get(`/Users?${query}`);
    const names = (answer: { json: { Resources: Array<{ userName: string }> } }) => answer.json.Resources.map((r) => r.userName);
    const sorted = await list(`filter=${encodeURIComponent('userName sw "sort-"')}&sortBy=title&sortOrder=descending`);
    expect(names(sorted)).toEqual(['sort-c@example.com', 'sort-b@example.com', 'sort-a@example.com']);
    const page = await list(`filter=${encodeURIComponent('userName sw "sort-"')}&sortBy=userName&startIndex=2&count=1`);
    expect(page.json).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(names(page)).toEqual(['sort-b@example.com']);
    const combined = await list(`filter=${encodeURIComponent('name.familyName eq "Sorted" and (active eq false or title co "et") and not (userName ew "b@example.com")')}`);
    expect(names(combined).sort()).toEqual(['sort-a@example.com', 'sort-c@example.com']);
    expect(names(await list(`filter=${encodeURIComponent('userName sw "sort-" and title gt "M"')}`)).sort()).toEqual(['sort-b@example.com', 'sort-c@example.com']);
    const projected = await list(`filter=${encodeURIComponent('userName eq "sort-a@example.com"')}&attributes=title`);
    expect(Object.keys(projected.json.Resources[0]).sort()).toEqual(['id', 'schemas', 'title']);
    const excluded = await list(`filter=${encodeURIComponent('userName eq "sort-a@example.com"')}&excludedAttributes=name,title`);
    expect(excluded.json.Resources[0]).toMatchObject({ userName: 'sort-a@example.com', active: false });
    expect(excluded.json.Resources[0].name).toBeUndefined();
    expect(excluded.json.Resources[0].title).toBeUndefined();
  });

  it('omits the members of a group above the inline limit, and pages them through groups.value', async () => {
    const a = await user('big-a@example.com');
    const b = await user('big-b@example.com');
    const group = await api().post('/Groups', { schemas: [GROUP], displayName: 'Everyone', members: [{ value: a.json.id }, { value: b.json.id }] });
    // Stand in for a 100 000-member group: the representation depends on the member count kept on the group.
    await documents.send(new UpdateCommand({ TableName: tableName, Key: resourceKey('Group', group.json.id), UpdateExpression: 'SET memberCount = :n', ExpressionAttributeValues: { ':n': 100_000 } }));
    const got = await api().get(`/Groups/${group.json.id}`);
    expect(got.json.members).toBeUndefined();
    expect(got.json['urn:ietf:params:scim:schemas:extension:hub:2.0:Group']).toEqual({ memberCount: 100_000, membersOmitted: true });
    const members = await api().get(`/Users?filter=${encodeURIComponent(`groups.value eq "${group.json.id}"`)}&count=1`);
    expect(members.json.totalResults).toBe(2);
    expect(members.json.Resources).toHaveLength(1);
  });

  it('derives a user\'s groups', async () => {
    const member = await user('member@example.com');
    const group = await api().post('/Groups', { schemas: [GROUP], displayName: 'Derived', members: [{ value: member.json.id }] });
    const got = await api().get(`/Users/${member.json.id}`);
    expect(got.json.groups).toEqual([{ value: group.json.id, $ref: `${hub.scim}/Groups/${group.json.id}`, display: 'Derived', type: 'direct' }]);
  });

  describe('authentication', () => {
    it('answers 401 with a SCIM error without a token and with a wrong one', async () => {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0000000000' }] as Array<Record<string, string>>) {
        const answer = await fetch(`${hub.scim}/Users`, { headers });
        expect(answer.status).toBe(401);
        expect(await answer.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
      }
    });

    it('accepts a stored token, refuses a revoked one, and a strict token rejects unknown attributes', async () => {
      const tokens = new TokenRepository(documents, tableName);
      const live = issueToken();
      const revoked = issueToken();
      const strict = issueToken();
      const now = new Date().toISOString();
      await tokens.put({ id: live.id, hash: live.hash, name: 'live', created: now, strictUnknownAttributes: false });
      await tokens.put({ id: revoked.id, hash: revoked.hash, name: 'revoked', created: now, strictUnknownAttributes: false });
      await tokens.put({ id: strict.id, hash: strict.hash, name: 'strict', created: now, strictUnknownAttributes: true });
      expect(await tokens.revoke(revoked.id, now)).toBe(true);
      expect(hashToken(live.token)).toBe(live.hash);
      expect((await scimClient(hub.scim, live.token).get('/Users?count=1')).status).toBe(200);
      expect((await scimClient(hub.scim, revoked.token).get('/Users?count=1')).status).toBe(401);
      const strictAnswer = await scimClient(hub.scim, strict.token).post('/Users', { schemas: [USER], userName: 'strict@example.com', shoeSize: 42 });
      expect(strictAnswer.status).toBe(400);
      expect(strictAnswer.json.scimType).toBe('invalidSyntax');
      expect((await scimClient(hub.scim, live.token).post('/Users', { schemas: [USER], userName: 'lenient@example.com', shoeSize: 42 })).status).toBe(201);
    });
  });
});
