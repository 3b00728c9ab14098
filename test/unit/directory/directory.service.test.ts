import { describe, expect, it } from 'vitest';
import { InMemoryDirectoryStore } from '../../builders/in-memory-directory.store.ts';
import type { DirectoryStore } from '../../../shared/directory/directory.ports.ts';
import { type AdjustableLimits, DIRECTORY_LIMITS, HUB_GROUP_EXTENSION, makeDirectory } from '../../../shared/directory/directory.service.ts';
import { GROUP_SCHEMA_ID } from '../../../shared/scim/schemas.ts';
import { ScimError } from '../../../shared/scim/errors.ts';
import { groupBody, patchBody, userBody } from '../../builders/scim.builders.ts';

/**
 * What the HTTP tests cannot see: which store calls a use case makes. RFC 7644 section 3.9 lets
 * a client exclude members, and then the hub must not page through 100 000 of them.
 */
const ctx = { baseUrl: 'https://hub.example/scim/v2', strictUnknownAttributes: false };

const countingStore = (limits: AdjustableLimits = {}) => {
  const store = new InMemoryDirectoryStore();
  const calls = { members: 0, membersRead: 0, groupIdsOf: 0, writes: 0 };
  const counted: DirectoryStore = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'members') calls.members++;
        if (property === 'groupIdsOf') calls.groupIdsOf++;
        if (['create', 'replace', 'delete', 'changeMembers'].includes(String(property))) calls.writes++;
        const result = value.apply(target, args);
        if (property === 'members') void (result as Promise<{ items: unknown[] }>).then((page) => (calls.membersRead += page.items.length));
        return result;
      };
    },
  });
  let next = 0;
  const directory = makeDirectory({ store: counted, clock: () => new Date(), newId: () => `id-${++next}`, onUnknownAttributes: () => undefined, limits });
  return { directory, calls };
};

const rejection = async (promise: Promise<unknown>): Promise<ScimError> => {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ScimError)) throw new Error(`expected a ScimError, got ${String(error)}`);
  return error;
};

describe('directory use cases and the store calls they make', () => {
  it("never reads a group's members when they are excluded or not asked for", async () => {
    // Prepare
    const { directory, calls } = countingStore();
    const member = await directory.create('User', userBody('a@example.com'), ctx);
    const group = await directory.create('Group', groupBody('Team', [String(member.resource.id)]), ctx);
    const id = String(group.resource.id);
    calls.members = 0;

    // Act
    const excluded = await directory.get('Group', id, { excludedAttributes: ['members'] }, ctx);
    const notAsked = await directory.get('Group', id, { attributes: ['displayName'] }, ctx);
    const listed = await directory.list('Group', { filter: 'displayName eq "Team"', excludedAttributes: ['members'] }, ctx);
    const readsWhenExcluded = calls.members;
    const full = await directory.get('Group', id, {}, ctx);

    // Assess
    expect(readsWhenExcluded).toBe(0);
    expect(excluded.resource.members).toBeUndefined();
    expect(notAsked.resource.members).toBeUndefined();
    expect((listed.Resources as Array<Record<string, unknown>>)[0]?.members).toBeUndefined();
    expect(calls.members).toBe(1);
    expect(full.resource.members).toEqual([{ value: member.resource.id, $ref: `${ctx.baseUrl}/Users/${member.resource.id}`, type: 'User' }]);
  });

  it("never looks up a user's groups when they are excluded", async () => {
    // Prepare
    const { directory, calls } = countingStore();
    const user = await directory.create('User', userBody('b@example.com'), ctx);
    calls.groupIdsOf = 0;

    // Act
    await directory.get('User', String(user.resource.id), { excludedAttributes: ['groups'] }, ctx);
    const excludedLookups = calls.groupIdsOf;
    await directory.get('User', String(user.resource.id), {}, ctx);

    // Assess
    expect(excludedLookups).toBe(0);
    expect(calls.groupIdsOf).toBe(1);
  });

  it('writes nothing when a group PATCH renames the group and adds a member that does not exist', async () => {
    // Prepare
    const { directory, calls } = countingStore();
    const group = await directory.create('Group', groupBody('Before'), ctx);
    calls.writes = 0;

    // Act
    const error = await rejection(
      directory.patch(
        'Group',
        String(group.resource.id),
        patchBody({ op: 'replace', path: 'displayName', value: 'After' }, { op: 'add', path: 'members', value: [{ value: 'nobody' }] }),
        undefined,
        ctx,
      ),
    );

    // Assess
    expect(error.status).toBe(400);
    expect(error.scimType).toBe('invalidValue');
    expect(calls.writes).toBe(0);
    expect((await directory.get('Group', String(group.resource.id), {}, ctx)).resource.displayName).toBe('Before');
  });

  it('evaluates an unindexed filter over at most the injected maxScanned resources, then answers tooMany', async () => {
    // Prepare
    let next = 0;
    const directory = makeDirectory({
      store: new InMemoryDirectoryStore(),
      clock: () => new Date(),
      newId: () => `u${++next}`,
      onUnknownAttributes: () => undefined,
      limits: { maxScanned: 2 },
    });
    for (const name of ['a', 'b']) await directory.create('User', userBody(`${name}@example.com`, { title: 'T' }), ctx);
    const withinCap = await directory.list('User', { filter: 'title eq "T"' }, ctx);
    await directory.create('User', userBody('c@example.com', { title: 'T' }), ctx);

    // Act
    const error = await rejection(directory.list('User', { filter: 'title eq "T"' }, ctx));

    // Assess
    expect(withinCap.totalResults).toBe(2);
    expect(error.status).toBe(400);
    expect(error.scimType).toBe('tooMany');
  });

  const groupOf = async (directory: ReturnType<typeof countingStore>['directory'], size: number, name = 'Big') => {
    const ids: string[] = [];
    for (let i = 0; i < size; i++) ids.push(String((await directory.create('User', userBody(`${name}-${i}@example.com`), ctx)).resource.id));
    const group = await directory.create('Group', groupBody(name, ids), ctx);
    return { id: String(group.resource.id), memberIds: ids };
  };

  it('pages the members of a group through groups.value eq reading one page of the membership, not the whole group', async () => {
    // Prepare
    const { directory, calls } = countingStore();
    const group = await groupOf(directory, 2500);
    calls.members = 0;
    calls.membersRead = 0;

    // Act
    const first = await directory.list('User', { filter: `groups.value eq "${group.id}"`, cursor: '', count: 100 }, ctx);
    const second = await directory.list('User', { filter: `groups.value eq "${group.id}"`, cursor: String(first.nextCursor), count: 100 }, ctx);

    // Assess
    expect(calls.members).toBe(2);
    expect(calls.membersRead).toBe(200);
    expect(first.totalResults).toBe(2500);
    const seen = [...(first.Resources as Array<{ id: string }>), ...(second.Resources as Array<{ id: string }>)].map((user) => user.id);
    expect(new Set(seen).size).toBe(200);
    for (const id of seen) expect(group.memberIds).toContain(id);
  });

  it('answers a startIndex beyond the scan cap with tooMany instead of walking the index', async () => {
    // Prepare
    const { directory, calls } = countingStore({ maxScanned: 50 });
    const group = await groupOf(directory, 60);
    calls.membersRead = 0;

    // Act
    const errors = [
      await rejection(directory.list('User', { startIndex: 52 }, ctx)),
      await rejection(directory.list('User', { filter: `groups.value eq "${group.id}"`, startIndex: 52 }, ctx)),
      await rejection(directory.search({ startIndex: 52 }, ctx)),
    ];
    const lastAllowed = await directory.list('User', { filter: `groups.value eq "${group.id}"`, startIndex: 51, count: 5 }, ctx);

    // Assess
    for (const error of errors) expect(error).toMatchObject({ status: 400, scimType: 'tooMany' });
    expect((lastAllowed.Resources as unknown[]).length).toBe(5);
    expect(calls.membersRead).toBeLessThanOrEqual(55);
  });

  it('leaves the members of a group alone on a PUT without members, and clears them on "members": []', async () => {
    // Prepare
    const { directory } = countingStore();
    const group = await groupOf(directory, 3, 'Kept');

    // Act
    await directory.replace('Group', group.id, { schemas: [GROUP_SCHEMA_ID], displayName: 'Kept renamed' }, undefined, ctx);
    const afterRename = await directory.get('Group', group.id, {}, ctx);
    await directory.replace('Group', group.id, { schemas: [GROUP_SCHEMA_ID], displayName: 'Kept renamed', members: [] }, undefined, ctx);
    const afterClear = await directory.get('Group', group.id, {}, ctx);

    // Assess
    expect(afterRename.resource.displayName).toBe('Kept renamed');
    expect((afterRename.resource.members as Array<{ value: string }>).map((member) => member.value).sort()).toEqual([...group.memberIds].sort());
    expect(afterClear.resource.members).toBeUndefined();
  });

  it('lists groups whose member lists would pass the response budget without their members, saying so', async () => {
    // Prepare: room for the members of about two of the three groups.
    const perMember = JSON.stringify(
      JSON.stringify({ value: '00000000-0000-0000-0000-000000000000', $ref: `${ctx.baseUrl}/Groups/00000000-0000-0000-0000-000000000000`, type: 'Group' }),
    ).length;
    const { directory } = countingStore({ memberBytesPerResponse: perMember * 25 });
    for (const name of ['g1', 'g2', 'g3']) await groupOf(directory, 10, name);

    // Act
    const listed = await directory.list('Group', {}, ctx);

    // Assess
    const groups = listed.Resources as Array<Record<string, unknown>>;
    expect(groups.map((group) => (group.members as unknown[] | undefined)?.length)).toEqual([10, 10, undefined]);
    expect(groups[2]?.[HUB_GROUP_EXTENSION]).toEqual({ memberCount: 10, membersOmitted: true });
  });

  it('refuses a PUT or PATCH that would remove more members than the limit without reading them', async () => {
    // Prepare: a group that claims more members than the limit, as a big group's memberCount does.
    const store = new InMemoryDirectoryStore();
    const directory = makeDirectory({ store, clock: () => new Date(), newId: () => 'g-big', onUnknownAttributes: () => undefined });
    await directory.create('Group', groupBody('Claimed big'), ctx);
    const group = (await store.get('Group', 'g-big')) as NonNullable<Awaited<ReturnType<typeof store.get>>>;
    await store.replace(
      { ...group, version: group.version + 1, memberCount: DIRECTORY_LIMITS.maxMemberDiff + 1 },
      group.version,
      { uniques: [], emails: [] },
      { uniques: [], emails: [] },
    );
    let memberReads = 0;
    const members = store.members.bind(store);
    store.members = (...args) => {
      memberReads++;
      return members(...args);
    };

    // Act
    const errors = [
      await rejection(directory.replace('Group', 'g-big', { schemas: [GROUP_SCHEMA_ID], displayName: 'Claimed big', members: [] }, undefined, ctx)),
      await rejection(directory.patch('Group', 'g-big', patchBody({ op: 'remove', path: 'members' }), undefined, ctx)),
    ];

    // Assess
    for (const error of errors) expect(error).toMatchObject({ status: 400, scimType: 'tooMany' });
    expect(memberReads).toBe(0);
  });

  it('refuses a PUT whose member difference is over the limit before writing anything', async () => {
    // Prepare
    const { directory, calls } = countingStore();
    const group = await directory.create('Group', groupBody('Huge'), ctx);
    const wanted = Array.from({ length: DIRECTORY_LIMITS.maxMemberDiff + 1 }, (_, i) => ({ value: `missing-${i}` }));
    calls.writes = 0;

    // Act
    const error = await rejection(
      directory.replace('Group', String(group.resource.id), { schemas: [GROUP_SCHEMA_ID], displayName: 'Huge renamed', members: wanted }, undefined, ctx),
    );

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'tooMany' });
    expect(calls.writes).toBe(0);
  });
});
