import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type Link, LinkCollisionError, type LinkKind, type LinkStore, linkRef, OWNED_LINK_KINDS } from '../sync/sync.ports.ts';
import { batchGetAll } from './batch-get-all.ts';
import { linkKey, linkTargetKey, stripKeys } from './hub-table.layout.ts';
import { type TransactItem, transactWrite } from './transactions.ts';

/**
 * Links (connector, kind, hub id) -> target id, with the reverse (connector, kind, target id) ->
 * hub id for users and groups. Both are written and deleted in one TransactWriteItems, the
 * reverse on the condition that it is absent or already names this hub id: two hub users can
 * never be linked to one target account, even when two workers race to link them.
 */
export class DynamoLinkStore implements LinkStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(connectorId: string, kind: LinkKind, hubId: string): Promise<Link | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: linkKey(connectorId, kind, hubId), ConsistentRead: true }));
    if (!result.Item) return undefined;
    return stripKeys<Link>(result.Item);
  }

  async getMany(connectorId: string, refs: Array<{ kind: LinkKind; hubId: string }>): Promise<Map<string, Link>> {
    const unique = new Map(refs.map((ref) => [linkRef(ref.kind, ref.hubId), ref]));
    const items = await batchGetAll(
      this.client,
      this.tableName,
      [...unique.values()].map((ref) => linkKey(connectorId, ref.kind, ref.hubId)),
    );
    return new Map(items.map((item) => stripKeys<Link>(item)).map((link) => [linkRef(link.kind, link.hubId), link]));
  }

  async ownerOf(connectorId: string, kind: LinkKind, targetId: string): Promise<string | undefined> {
    if (!OWNED_LINK_KINDS.has(kind)) return undefined;
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: linkTargetKey(connectorId, kind, targetId), ConsistentRead: true }));
    return typeof result.Item?.hubId === 'string' ? result.Item.hubId : undefined;
  }

  async put(link: Link, replaces?: Link): Promise<void> {
    const item = { ...linkKey(link.connectorId, link.kind, link.hubId), ...link };
    // A membership's target id is the member's account, in many groups: no reverse, one plain write.
    if (!OWNED_LINK_KINDS.has(link.kind)) {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
      return;
    }
    const items: TransactItem[] = [
      { Put: { TableName: this.tableName, Item: item } },
      {
        Put: {
          TableName: this.tableName,
          Item: { ...linkTargetKey(link.connectorId, link.kind, link.targetId), hubId: link.hubId },
          ConditionExpression: 'attribute_not_exists(pk) OR hubId = :hubId',
          ExpressionAttributeValues: { ':hubId': link.hubId },
        },
      },
    ];
    if (replaces && replaces.targetId !== link.targetId) items.push(this.releaseReverse(replaces));
    try {
      await transactWrite(this.client, items, (reasons) =>
        reasons[1] === 'ConditionalCheckFailed'
          ? new LinkCollisionError(link, '')
          : new Error(`linking ${link.kind} ${link.hubId} on ${link.connectorId} was cancelled: ${reasons.join(', ')}`),
      );
    } catch (error) {
      if (!(error instanceof LinkCollisionError)) throw error;
      // Name the owner in the collision: the writer that won has committed by now.
      throw new LinkCollisionError(link, (await this.ownerOf(link.connectorId, link.kind, link.targetId)) ?? 'unknown');
    }
  }

  async delete(link: Link): Promise<void> {
    if (!OWNED_LINK_KINDS.has(link.kind)) {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: linkKey(link.connectorId, link.kind, link.hubId) }));
      return;
    }
    const items: TransactItem[] = [{ Delete: { TableName: this.tableName, Key: linkKey(link.connectorId, link.kind, link.hubId) } }, this.releaseReverse(link)];
    const released = Symbol('reverse owned by another hub id');
    try {
      await transactWrite(this.client, items, (reasons) =>
        Object.assign(new Error(`deleting the link of ${link.kind} ${link.hubId} on ${link.connectorId} was cancelled: ${reasons.join(', ')}`), {
          [released]: reasons[1] === 'ConditionalCheckFailed',
        }),
      );
    } catch (error) {
      // The reverse already names someone else (never ours to delete): drop only our link.
      if (!(error as Record<symbol, unknown>)[released]) throw error;
      await transactWrite(
        this.client,
        items.slice(0, 1),
        (reasons) => new Error(`deleting the link of ${link.kind} ${link.hubId} was cancelled: ${reasons.join(', ')}`),
      );
    }
  }

  /** Deletes the reverse entry only while it still names this hub id (never another's). */
  private releaseReverse(link: Link): TransactItem {
    return {
      Delete: {
        TableName: this.tableName,
        Key: linkTargetKey(link.connectorId, link.kind, link.targetId),
        ConditionExpression: 'attribute_not_exists(pk) OR hubId = :hubId',
        ExpressionAttributeValues: { ':hubId': link.hubId },
      },
    };
  }
}
