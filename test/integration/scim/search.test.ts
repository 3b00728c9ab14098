import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupBody, idsOf, scimError, SEARCH_REQUEST_SCHEMA, userBody } from '../../builders/scim.builders.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/**
 * RFC 7644 section 3.4.3: `POST /.search` at the root of the SCIM base is one query over Users
 * and Groups, with the filter, sort, paging and projection rules of the per-type endpoints.
 */
describe('SCIM search at the root (POST /.search)', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);
  const search = (body: Record<string, unknown>) => api().post('/.search', { schemas: [SEARCH_REQUEST_SCHEMA], ...body });
  const users: string[] = [];
  const groups: string[] = [];

  beforeAll(async () => {
    hub = await startTestHub('scim-root-search');
    for (const name of ['Zeta Ada', 'Zeta Cy', 'Alpha Ed']) {
      users.push((await api().post('/Users', userBody(`${name.replace(' ', '.').toLowerCase()}@example.com`, { displayName: name }))).json.id);
    }
    for (const name of ['Zeta Bee', 'Zeta Dee']) groups.push((await api().post('/Groups', groupBody(name, [users[0] as string]))).json.id);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('runs one filter over Users and Groups, sorted across both, each resource naming its type', async () => {
    // Act
    const answer = await search({ filter: 'displayName sw "zeta"', sortBy: 'displayName', sortOrder: 'descending' });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json.totalResults).toBe(4);
    expect(answer.json.Resources.map((r: { displayName: string; meta: { resourceType: string } }) => [r.displayName, r.meta.resourceType])).toEqual([
      ['Zeta Dee', 'Group'],
      ['Zeta Cy', 'User'],
      ['Zeta Bee', 'Group'],
      ['Zeta Ada', 'User'],
    ]);
  });

  it('matches only the type that has the filtered attribute: userName is no attribute of Group', async () => {
    // Act
    const byUserName = await search({ filter: 'userName eq "zeta.ada@example.com"' });
    const byMember = await search({ filter: `members.value eq "${users[0]}"` });
    const either = await search({ filter: 'userName eq "alpha.ed@example.com" or displayName eq "zeta bee"' });

    // Assess
    expect(idsOf(byUserName.json)).toEqual([users[0]]);
    expect(idsOf(byMember.json).sort()).toEqual([...groups].sort());
    expect(idsOf(either.json)).toEqual([users[2], groups[0]]);
    expect(either.json.totalResults).toBe(2);
  });

  it('pages by startIndex across both types, Users first, with an exact totalResults', async () => {
    // Act
    const pages = [await search({ startIndex: 1, count: 2 }), await search({ startIndex: 3, count: 2 }), await search({ startIndex: 5, count: 2 })];

    // Assess
    for (const page of pages) expect(page.json.totalResults).toBe(5);
    expect(pages.map((page) => idsOf(page.json))).toEqual([[users[0], users[1]], [users[2], groups[0]], [groups[1]]]);
    expect(pages.map((page) => page.json.startIndex)).toEqual([1, 3, 5]);
  });

  it('pages by cursor across both types (RFC 9865), unfiltered and filtered', async () => {
    // Act
    const walk = async (body: Record<string, unknown>) => {
      const seen: string[] = [];
      let cursor = '';
      for (let guard = 0; guard < 10; guard++) {
        const page = await search({ ...body, cursor, count: 2 });
        expect(page.status).toBe(200);
        seen.push(...idsOf(page.json));
        if (!page.json.nextCursor) return { seen, total: page.json.totalResults };
        cursor = page.json.nextCursor;
      }
      throw new Error('the cursor never ended');
    };
    const all = await walk({});
    const zetas = await walk({ filter: 'displayName sw "Zeta"', sortBy: 'displayName' });

    // Assess
    expect(all).toEqual({ seen: [...users, ...groups], total: 5 });
    expect(zetas.total).toBe(4);
    expect(zetas.seen).toEqual([users[0], groups[0], users[1], groups[1]]);
  });

  it('projects every resource by attributes and still says which type each one is', async () => {
    // Act
    const answer = await search({ filter: 'displayName sw "Zeta"', attributes: ['displayName'], excludedAttributes: 'members' });

    // Assess
    expect(answer.json.Resources).toHaveLength(4);
    for (const resource of answer.json.Resources) {
      expect(Object.keys(resource).sort()).toEqual(['displayName', 'id', 'meta', 'schemas']);
      expect(['User', 'Group']).toContain(resource.meta.resourceType);
    }
  });

  it.each([
    ['a filter no type understands', { filter: 'shoeSize eq 42' }, 'invalidFilter'],
    ['a malformed filter', { filter: 'displayName eq' }, 'invalidFilter'],
    ['a sortBy no type has', { sortBy: 'shoeSize' }, 'invalidValue'],
    ['a cursor it did not issue', { cursor: 'bm90LWEtY3Vyc29y' }, 'invalidCursor'],
  ])('answers %s with 400', async (_, body, scimType) => {
    // Act
    const answer = await search(body);

    // Assess
    expect(answer.json).toMatchObject(scimError(400, scimType));
  });

  it('answers GET /.search with 405', async () => {
    // Act
    const answer = await api().get('/.search');

    // Assess
    expect(answer.status).toBe(405);
  });
});
