import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirectory } from '../../../shared/directory/directory.service.ts';
import { ScimError } from '../../../shared/scim/errors.ts';
import { DynamoDirectoryStore } from '../../../shared/store/directory.repository.ts';
import { resourceKey } from '../../../shared/store/hub-table.layout.ts';
import { freshHubTable, interceptedClient } from '../../support/dynamodb.ts';

const ctx = { baseUrl: 'https://hub.example/scim/v2', strictUnknownAttributes: false };
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
/** More members than one transaction holds (99 with the group's update): two chunks. */
const MEMBERS = 150;

/**
 * A process that dies between two chunks of a create: the client lets the first membership
 * transaction through, and every later one never answers (nothing after it runs, not even the
 * create's own clean-up, as when Lambda is stopped at its timeout).
 */
const dyingClient = () => {
  let membershipTransactions = 0;
  let died = () => {};
  const death = new Promise<void>((resolve) => {
    died = resolve;
  });
  const client = interceptedClient((command, input) => {
    const items = (input as { TransactItems?: Array<{ Put?: { Item?: { sk?: { S?: string } } } }> }).TransactItems ?? [];
    if (command !== 'TransactWriteItemsCommand' || !items.some((item) => item.Put?.Item?.sk?.S?.startsWith('MEMBER#'))) return undefined;
    if (++membershipTransactions === 1) return undefined;
    died();
    return new Promise<never>(() => {});
  });
  return { ...client, death };
};

describe('creating a group with more members than one transaction holds (DynamoDB Local)', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let dying: ReturnType<typeof dyingClient>;
  let userIds: string[];

  const directoryOn = (documents: typeof table.documents) =>
    makeDirectory({
      store: new DynamoDirectoryStore(documents, table.tableName),
      clock: () => new Date(),
      newId: randomUUID,
      onUnknownAttributes: () => undefined,
    });
  const body = (displayName: string) => ({ schemas: [GROUP], displayName, members: userIds.map((value) => ({ value })) });

  beforeAll(async () => {
    table = await freshHubTable('group-create-resume');
    dying = dyingClient();
    // The members as stored user items: only their existence matters here, so they are written in batches.
    userIds = Array.from({ length: MEMBERS }, () => randomUUID());
    const created = new Date().toISOString();
    for (let i = 0; i < MEMBERS; i += 25) {
      const users = userIds.slice(i, i + 25).map((id) => ({
        ...resourceKey('User', id),
        id,
        resourceType: 'User',
        version: 1,
        created,
        lastModified: created,
        data: { schemas: [USER], userName: `member-${id}` },
      }));
      await table.documents.send(new BatchWriteCommand({ RequestItems: { [table.tableName]: users.map((Item) => ({ PutRequest: { Item } })) } }));
    }
  });
  afterAll(() => {
    dying.raw.destroy();
    table.raw.destroy();
  });

  it('completes the members when the same request is sent again after a create died between chunks', async () => {
    // Prepare: the first create dies after its first chunk of members.
    void directoryOn(dying.documents).create('Group', body('Everyone'), ctx);
    await dying.death;
    const store = new DynamoDirectoryStore(table.documents, table.tableName);
    const groupId = await store.findIdByUnique('Group', { attribute: 'displayName', value: 'everyone' });
    expect((await store.get('Group', groupId as string))?.memberCount).toBeLessThan(MEMBERS);

    // Act: the client sends the same request again, from another container.
    const retried = await directoryOn(table.documents).create('Group', body('Everyone'), ctx);

    // Assess: one group, every member, and nothing left pending.
    expect(retried.resource.id).toBe(groupId);
    const stored = await store.get('Group', groupId as string);
    expect(stored?.memberCount).toBe(MEMBERS);
    expect(stored?.pendingMembers).toBeUndefined();
    expect((await store.membersAmong(groupId as string, userIds)).size).toBe(MEMBERS);
  });

  it('still refuses a different create of a taken name, and a repeat of a finished one', async () => {
    // Prepare
    const directory = directoryOn(table.documents);
    await directory.create('Group', body('Finished'), ctx);

    // Act
    const repeat = await directory.create('Group', body('Finished'), ctx).catch((e: unknown) => e);
    const other = await directory
      .create('Group', { schemas: [GROUP], displayName: 'Everyone', members: [{ value: userIds[0] }] }, ctx)
      .catch((e: unknown) => e);

    // Assess
    expect(repeat).toBeInstanceOf(ScimError);
    expect((repeat as ScimError).status).toBe(409);
    expect((other as ScimError).status).toBe(409);
  });
});
