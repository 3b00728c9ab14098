import { describe, expect, it } from 'vitest';
import { InMemoryDirectoryStore } from '../../../bench/support/in-memory-directory.store.ts';
import type { DirectoryStore } from '../../../shared/directory/directory.ports.ts';
import { makeDirectory } from '../../../shared/directory/directory.service.ts';
import { ScimError } from '../../../shared/scim/errors.ts';
import { groupBody, patchBody, userBody } from '../../builders/scim.builders.ts';

/**
 * What the HTTP tests cannot see: which store calls a use case makes. RFC 7644 section 3.9 lets
 * a client exclude members, and then the hub must not page through 100 000 of them.
 */
const ctx = { baseUrl: 'https://hub.example/scim/v2', strictUnknownAttributes: false };

const countingStore = () => {
  const store = new InMemoryDirectoryStore();
  const calls = { members: 0, groupIdsOf: 0, writes: 0 };
  const counted: DirectoryStore = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'members') calls.members++;
        if (property === 'groupIdsOf') calls.groupIdsOf++;
        if (['create', 'replace', 'delete', 'changeMembers'].includes(String(property))) calls.writes++;
        return value.apply(target, args);
      };
    },
  });
  let next = 0;
  const directory = makeDirectory({ store: counted, clock: () => new Date(), newId: () => `id-${++next}`, onUnknownAttributes: () => undefined });
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
  it('never reads a group\'s members when they are excluded or not asked for', async () => {
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

  it('never looks up a user\'s groups when they are excluded', async () => {
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
      directory.patch('Group', String(group.resource.id), patchBody({ op: 'replace', path: 'displayName', value: 'After' }, { op: 'add', path: 'members', value: [{ value: 'nobody' }] }), undefined, ctx),
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
    const directory = makeDirectory({ store: new InMemoryDirectoryStore(), clock: () => new Date(), newId: () => `u${++next}`, onUnknownAttributes: () => undefined, limits: { maxScanned: 2 } });
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
});
