import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BULK_REQUEST_SCHEMA,
  BULK_RESPONSE_SCHEMA,
  filterQuery,
  GROUP_SCHEMA,
  memberIdsOf,
  patchBody,
  scimError,
  USER_SCHEMA,
  userBody,
} from '../../builders/scim.builders.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/** RFC 7644 section 3.7: /Bulk with bulkId references, failOnErrors, its advertised limits and versions. */
describe('SCIM /Bulk', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);
  let counter = 0;
  const uniqueName = (label: string) => `bulk-${label}-${++counter}@example.com`;
  const bulk = (operations: unknown[], extra: Record<string, unknown> = {}) =>
    api().post('/Bulk', { schemas: [BULK_REQUEST_SCHEMA], Operations: operations, ...extra });
  const relative = (location: string) => location.replace(/^.*\/scim\/v2/, '');
  const usersNamed = async (userName: string) => (await api().get(`/Users${filterQuery(`userName eq "${userName}"`)}`)).json.totalResults;

  beforeAll(async () => {
    hub = await startTestHub('scim-bulk');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('creates a user and a group whose members reference it by bulkId', async () => {
    // Prepare
    const userName = uniqueName('ada');

    // Act
    const answer = await bulk([
      { method: 'POST', bulkId: 'ada', path: '/Users', data: userBody(userName) },
      {
        method: 'POST',
        bulkId: 'team',
        path: '/Groups',
        data: { schemas: [GROUP_SCHEMA], displayName: 'Bulk team', members: [{ type: 'User', value: 'bulkId:ada' }] },
      },
    ]);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json.schemas).toEqual([BULK_RESPONSE_SCHEMA]);
    const [userResult, groupResult] = answer.json.Operations;
    expect(userResult).toEqual({ method: 'POST', bulkId: 'ada', status: '201', version: 'W/"1"', location: expect.stringMatching(/\/Users\/[0-9a-f-]{36}$/) });
    expect(groupResult).toMatchObject({ method: 'POST', bulkId: 'team', status: '201', location: expect.stringMatching(/\/Groups\/[0-9a-f-]{36}$/) });
    const user = await api().get(relative(userResult.location));
    const group = await api().get(relative(groupResult.location));
    expect(user.json.userName).toBe(userName);
    expect(memberIdsOf(group.json)).toEqual([user.json.id]);
  });

  it('resolves a reference to an operation further down, and a bulkId in a path', async () => {
    // Act
    const answer = await bulk([
      { method: 'POST', bulkId: 'team', path: '/Groups', data: { schemas: [GROUP_SCHEMA], displayName: 'Forward team', members: [{ value: 'bulkId:grace' }] } },
      { method: 'PATCH', path: '/Users/bulkId:grace', data: patchBody({ op: 'replace', path: 'title', value: 'Admiral' }) },
      { method: 'POST', bulkId: 'grace', path: '/Users', data: userBody(uniqueName('grace')) },
    ]);

    // Assess
    expect(answer.json.Operations.map((result: { status: string }) => result.status)).toEqual(['201', '200', '201']);
    const userLocation = answer.json.Operations[2].location;
    expect(answer.json.Operations[1]).toMatchObject({ location: userLocation, version: 'W/"2"' });
    expect((await api().get(relative(userLocation))).json.title).toBe('Admiral');
  });

  it('reports each failure in place with its SCIM error and carries on without failOnErrors', async () => {
    // Prepare
    const taken = uniqueName('taken');
    await api().post('/Users', userBody(taken));
    const fresh = uniqueName('fresh');

    // Act
    const answer = await bulk([
      { method: 'POST', bulkId: 'dup', path: '/Users', data: userBody(taken) },
      { method: 'POST', bulkId: 'bad', path: '/Users', data: { schemas: [USER_SCHEMA] } },
      { method: 'DELETE', path: '/Users/00000000-0000-0000-0000-000000000000' },
      { method: 'POST', bulkId: 'ok', path: '/Users', data: userBody(fresh) },
    ]);

    // Assess
    expect(answer.status).toBe(200);
    const [dup, bad, missing, ok] = answer.json.Operations;
    expect(dup).toMatchObject({ bulkId: 'dup', status: '409', response: scimError(409, 'uniqueness') });
    expect(bad).toMatchObject({ bulkId: 'bad', status: '400', response: scimError(400, 'invalidValue') });
    expect(missing).toMatchObject({ method: 'DELETE', status: '404', response: scimError(404) });
    expect(ok).toMatchObject({ bulkId: 'ok', status: '201' });
    expect(await usersNamed(fresh)).toBe(1);
  });

  it('stops once failOnErrors operations have failed, running nothing after', async () => {
    // Prepare
    const [first, second, never] = [uniqueName('first'), uniqueName('second'), uniqueName('never')];

    // Act
    const answer = await bulk(
      [
        { method: 'POST', bulkId: 'a', path: '/Users', data: { schemas: [USER_SCHEMA] } },
        { method: 'POST', bulkId: 'b', path: '/Users', data: userBody(first) },
        { method: 'POST', bulkId: 'c', path: '/Users', data: userBody(first) },
        { method: 'POST', bulkId: 'd', path: '/Users', data: userBody(never) },
        { method: 'POST', bulkId: 'e', path: '/Users', data: userBody(second) },
      ],
      { failOnErrors: 2 },
    );

    // Assess
    expect(answer.json.Operations.map((result: { bulkId: string; status: string }) => [result.bulkId, result.status])).toEqual([
      ['a', '400'],
      ['b', '201'],
      ['c', '409'],
    ]);
    expect(await usersNamed(never)).toBe(0);
    expect(await usersNamed(second)).toBe(0);
  });

  it('fails an operation whose bulkId reference failed, and every operation in a reference cycle, with 409', async () => {
    // Act
    const answer = await bulk([
      { method: 'POST', bulkId: 'broken', path: '/Users', data: { schemas: [USER_SCHEMA] } },
      {
        method: 'POST',
        bulkId: 'needs-broken',
        path: '/Groups',
        data: { schemas: [GROUP_SCHEMA], displayName: 'Needs broken', members: [{ value: 'bulkId:broken' }] },
      },
      { method: 'POST', bulkId: 'g1', path: '/Groups', data: { schemas: [GROUP_SCHEMA], displayName: 'Cycle 1', members: [{ value: 'bulkId:g2' }] } },
      { method: 'POST', bulkId: 'g2', path: '/Groups', data: { schemas: [GROUP_SCHEMA], displayName: 'Cycle 2', members: [{ value: 'bulkId:g1' }] } },
    ]);

    // Assess
    expect(answer.json.Operations.map((result: { status: string }) => result.status)).toEqual(['400', '409', '409', '409']);
    expect((await api().get(`/Groups${filterQuery('displayName sw "Cycle" or displayName eq "Needs broken"')}`)).json.totalResults).toBe(0);
  });

  it("applies an operation's version as If-Match: 200 with the new version when current, 412 when stale", async () => {
    // Prepare
    const created = await api().post('/Users', userBody(uniqueName('versioned')));
    const path = `/Users/${created.json.id}`;

    // Act
    const answer = await bulk([
      { method: 'PATCH', path, version: 'W/"1"', data: patchBody({ op: 'replace', path: 'title', value: 'first' }) },
      { method: 'PUT', path, version: 'W/"1"', data: userBody(created.json.userName, { title: 'stale' }) },
      { method: 'DELETE', path, version: 'W/"1"' },
      { method: 'PUT', path, version: 'W/"2"', data: userBody(created.json.userName, { title: 'second' }) },
    ]);

    // Assess
    const [patched, stalePut, staleDelete, put] = answer.json.Operations;
    expect(patched).toMatchObject({ status: '200', version: 'W/"2"' });
    expect(stalePut).toMatchObject({ status: '412', response: scimError(412) });
    expect(staleDelete).toMatchObject({ status: '412', response: scimError(412) });
    expect(put).toMatchObject({ status: '200', version: 'W/"3"' });
    expect((await api().get(path)).json).toMatchObject({ title: 'second', meta: { version: 'W/"3"' } });
  });

  it('refuses more than maxOperations operations with 413 and runs none of them', async () => {
    // Prepare
    const names = Array.from({ length: 101 }, () => uniqueName('many'));

    // Act
    const answer = await bulk(names.map((userName, i) => ({ method: 'POST', bulkId: `u${i}`, path: '/Users', data: userBody(userName) })));

    // Assess
    expect(answer.status).toBe(413);
    expect(answer.json).toEqual({ ...scimError(413), detail: expect.stringContaining('at most 100 operations') });
    expect(await usersNamed(names[0] ?? '')).toBe(0);
  });

  it('refuses a body over maxPayloadSize with 413', async () => {
    // Act
    const answer = await bulk([{ method: 'POST', bulkId: 'big', path: '/Users', data: userBody(uniqueName('big'), { title: 'x'.repeat(1_048_577) }) }]);

    // Assess
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject(scimError(413));
  });

  it.each([
    ['without the BulkRequest schema', { Operations: [] }, 'invalidSyntax'],
    ['with an unknown method', { schemas: [BULK_REQUEST_SCHEMA], Operations: [{ method: 'GET', path: '/Users' }] }, 'invalidSyntax'],
    [
      'with a POST that has no bulkId',
      { schemas: [BULK_REQUEST_SCHEMA], Operations: [{ method: 'POST', path: '/Users', data: userBody('x@example.com') }] },
      'invalidValue',
    ],
    [
      'with a bulkId used twice',
      {
        schemas: [BULK_REQUEST_SCHEMA],
        Operations: [
          { method: 'POST', bulkId: 'x', path: '/Users', data: {} },
          { method: 'POST', bulkId: 'x', path: '/Groups', data: {} },
        ],
      },
      'invalidValue',
    ],
  ])('refuses a request %s with 400', async (_, body, scimType) => {
    // Act
    const answer = await api().post('/Bulk', body);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject(scimError(400, scimType));
  });
});
