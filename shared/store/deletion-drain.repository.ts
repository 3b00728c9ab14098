import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { InvalidCursor } from '../directory/directory.errors.ts';
import type { DeletionDrainStore, PendingDrain, ResourceType } from '../directory/directory.ports.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { DynamoDirectoryStore } from './directory.repository.ts';
import { DRAIN_SK, drainIndexKey, drainIndexPartitions, drainKey, GSI1, groupPartition, MEMBER_SK_PREFIX, RESOURCE_SK } from './hub-table.layout.ts';
import { MergedQuery } from './merged-query.ts';

/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_ITEMS = 25;

const isResourceType = (value: unknown): value is ResourceType => typeof value === 'string' && value in RESOURCE_SK;

/** The drain an item (a table item or a stream image, unmarshalled) holds; undefined for any other item. */
export const drainOfItem = (item: Record<string, unknown>): PendingDrain | undefined => {
  if (item.sk !== DRAIN_SK || !isResourceType(item.resourceType) || typeof item.id !== 'string' || typeof item.updated !== 'string') return undefined;
  return { resourceType: item.resourceType, id: item.id, updated: item.updated, ...(typeof item.cursor === 'string' ? { cursor: item.cursor } : {}) };
};

/** The drain a DynamoDB stream record's new image holds (the stream's attribute values are the SDK's). */
export const drainOfStreamImage = (image: Record<string, unknown> | undefined): PendingDrain | undefined =>
  image ? drainOfItem(unmarshall(image as Record<string, AttributeValue>)) : undefined;

/** Deletion drains on the hub table (keys: hub-table.layout.ts). */
export class DynamoDeletionDrainStore implements DeletionDrainStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly directory: DynamoDirectoryStore,
  ) {}

  async deleteMembersPage(groupId: string, options: { limit: number; cursor?: string }): Promise<{ removed: number; next: string | undefined }> {
    const start = decodeCursor(options.cursor);
    if (start && (start.pk !== groupPartition(groupId) || !String(start.sk).startsWith(MEMBER_SK_PREFIX))) throw new InvalidCursor(options.cursor ?? '');
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
        ExpressionAttributeValues: { ':pk': groupPartition(groupId), ':member': MEMBER_SK_PREFIX },
        ProjectionExpression: 'pk, sk',
        Limit: options.limit,
        ExclusiveStartKey: start,
      }),
    );
    const keys = (page.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk }));
    for (let i = 0; i < keys.length; i += BATCH_WRITE_ITEMS) {
      let requests: Array<Record<string, unknown>> | undefined = keys.slice(i, i + BATCH_WRITE_ITEMS).map((Key) => ({ DeleteRequest: { Key } }));
      while (requests && requests.length > 0) {
        const result = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } }));
        requests = result.UnprocessedItems?.[this.tableName] as Array<Record<string, unknown>> | undefined;
      }
    }
    return { removed: keys.length, next: encodeCursor(page.LastEvaluatedKey) };
  }

  removeMemberships(memberId: string, lastModified: string): Promise<number> {
    return this.directory.removeMemberships(memberId, lastModified);
  }

  async advanceDrain(drain: PendingDrain, cursor: string, updated: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: drainKey(drain.resourceType, drain.id),
          UpdateExpression: 'SET #cursor = :cursor, #updated = :updated, #gsk = :gsk',
          ConditionExpression:
            drain.cursor === undefined ? 'attribute_exists(pk) AND attribute_not_exists(#cursor)' : 'attribute_exists(pk) AND #cursor = :from',
          ExpressionAttributeNames: { '#cursor': 'cursor', '#updated': 'updated', '#gsk': GSI1.sk },
          ExpressionAttributeValues: {
            ':cursor': cursor,
            ':updated': updated,
            ':gsk': drainIndexKey(updated, drain.id).gsi1sk,
            ...(drain.cursor === undefined ? {} : { ':from': drain.cursor }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async finishDrain(drain: PendingDrain): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: drainKey(drain.resourceType, drain.id) }));
  }

  async staleDrains(updatedBefore: string, limit: number): Promise<PendingDrain[]> {
    const merged = new MergedQuery(
      this.client,
      drainIndexPartitions().map((partition) => ({
        TableName: this.tableName,
        IndexName: GSI1.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': GSI1.pk, '#sk': GSI1.sk },
        ExpressionAttributeValues: { ':pk': partition, ':before': updatedBefore },
      })),
      GSI1.sk,
      false,
      Math.ceil(limit / drainIndexPartitions().length) + 1,
    );
    const drains: PendingDrain[] = [];
    while (drains.length < limit) {
      const item = await merged.next();
      if (!item) break;
      const drain = drainOfItem(item);
      if (drain) drains.push(drain);
    }
    return drains;
  }

  async nudgeDrain(drain: PendingDrain, updated: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: drainKey(drain.resourceType, drain.id),
          UpdateExpression: 'SET #updated = :updated, #gsk = :gsk ADD nudges :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#updated': 'updated', '#gsk': GSI1.sk },
          ExpressionAttributeValues: { ':updated': updated, ':gsk': drainIndexKey(updated, drain.id).gsi1sk, ':one': 1 },
        }),
      );
    } catch (error) {
      // Finished meanwhile: nothing to nudge.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
