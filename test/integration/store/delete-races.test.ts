import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionConflict } from '../../../shared/directory/directory.errors.ts';
import { type Directory, makeDirectory } from '../../../shared/directory/directory.service.ts';
import { DynamoDirectoryStore } from '../../../shared/store/directory.repository.ts';
import { ScimError } from '../../../shared/scim/errors.ts';
import { freshHubTable, scanTable } from '../../support/dynamodb.ts';

const ctx = { baseUrl: 'https://hub.example/scim/v2', strictUnknownAttributes: false };
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ROUNDS = 100;
/** Rounds run this many at a time, so the races also meet each other's transactions. */
const PARALLEL = 10;
/** A hundred rounds of several transactions each, on a shared DynamoDB Local. */
const RACE_TIMEOUT = 300_000;

const userBody = (userName: string) => ({ schemas: [USER], userName, externalId: `ext-${userName}`, emails: [{ value: `${userName}@example.com` }] });
const statusOf = (outcome: PromiseSettledResult<unknown>) =>
  outcome.status === 'fulfilled' ? 'ok' : outcome.reason instanceof ScimError ? outcome.reason.status : `unexpected ${String(outcome.reason)}`;

const inRounds = async (run: (round: number) => Promise<void>) => {
  for (let start = 0; start < ROUNDS; start += PARALLEL) {
    await Promise.all(Array.from({ length: PARALLEL }, (_, k) => run(start + k)));
  }
};

describe('DELETE against concurrent writers (DynamoDB Local)', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let store: DynamoDirectoryStore;
  let directory: Directory;

  const scan = async () => {
    const items = await scanTable(table.documents, table.tableName);
    const resources = new Set(items.filter((item) => item.sk === 'USER' || item.sk === 'GROUP').map((item) => item.pk as string));
    const exists = (type: string, id: unknown) => resources.has(`${type === 'Group' ? 'GROUP' : 'USER'}#${String(id)}`);
    return {
      items,
      orphanGuards: items.filter((item) => item.sk === 'UNIQUE' && !exists(String(item.pk).split('#')[1] as string, item.owner)),
      orphanEmails: items.filter((item) => String(item.pk).startsWith('EMAIL#') && !exists('User', item.userId)),
      orphanExternalIds: items.filter((item) => String(item.pk).startsWith('EXTERNALID#') && !exists(String(item.pk).split('#')[1] as string, item.resourceId)),
      danglingMembers: items.filter((item) => String(item.sk).startsWith('MEMBER#') && !exists(item.type as string, item.value)),
      membersOf: (groupId: string) => items.filter((item) => item.pk === `GROUP#${groupId}` && String(item.sk).startsWith('MEMBER#')),
      resource: (type: 'User' | 'Group', id: string) =>
        items.find((item) => item.pk === `${type === 'Group' ? 'GROUP' : 'USER'}#${id}` && item.sk === type.toUpperCase()),
    };
  };

  beforeAll(async () => {
    table = await freshHubTable('delete-races');
    store = new DynamoDirectoryStore(table.documents, table.tableName);
    directory = makeDirectory({ store, clock: () => new Date(), newId: randomUUID, onUnknownAttributes: () => undefined });
  });
  afterAll(() => table.raw.destroy());

  it('deletes only the version it read, atomically: a stale delete changes nothing', async () => {
    // Prepare
    const created = await directory.create('User', userBody('stale-delete'), ctx);
    const id = String(created.resource.id);
    const read = await store.get('User', id);
    await directory.patch('User', id, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'stale-renamed' }] }, undefined, ctx);

    // Act
    const attempt = store.delete(read as NonNullable<typeof read>, { uniques: [{ attribute: 'userName', value: 'stale-delete' }], emails: [] });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(VersionConflict);
    expect(await store.get('User', id)).toMatchObject({ data: { userName: 'stale-renamed' } });
    expect(await store.findIdByUnique('User', { attribute: 'userName', value: 'stale-renamed' })).toBe(id);
    await expect(directory.delete('User', id, 'W/"1"')).rejects.toMatchObject({ status: 412 });
    await directory.delete('User', id, 'W/"2"');
    expect(await store.get('User', id)).toBeUndefined();
  });

  it(
    `leaves no guard or index behind when a DELETE races a PATCH renaming userName, ${ROUNDS} times`,
    async () => {
      // Prepare
      const ids: string[] = [];
      const outcomes: Array<[unknown, unknown]> = [];

      // Act
      await inRounds(async (round) => {
        const id = String((await directory.create('User', userBody(`racer-${round}`), ctx)).resource.id);
        ids.push(id);
        const rename = {
          schemas: [PATCH_OP],
          Operations: [
            { op: 'replace', path: 'userName', value: `renamed-${round}` },
            { op: 'replace', path: 'externalId', value: `ext-renamed-${round}` },
          ],
        };
        const [patched, deleted] = await Promise.allSettled([directory.patch('User', id, rename, undefined, ctx), directory.delete('User', id, undefined)]);
        outcomes.push([statusOf(patched), statusOf(deleted)]);
      });

      // Assess
      // Every DELETE succeeds (it reads again after a concurrent rename); a PATCH may find the user gone.
      expect(outcomes.filter(([, deleted]) => deleted !== 'ok')).toEqual([]);
      expect(outcomes.filter(([patched]) => patched !== 'ok' && patched !== 404)).toEqual([]);
      const table = await scan();
      expect(ids.filter((id) => table.resource('User', id))).toEqual([]);
      expect(table.orphanGuards).toEqual([]);
      expect(table.orphanEmails).toEqual([]);
      expect(table.orphanExternalIds).toEqual([]);
      // Both the old and the new name are free again.
      for (const round of [0, ROUNDS / 2, ROUNDS - 1]) {
        await directory.create('User', userBody(`racer-${round}`), ctx);
        await directory.create('User', userBody(`renamed-${round}`), ctx);
      }
    },
    RACE_TIMEOUT,
  );

  it(
    `never leaves a dangling member, and keeps memberCount exact, when adding a member races its DELETE, ${ROUNDS} times`,
    async () => {
      // Prepare
      const group = await directory.create('Group', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Racing' }, ctx);
      const groupId = String(group.resource.id);
      const survivor = String((await directory.create('User', userBody('survivor'), ctx)).resource.id);
      const outcomes: Array<[unknown, unknown, boolean]> = [];

      // Act
      await inRounds(async (round) => {
        const id = String((await directory.create('User', userBody(`member-${round}`), ctx)).resource.id);
        // Every other round also adds the survivor, so the group's transactions meet each other too.
        const value = round % 2 === 0 ? [{ value: id }] : [{ value: id }, { value: survivor }];
        const add = { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value }] };
        const [added, deleted] = await Promise.allSettled([directory.patch('Group', groupId, add, undefined, ctx), directory.delete('User', id, undefined)]);
        outcomes.push([statusOf(added), statusOf(deleted), value.length === 2]);
      });

      // Assess
      expect(outcomes.filter(([, deleted]) => deleted !== 'ok')).toEqual([]);
      // An add that lost the race is a 400 (the member does not exist), never a 5xx.
      expect(outcomes.filter(([added]) => added !== 'ok' && added !== 400)).toEqual([]);
      const table = await scan();
      expect(table.danglingMembers).toEqual([]);
      const members = table.membersOf(groupId);
      // The survivor is a member exactly when some add that named it won its race (an add is all or nothing).
      const survivorAdded = outcomes.some(([added, , withSurvivor]) => withSurvivor && added === 'ok');
      expect(members.map((item) => item.value)).toEqual(survivorAdded ? [survivor] : []);
      expect(table.resource('Group', groupId)?.memberCount).toBe(members.length);
      expect(table.items.filter((item) => item.deleting !== undefined)).toEqual([]);
    },
    RACE_TIMEOUT,
  );
});
