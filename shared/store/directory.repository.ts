import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidCursor, MemberNotFound, ResourceNotFound, UniquenessConflict, VersionConflict } from '../directory/directory.errors.ts';
import type {
  DirectoryStore,
  Member,
  MembershipChange,
  MembershipChangeOptions,
  Page,
  RecordIndexes,
  ResourceRecord,
  ResourceType,
  UniqueKey,
  WriteOrigin,
} from '../directory/directory.ports.ts';
import { batchGetAll } from './batch-get-all.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import {
  COUNT_SHARDS,
  countKey,
  drainIndexKey,
  drainKey,
  emailKey,
  emailPartition,
  externalIdKey,
  externalIdPartition,
  GSI1,
  groupPartition,
  MEMBER_SK_PREFIX,
  MEMBERSHIP_REMOVAL_ORIGIN,
  memberIndexPartition,
  membershipIndexKey,
  membershipKey,
  resourceKey,
  stripKeys,
  TYPE_SHARDS,
  typeIndexKey,
  typeIndexPartitions,
  uniqueKey,
} from './hub-table.layout.ts';
import { MergedQuery } from './merged-query.ts';
import { queryAll } from './query-all.ts';
import { TransactionBatcher } from './transaction-batcher.ts';
import { MAX_TRANSACTION_ITEMS, type TransactItem, transactWrite } from './transactions.ts';

/**
 * Earlier versions marked a resource `deleting` while its DELETE removed memberships one by
 * one. Nothing reads the mark any more, so one left by a DELETE that died half-way is inert; it
 * is only kept out of the record.
 */
const LEGACY_DELETING = 'deleting';

const toRecord = (item: Record<string, unknown>): ResourceRecord => {
  const { [LEGACY_DELETING]: _deleting, ...record } = stripKeys<Record<string, unknown>>(item);
  return record as unknown as ResourceRecord;
};

/** A member's items, applied together: a membership write and, for an add, the member's check. */
interface MembershipUnit {
  delta: number;
  member?: Member;
  items: TransactItem[];
}

/** Packs whole units into transactions of at most `size` items. */
const chunkUnits = (units: MembershipUnit[], size: number): MembershipUnit[][] => {
  const chunks: MembershipUnit[][] = [];
  let current: MembershipUnit[] = [];
  let count = 0;
  for (const unit of units) {
    if (count + unit.items.length > size) {
      chunks.push(current);
      current = [];
      count = 0;
    }
    current.push(unit);
    count += unit.items.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

const sameKey = (a: UniqueKey, b: UniqueKey) => a.attribute === b.attribute && a.value === b.value;
const chunk = <T>(items: T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

/** The directory on the hub's DynamoDB table: the only code that knows its item layout. */
export class DynamoDirectoryStore implements DirectoryStore {
  /** Shares transactions between creates and replaces that arrive together (bulk imports); none: one transaction each. */
  readonly batcher: TransactionBatcher | undefined;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { batchWrites?: boolean } = {},
  ) {
    this.batcher = options.batchWrites
      ? new TransactionBatcher(client, { countUpdate: (type, delta) => this.countUpdate(type as ResourceType, delta) })
      : undefined;
  }

  async get(type: ResourceType, id: string): Promise<ResourceRecord | undefined> {
    const item = await this.getItem(type, id);
    return item ? toRecord(item) : undefined;
  }

  private async getItem(type: ResourceType, id: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: resourceKey(type, id), ConsistentRead: true }));
    return result.Item;
  }

  async getMany(type: ResourceType, ids: string[]): Promise<ResourceRecord[]> {
    const unique = [...new Set(ids)];
    const found = new Map<string, ResourceRecord>();
    for (const part of chunk(unique, 100)) {
      let keys: Array<Record<string, unknown>> | undefined = part.map((id) => resourceKey(type, id));
      while (keys && keys.length > 0) {
        const result: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const record = toRecord(item);
          found.set(record.id, record);
        }
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return unique.flatMap((id) => found.get(id) ?? []);
  }

  async create(record: ResourceRecord, indexes: RecordIndexes): Promise<void> {
    const type = record.resourceType;
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...resourceKey(type, record.id), ...typeIndexKey(type, record.created, record.id), ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...indexes.uniques.map((key) => this.putGuard(type, key, record.id)),
      ...unique(indexes.emails).map((email) => ({ Put: { TableName: this.tableName, Item: { ...emailKey(email, record.id), userId: record.id } } })),
      ...(indexes.externalId === undefined ? [] : [this.putExternalId(type, indexes.externalId, record.id)]),
    ];
    const onCancelled = (reasons: Array<string | undefined>) => this.conflictFrom(reasons, type, 1, indexes.uniques, record.id);
    if (this.batcher) return this.batcher.write({ items, count: { key: type, delta: 1 }, onCancelled });
    await transactWrite(this.client, [...items, this.countUpdate(type, 1)], onCancelled);
  }

  async completeCreate(type: ResourceType, id: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: resourceKey(type, id),
          UpdateExpression: 'REMOVE pendingMembers',
          ConditionExpression: 'attribute_exists(pendingMembers)',
        }),
      );
    } catch (error) {
      // Completed already (a retry of the same create, or one racing it), or deleted meanwhile.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async replace(record: ResourceRecord, expectedVersion: number, before: RecordIndexes, after: RecordIndexes): Promise<void> {
    const type = record.resourceType;
    const removedKeys = before.uniques.filter((key) => !after.uniques.some((other) => sameKey(key, other)));
    const addedKeys = after.uniques.filter((key) => !before.uniques.some((other) => sameKey(key, other)));
    const beforeEmails = unique(before.emails);
    const afterEmails = unique(after.emails);
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...resourceKey(type, record.id), ...typeIndexKey(type, record.created, record.id), ...record },
          ConditionExpression: 'attribute_exists(pk) AND version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion },
        },
      },
      ...addedKeys.map((key) => this.putGuard(type, key, record.id)),
      ...removedKeys.map((key) => ({
        Delete: {
          TableName: this.tableName,
          Key: uniqueKey(type, key),
          ConditionExpression: 'attribute_not_exists(pk) OR #owner = :id',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':id': record.id },
        },
      })),
      ...afterEmails
        .filter((email) => !beforeEmails.includes(email))
        .map((email) => ({ Put: { TableName: this.tableName, Item: { ...emailKey(email, record.id), userId: record.id } } })),
      ...beforeEmails
        .filter((email) => !afterEmails.includes(email))
        .map((email) => ({ Delete: { TableName: this.tableName, Key: emailKey(email, record.id) } })),
      ...(before.externalId === after.externalId
        ? []
        : [
            ...(after.externalId === undefined ? [] : [this.putExternalId(type, after.externalId, record.id)]),
            ...(before.externalId === undefined ? [] : [{ Delete: { TableName: this.tableName, Key: externalIdKey(type, before.externalId, record.id) } }]),
          ]),
    ];
    const onCancelled = (reasons: Array<string | undefined>) => this.conflictFrom(reasons, type, 1, addedKeys, record.id);
    if (this.batcher) return this.batcher.write({ items, onCancelled });
    await transactWrite(this.client, items, onCancelled);
  }

  /**
   * Deletes the record as it was read (`record.version`) in one transaction: the resource, its
   * guards, indexes and count, conditioned on that version, so a concurrent change makes the
   * delete fail with VersionConflict (read again, or 412 under If-Match) instead of leaving guards
   * of another version behind. The same transaction writes the resource's deletion drain. From
   * then on every read misses the resource, its name is free, and no membership can be added to
   * it or with it (every add checks the group and the member in its own transaction).
   *
   * Then the memberships: the groups it is a member of (few) are fixed here, so their members
   * and counts are right when DELETE answers; a group's own members (any number) are removed
   * by the drain function, a bounded page at a time. The drain also reads gsi1 again later,
   * for a membership added just before the delete that the eventually consistent index did not
   * show yet.
   */
  async delete(record: ResourceRecord, indexes: RecordIndexes): Promise<void> {
    const type = record.resourceType;
    const updated = new Date().toISOString();
    const items: TransactItem[] = [
      {
        Delete: {
          TableName: this.tableName,
          Key: resourceKey(type, record.id),
          ConditionExpression: 'attribute_exists(pk) AND version = :read',
          ExpressionAttributeValues: { ':read': record.version },
        },
      },
      ...indexes.uniques.map((unique) => ({
        Delete: {
          TableName: this.tableName,
          Key: uniqueKey(type, unique),
          ConditionExpression: 'attribute_not_exists(pk) OR #owner = :id',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':id': record.id },
        },
      })),
      ...unique(indexes.emails).map((email) => ({ Delete: { TableName: this.tableName, Key: emailKey(email, record.id) } })),
      ...(indexes.externalId === undefined ? [] : [{ Delete: { TableName: this.tableName, Key: externalIdKey(type, indexes.externalId, record.id) } }]),
      this.countUpdate(type, -1),
      {
        Put: {
          TableName: this.tableName,
          Item: { ...drainKey(type, record.id), ...drainIndexKey(updated, record.id), resourceType: type, id: record.id, updated },
        },
      },
    ];
    await transactWrite(this.client, items, (reasons) =>
      reasons[0] === 'ConditionalCheckFailed' ? new ResourceGuardFailed() : new VersionConflict(type, record.id),
    ).catch((error: unknown) => this.explainGuard(error, type, record.id));
    // The resource is gone already: a failure here is the drain's to finish, not the client's.
    await this.removeMemberships(record.id, updated).catch(() => undefined);
  }

  /** Removes the resource from every group it is a member of; returns how many it left. */
  async removeMemberships(memberId: string, lastModified: string): Promise<number> {
    let removed = 0;
    for (const groupId of await this.groupIdsOf(memberId)) {
      await this.changeMembers(groupId, { add: [], remove: [memberId] }, { lastModified }).then(
        () => removed++,
        (error: unknown) => {
          // A group deleted meanwhile: its own drain removes the membership.
          if (!(error instanceof ResourceNotFound)) throw error;
        },
      );
    }
    return removed;
  }

  /** A resource's own condition failed: gone (404) or at another version than read (conflict). */
  private async explainGuard(error: unknown, type: ResourceType, id: string): Promise<never> {
    if (!(error instanceof ResourceGuardFailed)) throw error;
    throw (await this.get(type, id)) ? new VersionConflict(type, id) : new ResourceNotFound(type, id);
  }

  async findIdByUnique(type: ResourceType, key: UniqueKey): Promise<string | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: uniqueKey(type, key), ConsistentRead: true }));
    return result.Item?.owner as string | undefined;
  }

  async findIdsByUnique(type: ResourceType, attribute: UniqueKey['attribute'], values: string[]): Promise<Map<string, string>> {
    const keyed = unique(values).map((value) => ({ value, key: uniqueKey(type, { attribute, value }) }));
    const items = await batchGetAll(
      this.client,
      this.tableName,
      keyed.map(({ key }) => key),
      { expression: 'pk, #owner', names: { '#owner': 'owner' } },
    );
    const valueOfPk = new Map(keyed.map(({ value, key }) => [key.pk, value]));
    const found = new Map<string, string>();
    for (const item of items) {
      const value = valueOfPk.get(item.pk as string);
      if (value !== undefined) found.set(value, item.owner as string);
    }
    return found;
  }

  async findUserIdsByEmail(email: string): Promise<string[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': emailPartition(email) },
    });
    return items.map((item) => item.userId as string);
  }

  /**
   * Merges the type's gsi1 shards in creation order. The cursor is the index sort key of the
   * last record returned: unique and ordered alike in every shard, it is each shard's position.
   */
  async findIdsByExternalId(type: ResourceType, externalId: string): Promise<string[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': externalIdPartition(type, externalId) },
      ConsistentRead: true,
    });
    return items.map((item) => item.resourceId as string);
  }

  async list(type: ResourceType, options: { limit: number; cursor?: string }): Promise<Page<ResourceRecord>> {
    const after = afterOf(options.cursor);
    const merged = new MergedQuery(
      this.client,
      typeIndexPartitions(type).map((partition) => ({
        TableName: this.tableName,
        IndexName: GSI1.name,
        KeyConditionExpression: after === undefined ? '#pk = :pk' : '#pk = :pk AND #sk > :after',
        ExpressionAttributeNames: { '#pk': GSI1.pk, ...(after === undefined ? {} : { '#sk': GSI1.sk }) },
        ExpressionAttributeValues: { ':pk': partition, ...(after === undefined ? {} : { ':after': after }) },
      })),
      GSI1.sk,
      false,
      Math.ceil(options.limit / TYPE_SHARDS) + 1,
    );
    const items: Array<Record<string, unknown>> = [];
    while (items.length < options.limit) {
      const item = await merged.next();
      if (!item) break;
      items.push(item);
    }
    const last = items.at(-1);
    const next = last && items.length === options.limit && !merged.exhausted ? encodeCursor({ after: last[GSI1.sk] }) : undefined;
    return { items: items.map(toRecord), next };
  }

  async count(type: ResourceType): Promise<number> {
    const keys = Array.from({ length: COUNT_SHARDS }, (_, shard) => countKey(type, shard));
    const result = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
    return (result.Responses?.[this.tableName] ?? []).reduce((sum, item) => sum + Number(item.n ?? 0), 0);
  }

  /**
   * One page of the group's members: one Query of at most `limit` membership items from the
   * position the cursor holds, whatever the group's size. With `type`, only members of that type
   * are returned (a page may then hold fewer than `limit`, and still have a next one).
   */
  async members(groupId: string, options: { limit: number; cursor?: string; type?: ResourceType }): Promise<Page<Member>> {
    const start = decodeCursor(options.cursor);
    // A cursor is a position in this group's membership partition, and nowhere else.
    if (start && (start.pk !== groupPartition(groupId) || !String(start.sk).startsWith(MEMBER_SK_PREFIX) || Object.keys(start).length !== 2)) {
      throw new InvalidCursor(options.cursor ?? '');
    }
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
        ExpressionAttributeValues: { ':pk': groupPartition(groupId), ':member': MEMBER_SK_PREFIX, ...(options.type ? { ':type': options.type } : {}) },
        ProjectionExpression: '#value, #type',
        ExpressionAttributeNames: { '#value': 'value', '#type': 'type' },
        ...(options.type ? { FilterExpression: '#type = :type' } : {}),
        Limit: options.limit,
        ExclusiveStartKey: start,
      }),
    );
    return {
      items: (result.Items ?? []).map((item) => ({ value: item.value as string, type: item.type as ResourceType })),
      next: encodeCursor(result.LastEvaluatedKey),
    };
  }

  async membersAmong(groupId: string, memberIds: string[]): Promise<Set<string>> {
    const present = new Set<string>();
    for (const part of chunk(unique(memberIds), 100)) {
      let keys: Array<Record<string, unknown>> | undefined = part.map((id) => membershipKey(groupId, id));
      while (keys && keys.length > 0) {
        const result: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: { Keys: keys, ConsistentRead: true, ProjectionExpression: '#value', ExpressionAttributeNames: { '#value': 'value' } },
            },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) present.add(item.value as string);
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return present;
  }

  async groupIdsOf(memberId: string): Promise<string[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': GSI1.pk },
      ExpressionAttributeValues: { ':pk': memberIndexPartition(memberId) },
    });
    return items.map((item) => item.groupId as string);
  }

  async changeMembers(groupId: string, change: MembershipChange, options: MembershipChangeOptions): Promise<ResourceRecord> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tryChangeMembers(groupId, change, options);
      } catch (error) {
        // A member added or removed by someone else between our read and our write: read again.
        if (!(error instanceof MembershipRace) || attempt >= 5) throw error instanceof MembershipRace ? new VersionConflict('Group', groupId) : error;
      }
    }
  }

  private async tryChangeMembers(groupId: string, change: MembershipChange, options: MembershipChangeOptions): Promise<ResourceRecord> {
    const candidates = [...change.add.map((m) => m.value), ...change.remove];
    const present = await this.membersAmong(groupId, candidates);
    const seen = new Set<string>();
    const toAdd = change.add.filter((member) => {
      if (present.has(member.value) || seen.has(member.value)) return false;
      seen.add(member.value);
      return true;
    });
    const toRemove = unique(change.remove).filter((id) => present.has(id) && !toAdd.some((m) => m.value === id));
    if (options.origin?.provision === false) await this.markSilentRemovals(groupId, toRemove, options.origin);
    // One unit per member, kept whole within a transaction: an add is its membership item and a
    // check, in the same transaction, that the member exists, so an add racing the member's
    // DELETE either fails or lands before it, where the DELETE (or its drain) finds it.
    const units: MembershipUnit[] = [
      ...toAdd.map((member) => ({
        delta: 1,
        member,
        items: [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...membershipKey(groupId, member.value),
                ...membershipIndexKey(groupId, member.value),
                groupId,
                value: member.value,
                type: member.type,
                ...(options.origin === undefined ? {} : { origin: options.origin }),
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          // A group among its own members is checked by the group's own update.
          ...(member.type === 'Group' && member.value === groupId
            ? []
            : [
                {
                  ConditionCheck: {
                    TableName: this.tableName,
                    Key: resourceKey(member.type, member.value),
                    ConditionExpression: 'attribute_exists(pk)',
                  },
                },
              ]),
        ] as TransactItem[],
      })),
      ...toRemove.map((id) => ({
        delta: -1,
        items: [{ Delete: { TableName: this.tableName, Key: membershipKey(groupId, id), ConditionExpression: 'attribute_exists(pk)' } }] as TransactItem[],
      })),
    ];
    if (units.length === 0) {
      const group = await this.get('Group', groupId);
      if (!group) throw new ResourceNotFound('Group', groupId);
      if (options.expectedVersion !== undefined && group.version !== options.expectedVersion) throw new VersionConflict('Group', groupId);
      return group;
    }
    // Each transaction carries its member items and the group's version bump, so the group's
    // version and memberCount never disagree with its members. Changes larger than one
    // transaction (100 items, checks included) are applied in atomic chunks; a retry of the
    // request completes them.
    for (const [index, part] of chunkUnits(units, MAX_TRANSACTION_ITEMS - 1).entries()) {
      const delta = part.reduce((sum, unit) => sum + unit.delta, 0);
      const guard = index === 0 && options.expectedVersion !== undefined;
      const conditions = ['attribute_exists(pk)', ...(guard ? ['version = :expected'] : [])];
      const items: TransactItem[] = [
        {
          Update: {
            TableName: this.tableName,
            Key: resourceKey('Group', groupId),
            // The group's item carries the origin of this change (or none), like a write of the group itself.
            UpdateExpression: `SET version = version + :one, lastModified = :now${options.origin === undefined ? '' : ', origin = :origin'} ADD memberCount :delta${options.origin === undefined ? ' REMOVE origin' : ''}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeValues: {
              ':one': 1,
              ':now': options.lastModified,
              ':delta': delta,
              ...(options.origin === undefined ? {} : { ':origin': options.origin }),
              ...(guard ? { ':expected': options.expectedVersion } : {}),
            },
          },
        },
        ...part.flatMap((unit) => unit.items),
      ];
      await transactWrite(this.client, items, (reasons) => {
        if (reasons[0] === 'ConditionalCheckFailed') return new GroupGuardFailed(groupId);
        // Positions after the group's update, unit by unit: a failed member check (the unit's
        // second item) is a member deleted since it was resolved.
        let position = 1;
        for (const unit of part) {
          if (unit.member && unit.items.length > 1 && reasons[position + 1] === 'ConditionalCheckFailed')
            return new MemberNotFound(unit.member.type, unit.member.value);
          position += unit.items.length;
        }
        return new MembershipRace();
      }).catch(async (error: unknown) => {
        if (!(error instanceof GroupGuardFailed)) throw error;
        if (!(await this.getItem('Group', groupId))) throw new ResourceNotFound('Group', groupId);
        throw guard ? new VersionConflict('Group', groupId) : new MembershipRace();
      });
    }
    const group = await this.get('Group', groupId);
    if (!group) throw new ResourceNotFound('Group', groupId);
    return group;
  }

  /**
   * Writes the removal's origin on each membership item about to be removed without telling any
   * connector: the stream's REMOVE record shows only the old image, which then says so
   * (shared/sync/change-message.ts). One extra write per removed member, for such imports only.
   * A mark left by a chunk that died before its removal is completed when the chunk runs again.
   */
  private async markSilentRemovals(groupId: string, memberIds: string[], origin: WriteOrigin): Promise<void> {
    for (const part of chunk(memberIds, 25)) {
      await Promise.all(
        part.map(async (memberId) => {
          try {
            await this.client.send(
              new UpdateCommand({
                TableName: this.tableName,
                Key: membershipKey(groupId, memberId),
                UpdateExpression: 'SET #removal = :origin',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#removal': MEMBERSHIP_REMOVAL_ORIGIN },
                ExpressionAttributeValues: { ':origin': origin },
              }),
            );
          } catch (error) {
            // Removed meanwhile: the removal's own condition sees it.
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }
        }),
      );
    }
  }

  private putExternalId(type: ResourceType, externalId: string, id: string): TransactItem {
    return { Put: { TableName: this.tableName, Item: { ...externalIdKey(type, externalId, id), resourceId: id } } };
  }

  private putGuard(type: ResourceType, key: UniqueKey, id: string): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { ...uniqueKey(type, key), owner: id },
        ConditionExpression: 'attribute_not_exists(pk) OR #owner = :id',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':id': id },
      },
    };
  }

  private countUpdate(type: ResourceType, delta: number): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: countKey(type, Math.floor(Math.random() * COUNT_SHARDS)),
        UpdateExpression: 'ADD n :delta',
        ExpressionAttributeValues: { ':delta': delta },
      },
    };
  }

  /** Which condition failed: the resource's own (index 0) or one of the unique guards after it. */
  private conflictFrom(reasons: Array<string | undefined>, type: ResourceType, guardsFrom: number, guards: UniqueKey[], id: string): Error {
    for (const [offset, key] of guards.entries()) {
      if (reasons[guardsFrom + offset] === 'ConditionalCheckFailed') return new UniquenessConflict(type, key);
    }
    // The resource's own condition (index 0) failed, or the writes raced: either way, read again.
    return new VersionConflict(type, id);
  }
}

class MembershipRace extends Error {}
class ResourceGuardFailed extends Error {}
class GroupGuardFailed extends Error {
  constructor(readonly groupId: string) {
    super(`group ${groupId} guard failed`);
  }
}

const unique = (values: string[]): string[] => [...new Set(values)];

/** The listing position a cursor holds; anything else is not a cursor of ours. */
const afterOf = (cursor: string | undefined): string | undefined => {
  const position = decodeCursor(cursor);
  if (position === undefined) return undefined;
  if (typeof position.after !== 'string' || Object.keys(position).length !== 1) throw new InvalidCursor(cursor ?? '');
  return position.after;
};
