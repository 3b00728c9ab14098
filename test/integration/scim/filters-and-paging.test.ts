import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENTERPRISE_SCHEMA,
  filterQuery,
  groupBody,
  idsOf,
  LIST_RESPONSE_SCHEMA,
  scimError,
  SEARCH_REQUEST_SCHEMA,
  USER_SCHEMA,
  userBody,
} from '../../builders/scim.builders.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/**
 * RFC 7644 section 3.4.2 (filters, sorting, index paging), RFC 9865 (cursor paging) and section
 * 3.9 (attributes) over HTTP, on a table holding exactly the five people below, created in this
 * order, and two groups.
 */
const PEOPLE = {
  ada: userBody('Ada@Example.com', {
    externalId: 'EXT-ada',
    title: 'Engineer',
    active: true,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [
      { value: 'ada@work.example', type: 'work' },
      { value: 'ada@home.example', type: 'home' },
    ],
    schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
    [ENTERPRISE_SCHEMA]: { department: 'Engines' },
  }),
  grace: userBody('grace@example.com', {
    externalId: 'ext-grace',
    title: 'Admiral',
    active: true,
    name: { givenName: 'Grace', familyName: 'Hopper' },
    emails: [{ value: 'grace@work.example', type: 'work' }],
  }),
  alan: userBody('alan@example.org', {
    externalId: 'EXT-alan',
    active: false,
    name: { givenName: 'Alan', familyName: 'Turing' },
    emails: [{ value: 'alan@home.example', type: 'home' }],
  }),
  edsger: userBody('edsger@example.org', {
    title: 'Engineer',
    active: false,
    name: { givenName: 'Edsger', familyName: 'Dijkstra' },
    schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
    [ENTERPRISE_SCHEMA]: { department: 'Research' },
  }),
  barbara: userBody('barbara@example.com', { title: 'Professor', active: true, name: { givenName: 'Barbara', familyName: 'Liskov' } }),
};
type Person = keyof typeof PEOPLE;

describe('SCIM filters, sorting, paging and attribute selection', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);
  const id: Record<Person, string> = { ada: '', grace: '', alan: '', edsger: '', barbara: '' };
  const created: Partial<Record<Person, { meta: { created: string } }>> = {};
  const groupId = { engineers: '', admirals: '' };
  const people = (...names: Person[]) => names.map((name) => id[name]).sort();
  const matching = async (filter: string, endpoint = '/Users') => {
    const answer = await api().get(`${endpoint}${filterQuery(filter)}`);
    expect(answer.status).toBe(200);
    return idsOf(answer.json).sort();
  };

  beforeAll(async () => {
    hub = await startTestHub('scim-filters');
    for (const [name, body] of Object.entries(PEOPLE) as Array<[Person, Record<string, unknown>]>) {
      const answer = await api().post('/Users', body);
      id[name] = answer.json.id;
      created[name] = answer.json;
    }
    groupId.engineers = (await api().post('/Groups', groupBody('Engineers', [id.ada, id.edsger]))).json.id;
    groupId.admirals = (await api().post('/Groups', groupBody('Admirals', [id.grace]))).json.id;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  describe('filter operators (RFC 7644 section 3.4.2.2)', () => {
    it.each<[string, Person[]]>([
      ['userName eq "ADA@EXAMPLE.COM"', ['ada']],
      ['userName ne "ada@example.com"', ['grace', 'alan', 'edsger', 'barbara']],
      ['title ne "Engineer"', ['grace', 'alan', 'barbara']],
      ['userName co "EXAMPLE.ORG"', ['alan', 'edsger']],
      ['userName sw "A"', ['ada', 'alan']],
      ['userName ew ".ORG"', ['alan', 'edsger']],
      ['name.familyName gt "hopper"', ['ada', 'alan', 'barbara']],
      ['name.familyName ge "Hopper"', ['ada', 'grace', 'alan', 'barbara']],
      ['name.familyName lt "Liskov"', ['grace', 'edsger']],
      ['name.familyName le "LISKOV"', ['grace', 'edsger', 'barbara']],
      ['title pr', ['ada', 'grace', 'edsger', 'barbara']],
      [`${ENTERPRISE_SCHEMA}:department pr`, ['ada', 'edsger']],
      [`${ENTERPRISE_SCHEMA}:department eq "research"`, ['edsger']],
      ['active eq false', ['alan', 'edsger']],
      ['meta.created gt "2000-01-01T00:00:00Z"', ['ada', 'grace', 'alan', 'edsger', 'barbara']],
      ['meta.lastModified lt "2000-01-01T00:00:00Z"', []],
    ])('%s', async (filter, expected) => {
      // Act
      const found = await matching(filter);

      // Assess
      expect(found).toEqual(people(...expected));
    });

    it('orders dateTimes chronologically: meta.created gt / ge / lt / le the created time of the second user', async () => {
      // Prepare
      const second = created.grace?.meta.created ?? '';

      // Act
      const [gt, ge, lt, le] = await Promise.all(['gt', 'ge', 'lt', 'le'].map((op) => matching(`meta.created ${op} "${second}"`)));

      // Assess
      expect(gt).toEqual(people('alan', 'edsger', 'barbara'));
      expect(ge).toEqual(people('grace', 'alan', 'edsger', 'barbara'));
      expect(lt).toEqual(people('ada'));
      expect(le).toEqual(people('ada', 'grace'));
    });

    it.each<[string, Person[]]>([
      ['title eq "Engineer" and active eq true', ['ada']],
      ['title eq "Engineer" or active eq false', ['ada', 'alan', 'edsger']],
      ['not (title eq "Engineer")', ['grace', 'alan', 'barbara']],
      // `and` binds tighter than `or`; parentheses change that.
      ['title eq "Admiral" or title eq "Engineer" and active eq false', ['grace', 'edsger']],
      ['(title eq "Admiral" or title eq "Engineer") and active eq false', ['edsger']],
      ['not (active eq true or title pr)', ['alan']],
    ])('combines with and, or, not and grouping: %s', async (filter, expected) => {
      // Act
      const found = await matching(filter);

      // Assess
      expect(found).toEqual(people(...expected));
    });

    it.each<[string, Person[]]>([
      ['emails[type eq "work" and value co "ada"]', ['ada']],
      ['emails[type eq "home"]', ['ada', 'alan']],
      ['emails[value eq "GRACE@work.example"]', ['grace']],
      ['emails.value eq "Alan@Home.Example"', ['alan']],
      ['emails.value co "@work."', ['ada', 'grace']],
      ['emails.type eq "home" and not (emails[type eq "work"])', ['alan']],
    ])('matches value paths and sub-attributes of multi-valued attributes: %s', async (filter, expected) => {
      // Act
      const found = await matching(filter);

      // Assess
      expect(found).toEqual(people(...expected));
    });

    it('compares userName ignoring case but externalId exactly (caseExact), through the index and through a scan', async () => {
      // Act
      const [byIndexExact, byIndexOtherCase, byScanExact, byScanOtherCase, nameByScan] = await Promise.all([
        matching('externalId eq "EXT-ada"'),
        matching('externalId eq "ext-ada"'),
        matching('externalId sw "EXT-"'),
        matching('externalId sw "ext-"'),
        matching('userName sw "ADA@"'),
      ]);

      // Assess
      expect(byIndexExact).toEqual(people('ada'));
      expect(byIndexOtherCase).toEqual([]);
      expect(byScanExact).toEqual(people('ada', 'alan'));
      expect(byScanOtherCase).toEqual(people('grace'));
      expect(nameByScan).toEqual(people('ada'));
    });

    it('answers a filter that matches nothing with 200 and an empty list', async () => {
      // Act
      const answer = await api().get(`/Users${filterQuery('userName eq "nobody@example.com"')}`);

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ schemas: [LIST_RESPONSE_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
    });

    it('filters groups by displayName ignoring case, by members.value and by a members value path', async () => {
      // Act
      const [byName, byNamePrefix, byMember, byMemberPath, notEngineers] = await Promise.all([
        matching('displayName eq "ENGINEERS"', '/Groups'),
        matching('displayName sw "adm"', '/Groups'),
        matching(`members.value eq "${id.ada}"`, '/Groups'),
        matching(`members[value eq "${id.grace}"]`, '/Groups'),
        matching(`members.value eq "${id.edsger}" and displayName ne "Engineers"`, '/Groups'),
      ]);

      // Assess
      expect(byName).toEqual([groupId.engineers]);
      expect(byNamePrefix).toEqual([groupId.admirals]);
      expect(byMember).toEqual([groupId.engineers]);
      expect(byMemberPath).toEqual([groupId.admirals]);
      expect(notEngineers).toEqual([]);
    });

    it("filters users by the groups they are in, checking the filter's other terms too", async () => {
      // Act
      const [members, activeMembers] = await Promise.all([
        matching(`groups.value eq "${groupId.engineers}"`),
        matching(`groups.value eq "${groupId.engineers}" and active eq true`),
      ]);

      // Assess
      expect(members).toEqual(people('ada', 'edsger'));
      expect(activeMembers).toEqual(people('ada'));
    });

    it('filters through POST /Users/.search as through GET', async () => {
      // Act
      const answer = await api().post('/Users/.search', {
        schemas: [SEARCH_REQUEST_SCHEMA],
        filter: 'title eq "Engineer"',
        attributes: ['userName'],
        sortBy: 'userName',
        count: 1,
      });

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ totalResults: 2, itemsPerPage: 1, startIndex: 1 });
      expect(answer.json.Resources).toEqual([{ schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA], id: id.ada, userName: 'Ada@Example.com' }]);
    });
  });

  describe('sorting (RFC 7644 section 3.4.2.3)', () => {
    const order = async (query: string) => idsOf((await api().get(`/Users?${query}`)).json);

    it('sorts ascending by default and descending when asked, ignoring case on userName', async () => {
      // Act
      const [byFamily, byFamilyDescending, byUserName, byCreatedDescending] = await Promise.all([
        order('sortBy=name.familyName'),
        order('sortBy=name.familyName&sortOrder=descending'),
        order('sortBy=userName&sortOrder=ascending'),
        order('sortBy=meta.created&sortOrder=DESCENDING'),
      ]);

      // Assess
      const families: Person[] = ['edsger', 'grace', 'barbara', 'ada', 'alan'];
      expect(byFamily).toEqual(families.map((name) => id[name]));
      expect(byFamilyDescending).toEqual([...families].reverse().map((name) => id[name]));
      expect(byUserName).toEqual((['ada', 'alan', 'barbara', 'edsger', 'grace'] as Person[]).map((name) => id[name]));
      expect(byCreatedDescending).toEqual((['barbara', 'edsger', 'alan', 'grace', 'ada'] as Person[]).map((name) => id[name]));
    });

    it('sorts users without the attribute last', async () => {
      // Act
      const byTitle = await order(filterQuery('active eq false', 'sortBy=title').slice(1));

      // Assess: edsger is an Engineer, alan has no title.
      expect(byTitle).toEqual([id.edsger, id.alan]);
    });

    it.each([
      ['sortOrder=sideways', 'an unknown sortOrder'],
      ['sortBy=shoeSize', 'an unknown sortBy'],
    ])('refuses %s with 400 invalidValue (%s)', async (query) => {
      // Act
      const answer = await api().get(`/Users?${query}`);

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject(scimError(400, 'invalidValue'));
    });
  });

  describe('index paging (RFC 7644 section 3.4.2.4)', () => {
    it('cuts sorted results into pages by startIndex and count', async () => {
      // Act
      const page = await api().get('/Users?sortBy=name.familyName&startIndex=2&count=2');

      // Assess
      expect(page.json).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
      expect(idsOf(page.json)).toEqual([id.grace, id.barbara]);
    });

    it('walks every user exactly once in pages of two without sorting or filtering', async () => {
      // Act
      const pages = await Promise.all([1, 3, 5].map((startIndex) => api().get(`/Users?startIndex=${startIndex}&count=2`)));

      // Assess
      expect(pages.map((page) => [page.json.startIndex, page.json.itemsPerPage, page.json.totalResults])).toEqual([
        [1, 2, 5],
        [3, 2, 5],
        [5, 1, 5],
      ]);
      const seen = pages.flatMap((page) => idsOf(page.json));
      expect(seen.sort()).toEqual(Object.values(id).sort());
    });

    it('reads a startIndex below 1 as 1, a negative count as 0, and answers past the end with an empty page', async () => {
      // Act
      const [belowOne, negativeCount, countZero, pastEnd] = await Promise.all([
        api().get('/Users?startIndex=-3&count=1&sortBy=name.familyName'),
        api().get('/Users?count=-1'),
        api().get(`/Users${filterQuery('title pr', 'count=0')}`),
        api().get('/Users?startIndex=6&count=5'),
      ]);

      // Assess
      expect(belowOne.json).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
      expect(idsOf(belowOne.json)).toEqual([id.edsger]);
      expect(negativeCount.json).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
      expect(countZero.json).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] });
      expect(pastEnd.json).toMatchObject({ totalResults: 5, startIndex: 6, itemsPerPage: 0, Resources: [] });
    });

    it('refuses a startIndex or count that is not an integer with 400 invalidValue', async () => {
      // Act
      const answers = await Promise.all([api().get('/Users?startIndex=two'), api().get('/Users?count=1.5')]);

      // Assess
      for (const answer of answers) expect(answer.json).toMatchObject(scimError(400, 'invalidValue'));
    });
  });

  describe('cursor paging (RFC 9865)', () => {
    const walk = async (query: string) => {
      const pages: Array<{ ids: string[]; nextCursor?: string; startIndex?: number }> = [];
      let cursor = '';
      for (let guard = 0; guard < 20; guard++) {
        const answer = await api().get(`/Users?${query}&cursor=${encodeURIComponent(cursor)}`);
        expect(answer.status).toBe(200);
        pages.push({ ids: idsOf(answer.json), nextCursor: answer.json.nextCursor, startIndex: answer.json.startIndex });
        if (!answer.json.nextCursor) break;
        cursor = answer.json.nextCursor;
      }
      return pages;
    };

    it('walks every user exactly once, with nextCursor on every page but the last and no startIndex', async () => {
      // Act
      const pages = await walk('count=2');

      // Assess
      expect(pages.map((page) => page.ids.length)).toEqual([2, 2, 1]);
      expect(pages.map((page) => typeof page.nextCursor)).toEqual(['string', 'string', 'undefined']);
      expect(pages.every((page) => page.startIndex === undefined)).toBe(true);
      const seen = pages.flatMap((page) => page.ids);
      expect(seen).toHaveLength(5);
      expect([...seen].sort()).toEqual(Object.values(id).sort());
    });

    it('walks a filtered, sorted result in order', async () => {
      // Act
      const pages = await walk(`count=3&sortBy=name.familyName&${filterQuery('title pr').slice(1)}`);

      // Assess
      expect(pages.map((page) => page.ids)).toEqual([[id.edsger, id.grace, id.barbara], [id.ada]]);
    });

    it('pages by cursor through POST /.search too', async () => {
      // Act
      const first = await api().post('/Users/.search', { schemas: [SEARCH_REQUEST_SCHEMA], cursor: '', count: 4, sortBy: 'userName' });
      const second = await api().post('/Users/.search', { schemas: [SEARCH_REQUEST_SCHEMA], cursor: first.json.nextCursor, count: 4, sortBy: 'userName' });

      // Assess
      expect(idsOf(first.json)).toEqual([id.ada, id.alan, id.barbara, id.edsger]);
      expect(idsOf(second.json)).toEqual([id.grace]);
      expect(second.json.nextCursor).toBeUndefined();
    });

    it('refuses a cursor it did not issue with 400 invalidCursor, and cursor with startIndex with 400 invalidValue', async () => {
      // Act
      const [forged, sortedForged, both] = await Promise.all([
        api().get('/Users?count=2&cursor=not-a-cursor'),
        api().get('/Users?count=2&sortBy=userName&cursor=not-a-cursor'),
        api().get('/Users?count=2&cursor=&startIndex=1'),
      ]);

      // Assess
      expect(forged.json).toMatchObject(scimError(400, 'invalidCursor'));
      expect(sortedForged.json).toMatchObject(scimError(400, 'invalidCursor'));
      expect(both.json).toMatchObject(scimError(400, 'invalidValue'));
    });
  });

  describe('attributes and excludedAttributes (RFC 7644 section 3.9)', () => {
    it('returns only the named attributes and sub-attributes, plus id and schemas', async () => {
      // Act
      const [listed, single, extension] = await Promise.all([
        api().get(`/Users${filterQuery(`id eq "${id.ada}"`, 'attributes=emails.value,name.familyName')}`),
        api().get(`/Users/${id.grace}?attributes=userName`),
        api().get(`/Users/${id.edsger}?attributes=${ENTERPRISE_SCHEMA}:department`),
      ]);

      // Assess
      expect(listed.json.Resources).toEqual([
        {
          schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
          id: id.ada,
          name: { familyName: 'Lovelace' },
          emails: [{ value: 'ada@work.example' }, { value: 'ada@home.example' }],
        },
      ]);
      expect(single.json).toEqual({ schemas: [USER_SCHEMA], id: id.grace, userName: 'grace@example.com' });
      expect(extension.json).toEqual({ schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA], id: id.edsger, [ENTERPRISE_SCHEMA]: { department: 'Research' } });
    });

    it('leaves out excluded attributes but never id', async () => {
      // Act
      const answer = await api().get(`/Users/${id.ada}?excludedAttributes=emails,name,${ENTERPRISE_SCHEMA},meta,id,groups`);

      // Assess
      expect(answer.json).toEqual({
        schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
        id: id.ada,
        externalId: 'EXT-ada',
        userName: 'Ada@Example.com',
        title: 'Engineer',
        active: true,
      });
    });

    it('projects group members away on a list when asked', async () => {
      // Act
      const answer = await api().get(`/Groups${filterQuery('displayName eq "Engineers"', 'excludedAttributes=members')}`);

      // Assess
      expect(answer.json.Resources).toHaveLength(1);
      expect(answer.json.Resources[0].members).toBeUndefined();
      expect(answer.json.Resources[0].displayName).toBe('Engineers');
    });
  });
});
