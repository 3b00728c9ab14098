import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterQuery, GROUP_SCHEMA, groupBody, HUB_GROUP_SCHEMA, idsOf, memberIdsOf, patchBody, scimError, userBody } from '../../builders/scim.builders.ts';
import { scanTable } from '../../support/dynamodb.ts';
import { eventually } from '../../support/eventually.ts';
import { hubTableOf } from '../../support/hub-table.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/**
 * Groups are inlined with their members up to an inline cap (10 000 in the stack). This file's
 * hub lowers the cap to INLINE_CAP so a "large" group takes five members instead of 10 001.
 */
const INLINE_CAP = 4;

describe('SCIM /Groups', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);
  let counter = 0;
  const createUsers = async (howMany: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < howMany; i++) {
      const created = await api().post('/Users', userBody(`group-member-${++counter}@example.com`));
      expect(created.status).toBe(201);
      ids.push(created.json.id);
    }
    return ids;
  };

  beforeAll(async () => {
    hub = await startTestHub('scim-groups', { environment: { SCIM_MAX_INLINE_MEMBERS: String(INLINE_CAP) } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('creates a group with user and group members, each with its $ref and type', async () => {
    // Prepare
    const [ada] = await createUsers(1);
    const inner = (await api().post('/Groups', groupBody('Inner'))).json;

    // Act
    const created = await api().post('/Groups', groupBody('Outer', [ada ?? '', inner.id], { externalId: 'grp-outer' }));

    // Assess
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe(created.json.meta.version);
    expect(created.headers.get('location')).toBe(`${hub.scim}/Groups/${created.json.id}`);
    expect(created.json).toMatchObject({ schemas: [GROUP_SCHEMA], displayName: 'Outer', externalId: 'grp-outer', meta: { resourceType: 'Group' } });
    expect([...created.json.members].sort((a: { type: string }, b: { type: string }) => a.type.localeCompare(b.type))).toEqual([
      { value: inner.id, $ref: `${hub.scim}/Groups/${inner.id}`, type: 'Group' },
      { value: ada, $ref: `${hub.scim}/Users/${ada}`, type: 'User' },
    ]);
    const got = await api().get(`/Groups/${created.json.id}`);
    expect(got.headers.get('etag')).toBe(created.json.meta.version);
    expect(got.json).toEqual(created.json);
  });

  it('replaces displayName and members with PUT', async () => {
    // Prepare
    const [a, b, c] = await createUsers(3);
    const group = (await api().post('/Groups', groupBody('Before PUT', [a ?? '', b ?? '']))).json;

    // Act
    const replaced = await api().put(`/Groups/${group.id}`, groupBody('After PUT', [b ?? '', c ?? '']));

    // Assess
    expect(replaced.status).toBe(200);
    expect(replaced.headers.get('etag')).toBe(replaced.json.meta.version);
    expect(replaced.json.meta.version).not.toBe(group.meta.version);
    expect(replaced.json.displayName).toBe('After PUT');
    expect(memberIdsOf(replaced.json)).toEqual([b, c].sort());
    expect(memberIdsOf((await api().get(`/Groups/${group.id}`)).json)).toEqual([b, c].sort());
    expect((await api().get(`/Groups${filterQuery('displayName eq "Before PUT"')}`)).json.totalResults).toBe(0);
  });

  it('keeps the members on a PUT without members (what a GET of a big group returns) and clears them on "members": []', async () => {
    // Prepare
    const [a, b] = await createUsers(2);
    const group = (await api().post('/Groups', groupBody('PUT without members', [a ?? '', b ?? '']))).json;
    const { members: _members, ...withoutMembers } = group;

    // Act
    const renamed = await api().put(`/Groups/${group.id}`, { ...withoutMembers, displayName: 'PUT without members, renamed' });
    const cleared = await api().put(`/Groups/${group.id}`, { ...withoutMembers, displayName: 'PUT without members, renamed', members: [] });

    // Assess
    expect(renamed.status).toBe(200);
    expect(memberIdsOf(renamed.json)).toEqual([a, b].sort());
    expect(cleared.status).toBe(200);
    expect(cleared.json.members).toBeUndefined();
    expect((await api().get(`/Groups/${group.id}`)).json.members).toBeUndefined();
  });

  it('answers a group PATCH with 204 and the new ETag, or with 200 and the group when attributes are asked for', async () => {
    // Prepare
    const [a, b] = await createUsers(2);
    const group = (await api().post('/Groups', groupBody('Patched'))).json;
    const version = Number(/"(\d+)"/.exec(group.meta.version)?.[1]);

    // Act
    const bare = await api().patch(`/Groups/${group.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: a }] }));
    const withBody = await api().patch(`/Groups/${group.id}?attributes=displayName,members`, patchBody({ op: 'add', path: 'members', value: [{ value: b }] }));

    // Assess
    expect(bare.status).toBe(204);
    expect(bare.text).toBe('');
    expect(bare.headers.get('etag')).toBe(`W/"${version + 1}"`);
    expect(withBody.status).toBe(200);
    expect(withBody.headers.get('etag')).toBe(`W/"${version + 2}"`);
    expect(withBody.json.displayName).toBe('Patched');
    expect(memberIdsOf(withBody.json)).toEqual([a, b].sort());
  });

  it('keeps displayName unique ignoring case, while groups and users may share an externalId (RFC 7643 section 3.1)', async () => {
    // Prepare
    const first = (await api().post('/Groups', groupBody('Engineering', [], { externalId: 'shared-ext' }))).json;

    // Act
    const sameName = await api().post('/Groups', groupBody('ENGINEERING'));
    const sameExternalId = await api().post('/Groups', groupBody('Other team', [], { externalId: 'shared-ext' }));
    const userWithIt = await api().post('/Users', userBody('shares-ext@example.com', { externalId: 'shared-ext' }));
    const found = await api().get(`/Groups?filter=${encodeURIComponent('externalId eq "shared-ext"')}`);

    // Assess
    expect(sameName.status).toBe(409);
    expect(sameName.json).toMatchObject(scimError(409, 'uniqueness'));
    expect(sameExternalId.status).toBe(201);
    expect(userWithIt.status).toBe(201);
    expect(found.status).toBe(200);
    expect(found.json.totalResults).toBe(2);
    expect((found.json.Resources as Array<{ id: string }>).map((group) => group.id).sort()).toEqual([first.id, sameExternalId.json.id].sort());
  });

  it('deletes a group: 204, then 404, its members keep existing and its displayName is free', async () => {
    // Prepare
    const [a] = await createUsers(1);
    const group = (await api().post('/Groups', groupBody('Short-lived', [a ?? '']))).json;

    // Act
    const deleted = await api().delete(`/Groups/${group.id}`);

    // Assess
    expect(deleted.status).toBe(204);
    expect((await api().get(`/Groups/${group.id}`)).status).toBe(404);
    expect((await api().get(`/Users/${a}`)).status).toBe(200);
    expect((await api().post('/Groups', groupBody('short-lived'))).status).toBe(201);
  });

  it('drains the memberships of a deleted group in the background: the deletion drain, triggered by the stream, leaves nothing of it', async () => {
    // Prepare
    const members = await createUsers(3);
    const group = (await api().post('/Groups', groupBody('Drained', members))).json;
    const table = hubTableOf(hub);

    // Act
    expect((await api().delete(`/Groups/${group.id}`)).status).toBe(204);

    // Assess: the group's partition (membership items and the drain) empties without another request
    const partition = async () =>
      (await scanTable(table.documents, table.tableName)).filter((item) => item.pk === `GROUP#${group.id}`).map((item) => String(item.sk));
    await eventually(async () => expect(await partition()).toEqual([]), 30_000);
    expect((await api().get(`/Users/${members[0]}`)).json.groups).toBeUndefined();
    table.close();
  });

  describe('a group above the inline member cap', () => {
    let memberIds: string[];
    let group: { id: string };

    beforeAll(async () => {
      memberIds = await createUsers(INLINE_CAP + 1);
      group = (await api().post('/Groups', groupBody('Everyone', memberIds))).json;
    });

    it('is returned without members, with memberCount in the hub group extension', async () => {
      // Act
      const got = await api().get(`/Groups/${group.id}`);

      // Assess
      expect(got.status).toBe(200);
      expect(got.json.members).toBeUndefined();
      expect(got.json.schemas).toEqual([GROUP_SCHEMA, HUB_GROUP_SCHEMA]);
      expect(got.json[HUB_GROUP_SCHEMA]).toEqual({ memberCount: INLINE_CAP + 1, membersOmitted: true });
    });

    it('counts a member added by PATCH, which costs one membership write whatever the size', async () => {
      // Prepare
      const [extra] = await createUsers(1);

      // Act
      const added = await api().patch(`/Groups/${group.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: extra }] }));
      const got = await api().get(`/Groups/${group.id}?excludedAttributes=members`);
      const removed = await api().patch(`/Groups/${group.id}`, patchBody({ op: 'remove', path: `members[value eq "${extra}"]` }));

      // Assess
      expect(added.status).toBe(204);
      expect(got.json[HUB_GROUP_SCHEMA]).toEqual({ memberCount: INLINE_CAP + 2, membersOmitted: true });
      expect(removed.status).toBe(204);
      expect((await api().get(`/Groups/${group.id}`)).json[HUB_GROUP_SCHEMA].memberCount).toBe(INLINE_CAP + 1);
    });

    it('pages its members through GET /Users?filter=groups.value eq "<group id>", by index and by cursor', async () => {
      // Prepare
      const filter = `groups.value eq "${group.id}"`;

      // Act
      const first = await api().get(`/Users${filterQuery(filter, 'startIndex=1&count=2')}`);
      const seen: string[] = [];
      let cursor = '';
      for (let page = 0; page < 10; page++) {
        const answer = await api().get(`/Users${filterQuery(filter, `count=2&cursor=${encodeURIComponent(cursor)}`)}`);
        seen.push(...idsOf(answer.json));
        if (!answer.json.nextCursor) break;
        cursor = answer.json.nextCursor;
      }

      // Assess
      expect(first.json).toMatchObject({ totalResults: INLINE_CAP + 1, itemsPerPage: 2, startIndex: 1 });
      expect(seen.sort()).toEqual([...memberIds].sort());
    });
  });

  it('returns the members of a group at the cap, and none under excludedAttributes=members', async () => {
    // Prepare
    const memberIds = await createUsers(INLINE_CAP);
    const group = (await api().post('/Groups', groupBody('At the cap', memberIds))).json;

    // Act
    const full = await api().get(`/Groups/${group.id}`);
    const excluded = await api().get(`/Groups/${group.id}?excludedAttributes=members`);

    // Assess
    expect(memberIdsOf(full.json)).toEqual([...memberIds].sort());
    expect(full.json[HUB_GROUP_SCHEMA]).toBeUndefined();
    expect(excluded.json.members).toBeUndefined();
    expect(excluded.json).toMatchObject({ id: group.id, displayName: 'At the cap' });
  });
});
