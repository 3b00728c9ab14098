import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE_SCHEMA, groupBody, memberIdsOf, type PatchOperation, patchBody, scimError, USER_SCHEMA, userBody } from '../../builders/scim.builders.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/** RFC 7644 section 3.5.2: PATCH add, replace and remove, with simple, complex and value-filter paths, over HTTP. */
describe('SCIM PATCH', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);
  let counter = 0;
  const WORK = { value: 'work@example.com', type: 'work', primary: true };
  const HOME = { value: 'home@example.com', type: 'home' };
  const createUser = async (extra: Record<string, unknown> = {}) => {
    const created = await api().post(
      '/Users',
      userBody(`patch-${++counter}@example.com`, { name: { givenName: 'Ada', familyName: 'Lovelace' }, emails: [WORK, HOME], ...extra }),
    );
    expect(created.status).toBe(201);
    return created.json as { id: string; userName: string } & Record<string, unknown>;
  };
  const patchUser = (id: string, ...operations: PatchOperation[]) => api().patch(`/Users/${id}`, patchBody(...operations));

  beforeAll(async () => {
    hub = await startTestHub('scim-patch');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  describe('single-valued and complex attributes', () => {
    it('adds, replaces and removes a simple attribute, bumping the version each time', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const added = await patchUser(user.id, { op: 'add', path: 'title', value: 'Countess' });
      const replaced = await patchUser(user.id, { op: 'replace', path: 'title', value: 'Analyst' });
      const removed = await patchUser(user.id, { op: 'remove', path: 'title' });

      // Assess
      expect([added.status, replaced.status, removed.status]).toEqual([200, 200, 200]);
      expect([added.json.title, replaced.json.title, removed.json.title]).toEqual(['Countess', 'Analyst', undefined]);
      expect([added, replaced, removed].map((answer) => answer.headers.get('etag'))).toEqual(['W/"2"', 'W/"3"', 'W/"4"']);
      expect(removed.json.meta.version).toBe('W/"4"');
    });

    it('merges a complex value on replace and sets one sub-attribute by its dotted path', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const merged = await patchUser(user.id, { op: 'replace', path: 'name', value: { familyName: 'King' } });
      const sub = await patchUser(user.id, { op: 'replace', path: 'name.middleName', value: 'Augusta' });

      // Assess
      expect(merged.json.name).toEqual({ givenName: 'Ada', familyName: 'King' });
      expect(sub.json.name).toEqual({ givenName: 'Ada', familyName: 'King', middleName: 'Augusta' });
    });

    it('changes an enterprise extension attribute by its URN path and removes the extension when it empties', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const set = await patchUser(user.id, { op: 'add', path: `${ENTERPRISE_SCHEMA}:department`, value: 'Engines' });
      const cleared = await patchUser(user.id, { op: 'remove', path: `${ENTERPRISE_SCHEMA}:department` });

      // Assess
      expect(set.json.schemas).toEqual([USER_SCHEMA, ENTERPRISE_SCHEMA]);
      expect(set.json[ENTERPRISE_SCHEMA]).toEqual({ department: 'Engines' });
      expect(cleared.json.schemas).toEqual([USER_SCHEMA]);
      expect(cleared.json[ENTERPRISE_SCHEMA]).toBeUndefined();
    });

    it('applies all operations of one request in order, as one new version', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const answer = await patchUser(
        user.id,
        { op: 'add', path: 'title', value: 'first' },
        { op: 'replace', path: 'title', value: 'second' },
        { op: 'add', path: 'nickName', value: 'Ada' },
      );

      // Assess
      expect(answer.json).toMatchObject({ title: 'second', nickName: 'Ada', meta: { version: 'W/"2"' } });
    });
  });

  describe('multi-valued attributes', () => {
    it('appends on add, and does not add a value that is already there', async () => {
      // Prepare
      const user = await createUser();
      const other = { value: 'other@example.com', type: 'other' };

      // Act
      const answer = await patchUser(user.id, { op: 'add', path: 'emails', value: [other, HOME] });

      // Assess
      expect(answer.json.emails).toEqual([WORK, HOME, other]);
    });

    it('replaces the whole set on replace without a filter', async () => {
      // Prepare
      const user = await createUser();
      const only = { value: 'only@example.com', type: 'work' };

      // Act
      const answer = await patchUser(user.id, { op: 'replace', path: 'emails', value: [only] });

      // Assess
      expect(answer.json.emails).toEqual([only]);
    });

    it('replaces the sub-attribute of only the values a filter selects: emails[type eq "work"].value', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const answer = await patchUser(user.id, { op: 'replace', path: 'emails[type eq "work"].value', value: 'new-work@example.com' });

      // Assess
      expect(answer.json.emails).toEqual([{ ...WORK, value: 'new-work@example.com' }, HOME]);
    });

    it('replaces a whole selected value, leaving the others', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const answer = await patchUser(user.id, { op: 'replace', path: 'emails[type eq "home"]', value: { value: 'cottage@example.com', type: 'home' } });

      // Assess
      expect(answer.json.emails).toEqual([WORK, { value: 'cottage@example.com', type: 'home' }]);
    });

    it('removes only the values a filter matches', async () => {
      // Prepare
      const user = await createUser({ emails: [WORK, HOME, { value: 'second-home@example.com', type: 'home' }] });

      // Act
      const answer = await patchUser(user.id, { op: 'remove', path: 'emails[type eq "home"]' });

      // Assess
      expect(answer.json.emails).toEqual([WORK]);
    });

    it('adds the value a filter describes when none matches (Entra ID: add emails[type eq "work"].value)', async () => {
      // Prepare
      const user = await createUser({ emails: [HOME] });

      // Act
      const answer = await patchUser(user.id, { op: 'add', path: 'emails[type eq "work"].value', value: 'seeded@example.com' });

      // Assess
      expect(answer.json.emails).toEqual([HOME, { type: 'work', value: 'seeded@example.com' }]);
    });

    it('removes the whole attribute by its path', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const answer = await patchUser(user.id, { op: 'remove', path: 'emails' });

      // Assess
      expect(answer.json.emails).toBeUndefined();
    });
  });

  describe('group members', () => {
    let ids: string[];
    beforeAll(async () => {
      ids = [];
      for (let i = 0; i < 4; i++) ids.push((await createUser()).id);
    });

    it('adds members to the existing ones and replaces them all on replace', async () => {
      // Prepare
      const [a, b, c, d] = ids as [string, string, string, string];
      const group = (await api().post('/Groups', groupBody(`Team ${++counter}`, [a]))).json;

      // Act
      await api().patch(`/Groups/${group.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: b }, { value: c }] }));
      const afterAdd = await api().get(`/Groups/${group.id}`);
      await api().patch(`/Groups/${group.id}`, patchBody({ op: 'replace', path: 'members', value: [{ value: d }] }));
      const afterReplace = await api().get(`/Groups/${group.id}`);

      // Assess
      expect(memberIdsOf(afterAdd.json)).toEqual([a, b, c].sort());
      expect(memberIdsOf(afterReplace.json)).toEqual([d]);
    });

    it('removes only the members a filter matches, and all of them on remove without a value', async () => {
      // Prepare
      const [a, b, c] = ids as [string, string, string, string];
      const group = (await api().post('/Groups', groupBody(`Team ${++counter}`, [a, b, c]))).json;

      // Act
      const removeOne = await api().patch(`/Groups/${group.id}`, patchBody({ op: 'remove', path: `members[value eq "${b}" or value eq "not-a-member"]` }));
      const afterOne = await api().get(`/Groups/${group.id}`);
      await api().patch(`/Groups/${group.id}`, patchBody({ op: 'remove', path: 'members' }));
      const afterAll = await api().get(`/Groups/${group.id}`);

      // Assess
      expect(removeOne.status).toBe(204);
      expect(memberIdsOf(afterOne.json)).toEqual([a, c].sort());
      expect(afterAll.json.members).toBeUndefined();
    });

    it('renames a group and changes its members in one request', async () => {
      // Prepare
      const [a, b] = ids as [string, string, string, string];
      const group = (await api().post('/Groups', groupBody(`Team ${++counter}`, [a]))).json;

      // Act
      const answer = await api().patch(
        `/Groups/${group.id}?attributes=displayName,members`,
        patchBody({ op: 'replace', path: 'displayName', value: `Renamed ${counter}` }, { op: 'add', path: 'members', value: [{ value: b }] }),
      );

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.json.displayName).toBe(`Renamed ${counter}`);
      expect(memberIdsOf(answer.json)).toEqual([a, b].sort());
    });
  });

  describe('refusals', () => {
    it.each<[string, PatchOperation[], number, string]>([
      ['an unknown attribute', [{ op: 'replace', path: 'shoeSize', value: 42 }], 400, 'invalidPath'],
      ['an unclosed value filter', [{ op: 'replace', path: 'emails[type eq "work"', value: 'x' }], 400, 'invalidPath'],
      ['a malformed value filter', [{ op: 'replace', path: 'emails[type eq].value', value: 'x' }], 400, 'invalidFilter'],
      ['a value filter on a simple attribute', [{ op: 'replace', path: 'title[value eq "x"]', value: 'x' }], 400, 'invalidPath'],
      ['a replace whose filter matches nothing', [{ op: 'replace', path: 'emails[type eq "pager"].value', value: 'x' }], 400, 'noTarget'],
      ['a remove without a path', [{ op: 'remove' }], 400, 'noTarget'],
      ['a read-only attribute', [{ op: 'replace', path: 'id', value: 'mine' }], 400, 'mutability'],
      ['a read-only sub-attribute', [{ op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }], 400, 'mutability'],
      ['removing the required userName', [{ op: 'remove', path: 'userName' }], 400, 'mutability'],
      ['a value of the wrong type', [{ op: 'replace', path: 'active', value: 'maybe' }], 400, 'invalidValue'],
      ['an object for a string attribute', [{ op: 'replace', path: 'title', value: { text: 'x' } }], 400, 'invalidValue'],
      [
        'a list of two for a single-valued complex attribute',
        [{ op: 'replace', path: `${ENTERPRISE_SCHEMA}:manager`, value: [{ value: 'a' }, { value: 'b' }] }],
        400,
        'invalidValue',
      ],
      [
        'two primary values',
        [
          {
            op: 'add',
            path: 'emails',
            value: [
              { value: 'p@example.com', primary: true },
              { value: 'q@example.com', primary: true },
            ],
          },
        ],
        400,
        'invalidValue',
      ],
      ['an unknown op', [{ op: 'move', path: 'title', value: 'x' }], 400, 'invalidSyntax'],
      ['an add without a value', [{ op: 'add', path: 'title' }], 400, 'invalidSyntax'],
      [
        'a valid operation before an invalid one',
        [
          { op: 'replace', path: 'title', value: 'half-done' },
          { op: 'replace', path: 'shoeSize', value: 1 },
        ],
        400,
        'invalidPath',
      ],
    ])('refuses %s and changes nothing', async (_, operations, status, scimType) => {
      // Prepare
      const user = await createUser({ title: 'unchanged' });

      // Act
      const answer = await patchUser(user.id, ...operations);

      // Assess
      expect(answer.status).toBe(status);
      expect(answer.json).toMatchObject(scimError(status, scimType));
      expect((await api().get(`/Users/${user.id}`)).json).toEqual(user);
    });

    it('refuses a body that is not a PatchOp with 400 invalidSyntax', async () => {
      // Prepare: a PatchOp without schemas is accepted from a default token (errors-and-auth tests the strict one).
      const user = await createUser();

      // Act
      const answers = await Promise.all([
        api().patch(`/Users/${user.id}`, { schemas: ['urn:example:not-a-patch'], Operations: [{ op: 'replace', path: 'title', value: 'x' }] }),
        api().patch(`/Users/${user.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] }),
      ]);

      // Assess
      for (const answer of answers) expect(answer.json).toMatchObject(scimError(400, 'invalidSyntax'));
    });

    it('answers 404 for a resource that does not exist', async () => {
      // Act
      const answer = await patchUser('00000000-0000-0000-0000-000000000000', { op: 'replace', path: 'title', value: 'x' });

      // Assess
      expect(answer.status).toBe(404);
      expect(answer.json).toMatchObject(scimError(404));
    });
  });
});
