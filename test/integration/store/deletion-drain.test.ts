import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeletionDrain, makeDeletionDrain } from '../../../shared/directory/deletion-drain.ts';
import type { DeletionDrainStore, PendingDrain } from '../../../shared/directory/directory.ports.ts';
import { type Directory, makeDirectory } from '../../../shared/directory/directory.service.ts';
import { DynamoDeletionDrainStore, drainOfItem } from '../../../shared/store/deletion-drain.repository.ts';
import { DynamoDirectoryStore } from '../../../shared/store/directory.repository.ts';
import { drainKey, membershipIndexKey, membershipKey, resourceKey } from '../../../shared/store/hub-table.layout.ts';
import { freshHubTable, scanTable } from '../../support/dynamodb.ts';

const ctx = { baseUrl: 'https://hub.example/scim/v2', strictUnknownAttributes: false };
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Pages small enough that a 400-member group takes several runs. */
const DRAIN_PAGE = { membersPerPage: 50, pagesPerRun: 2 };
const SEED_TIMEOUT = 120_000;

/**
 * A DELETE of a group removes it in one transaction whatever its size, and the deletion drain
 * removes its memberships afterwards, a bounded page per run (DynamoDB Local). Requests are
 * counted by a middleware on the client, as the store benchmarks count them, not timed.
 */
describe('deleting a big group (DynamoDB Local)', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let store: DynamoDirectoryStore;
  let drains: DynamoDeletionDrainStore;
  let directory: Directory;
  let drain: DeletionDrain;
  const requests: string[] = [];
  let counter = 0;

  const scan = () => scanTable(table.documents, table.tableName);
  const partitionOf = async (groupId: string) => (await scan()).filter((item) => item.pk === `GROUP#${groupId}`);
  const pendingDrain = async (type: 'User' | 'Group', id: string): Promise<PendingDrain | undefined> => {
    const item = (await table.documents.send(new GetCommand({ TableName: table.tableName, Key: drainKey(type, id), ConsistentRead: true }))).Item;
    return item ? drainOfItem(item) : undefined;
  };
  const counted = async <T>(act: () => Promise<T>): Promise<{ result: T; requests: string[] }> => {
    const from = requests.length;
    const result = await act();
    return { result, requests: requests.slice(from) };
  };
  /** Runs the drain the way its stream trigger does: once per change of the drain, until it is gone. */
  const drainAll = async (type: 'User' | 'Group', id: string, between: () => Promise<void> = async () => undefined) => {
    const runs: string[][] = [];
    for (let pending = await pendingDrain(type, id); pending; pending = await pendingDrain(type, id)) {
      runs.push((await counted(() => drain.run(pending as PendingDrain))).requests);
      await between();
      if (runs.length > 100) throw new Error('the drain does not finish');
    }
    return runs;
  };

  const createUser = async () => String((await directory.create('User', { schemas: [USER], userName: `member-${++counter}` }, ctx)).resource.id);
  const createGroup = async (members: string[] = []) =>
    String(
      (await directory.create('Group', { schemas: [GROUP], displayName: `Big ${++counter}`, members: members.map((value) => ({ value })) }, ctx)).resource.id,
    );
  /** Memberships of users that need not exist, written straight into the table as the store writes them. */
  const seedMembers = async (groupId: string, count: number) => {
    const ids = Array.from({ length: count }, () => randomUUID());
    const batches: string[][] = [];
    for (let start = 0; start < ids.length; start += 25) batches.push(ids.slice(start, start + 25));
    for (let start = 0; start < batches.length; start += 8) {
      await Promise.all(
        batches.slice(start, start + 8).map((part) =>
          table.documents.send(
            new BatchWriteCommand({
              RequestItems: {
                [table.tableName]: part.map((value) => ({
                  PutRequest: { Item: { ...membershipKey(groupId, value), ...membershipIndexKey(groupId, value), groupId, value, type: 'User' } },
                })),
              },
            }),
          ),
        ),
      );
    }
    await table.documents.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: resourceKey('Group', groupId),
        UpdateExpression: 'ADD memberCount :n',
        ExpressionAttributeValues: { ':n': count },
      }),
    );
  };

  beforeAll(async () => {
    table = await freshHubTable('deletion-drain');
    table.raw.middlewareStack.add(
      (next, context) => async (args) => {
        requests.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
    store = new DynamoDirectoryStore(table.documents, table.tableName);
    drains = new DynamoDeletionDrainStore(table.documents, table.tableName, store);
    directory = makeDirectory({ store, clock: () => new Date(), newId: randomUUID, onUnknownAttributes: () => undefined });
    drain = makeDeletionDrain({ drains, clock: () => new Date(), limits: DRAIN_PAGE });
  });
  afterAll(() => table.raw.destroy());

  it(
    'answers a DELETE with the same few requests whatever the group size, and frees the name at once',
    async () => {
      // Prepare
      const small = await createGroup();
      await seedMembers(small, 20);
      const big = await createGroup();
      await seedMembers(big, 800);
      const bigName = String((await directory.get('Group', big, {}, ctx)).resource.displayName);

      // Act
      const deleteSmall = await counted(() => directory.delete('Group', small, undefined));
      const deleteBig = await counted(() => directory.delete('Group', big, undefined));

      // Assess: a read, the transaction, the lookup of the groups it was a member of
      expect(deleteBig.requests).toEqual(deleteSmall.requests);
      expect(deleteBig.requests).toEqual(['GetItemCommand', 'TransactWriteItemsCommand', 'QueryCommand']);
      await expect(directory.get('Group', big, {}, ctx)).rejects.toMatchObject({ status: 404 });
      await expect(directory.create('Group', { schemas: [GROUP], displayName: bigName }, ctx)).resolves.toMatchObject({ resource: { displayName: bigName } });
      // The members are still there, for the drain.
      expect((await partitionOf(big)).filter((item) => String(item.sk).startsWith('MEMBER#'))).toHaveLength(800);
    },
    SEED_TIMEOUT,
  );

  it(
    'drains every membership of the deleted group in runs of a bounded number of requests, and leaves nothing behind',
    async () => {
      // Prepare
      const group = await createGroup();
      await seedMembers(group, 400);
      await directory.delete('Group', group, undefined);

      // Act
      const runs = await drainAll('Group', group);

      // Assess: 400 members in pages of 50, two pages a run: four runs at least
      expect(runs.length).toBeGreaterThanOrEqual(4);
      for (const run of runs) {
        expect(run.filter((name) => name === 'QueryCommand').length).toBeLessThanOrEqual(DRAIN_PAGE.pagesPerRun + 1);
        expect(run.filter((name) => name === 'BatchWriteItemCommand').length).toBeLessThanOrEqual((DRAIN_PAGE.pagesPerRun * DRAIN_PAGE.membersPerPage) / 25);
        expect(run.length).toBeLessThanOrEqual(DRAIN_PAGE.pagesPerRun * (1 + DRAIN_PAGE.membersPerPage / 25) + 3);
      }
      expect(await partitionOf(group)).toEqual([]);
      expect((await scan()).filter((item) => item.gsi1sk === `GROUP#${group}`)).toEqual([]);
    },
    SEED_TIMEOUT,
  );

  it(
    'never shows the deleted group while its memberships drain: not in a user, not by groups.value, not by members.value, and other counts stay',
    async () => {
      // Prepare: two real users in the doomed group and in a group that stays
      const users = [await createUser(), await createUser()];
      const doomed = await createGroup(users);
      await seedMembers(doomed, 400);
      const stays = await createGroup(users);
      await directory.delete('Group', doomed, undefined);
      const observed: Array<Record<string, unknown>> = [];
      const observe = async () => {
        const user = (await directory.get('User', users[0] as string, {}, ctx)).resource;
        const byGroup = await directory.list('User', { filter: `groups.value eq "${doomed}"` }, ctx);
        const byMember = await directory.list('Group', { filter: `members.value eq "${users[1]}"` }, ctx);
        const kept = (await directory.get('Group', stays, {}, ctx)).resource;
        observed.push({
          userGroups: (user.groups as Array<{ value: string }>).map((g) => g.value),
          byGroup: [byGroup.totalResults, (byGroup.Resources as unknown[]).length],
          byMember: (byMember.Resources as Array<{ id: string }>).map((g) => g.id),
          keptMembers: (kept.members as unknown[]).length,
        });
      };

      // Act
      await observe();
      await drainAll('Group', doomed, observe);

      // Assess
      expect(observed.length).toBeGreaterThan(2);
      for (const seen of observed) expect(seen).toEqual({ userGroups: [stays], byGroup: [0, 0], byMember: [stays], keptMembers: 2 });
      expect(await partitionOf(doomed)).toEqual([]);
    },
    SEED_TIMEOUT,
  );

  it(
    'resumes a drain killed half-way: the sweep nudges it once it stopped moving, and the next run finishes it',
    async () => {
      // Prepare: a drain whose second page dies, as a Lambda killed mid-run would
      const group = await createGroup();
      await seedMembers(group, 400);
      await directory.delete('Group', group, undefined);
      let pages = 0;
      const dying: DeletionDrainStore = {
        ...Object.fromEntries(
          (['removeMemberships', 'advanceDrain', 'finishDrain', 'staleDrains', 'nudgeDrain'] as const).map((name) => [name, drains[name].bind(drains)]),
        ),
        deleteMembersPage: async (groupId, options) => {
          if (++pages === 2) throw new Error('killed');
          return drains.deleteMembersPage(groupId, options);
        },
      } as DeletionDrainStore;
      const killed = makeDeletionDrain({ drains: dying, clock: () => new Date(), limits: DRAIN_PAGE });
      const before = await pendingDrain('Group', group);
      await expect(killed.run(before as PendingDrain)).rejects.toThrow('killed');
      const stopped = await pendingDrain('Group', group);
      const later = makeDeletionDrain({ drains, clock: () => new Date(Date.now() + 11 * 60_000), limits: DRAIN_PAGE });

      // Act
      const nudged = await later.sweep();
      const nudgedDrain = await pendingDrain('Group', group);
      const runs = await drainAll('Group', group);

      // Assess: the kill lost nothing but time; the sweep moved the drain, which is what runs it again
      expect(stopped).toEqual(before);
      expect(nudged).toBeGreaterThanOrEqual(1);
      expect(nudgedDrain?.updated).not.toEqual(before?.updated);
      expect(runs.length).toBeGreaterThan(0);
      expect(await partitionOf(group)).toEqual([]);
      expect(await later.sweep()).toBe(0);
    },
    SEED_TIMEOUT,
  );

  it('removes a deleted user from a group its DELETE could not see yet, and keeps that group count exact', async () => {
    // Prepare: a membership the eventually consistent gsi1 did not show the DELETE (written after it here)
    const user = await createUser();
    const group = await createGroup();
    await directory.delete('User', user, undefined);
    await table.documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [table.tableName]: [
            { PutRequest: { Item: { ...membershipKey(group, user), ...membershipIndexKey(group, user), groupId: group, value: user, type: 'User' } } },
          ],
        },
      }),
    );
    await table.documents.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: resourceKey('Group', group),
        UpdateExpression: 'ADD memberCount :n',
        ExpressionAttributeValues: { ':n': 1 },
      }),
    );

    // Act
    await drainAll('User', user);

    // Assess
    expect((await partitionOf(group)).filter((item) => item.sk !== 'GROUP')).toEqual([]);
    expect(await store.get('Group', group)).toMatchObject({ memberCount: 0 });
    expect(await pendingDrain('User', user)).toBeUndefined();
  });

  it('treats a deleting mark an earlier version left behind as nothing: the resource joins groups and deletes', async () => {
    // Prepare
    const user = await createUser();
    const group = await createGroup();
    await table.documents.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: resourceKey('User', user),
        UpdateExpression: 'SET deleting = :true',
        ExpressionAttributeValues: { ':true': true },
      }),
    );

    // Act
    await directory.patch('Group', group, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user }] }] }, undefined, ctx);
    await directory.delete('User', user, undefined);

    // Assess
    expect(await store.get('User', user)).toBeUndefined();
    expect(await store.get('Group', group)).toMatchObject({ memberCount: 0 });
  });
});
