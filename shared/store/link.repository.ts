import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Link, LinkCollisionError, LinkConflictError, type LinkKind, type LinkStore, linkRef, OWNED_LINK_KINDS } from '../sync/sync.ports.ts';
import { batchGetAll } from './batch-get-all.ts';
import { linkKey, linkTargetKey, stripKeys } from './hub-table.layout.ts';
import { type TransactItem, transactWrite } from './transactions.ts';

/**
 * Links (connector, kind, hub id) -> target id, with the reverse (connector, kind, target id) ->
 * hub id for users and groups. Both are written and deleted in one TransactWriteItems, the
 * reverse on the condition that it is absent or already names this hub id: two hub users can
 * never be linked to one target account, even when two workers race to link them. Every write
 * raises the link's version and is conditional on the version the writer read, so two workers
 * (a real-time change and a reconciliation page) never overwrite each other's newer state.
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
    const write = { TableName: this.tableName, Key: linkKey(link.connectorId, link.kind, link.hubId), ...linkUpdate(link) };
    // A membership's target id is the member's account, in many groups: no reverse, one plain write.
    if (!OWNED_LINK_KINDS.has(link.kind)) {
      await this.client.send(new UpdateCommand(write)).catch((error: unknown) => {
        throw error instanceof ConditionalCheckFailedException ? new LinkConflictError(link) : error;
      });
      return;
    }
    const items: TransactItem[] = [
      { Update: write },
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
          : reasons[0] === 'ConditionalCheckFailed'
            ? new LinkConflictError(link)
            : new Error(`linking ${link.kind} ${link.hubId} on ${link.connectorId} was cancelled: ${reasons.join(', ')}`),
      );
    } catch (error) {
      if (!(error instanceof LinkCollisionError)) throw error;
      // Name the owner in the collision: the writer that won has committed by now.
      throw new LinkCollisionError(link, (await this.ownerOf(link.connectorId, link.kind, link.targetId)) ?? 'unknown');
    }
  }

  async delete(link: Link): Promise<void> {
    const remove = { TableName: this.tableName, Key: linkKey(link.connectorId, link.kind, link.hubId), ...versionGuard(link) };
    if (!OWNED_LINK_KINDS.has(link.kind)) {
      await this.client.send(new DeleteCommand(remove)).catch((error: unknown) => {
        throw error instanceof ConditionalCheckFailedException ? new LinkConflictError(link) : error;
      });
      return;
    }
    const items: TransactItem[] = [{ Delete: remove }, this.releaseReverse(link)];
    const released = Symbol('reverse owned by another hub id');
    const cancelled = (reasons: Array<string | undefined>) =>
      reasons[0] === 'ConditionalCheckFailed'
        ? new LinkConflictError(link)
        : Object.assign(new Error(`deleting the link of ${link.kind} ${link.hubId} on ${link.connectorId} was cancelled: ${reasons.join(', ')}`), {
            [released]: reasons[1] === 'ConditionalCheckFailed',
          });
    try {
      await transactWrite(this.client, items, cancelled);
    } catch (error) {
      // The reverse already names someone else (never ours to delete): drop only our link.
      if (!(error as Record<symbol, unknown>)[released]) throw error;
      await transactWrite(this.client, items.slice(0, 1), cancelled);
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

/**
 * The write of a link as an update that raises its version. A link read from the store (with
 * its `version`) is written only while the store holds that version; a new one only while the
 * store holds no link, or one to the same target (the same link written again).
 */
const linkUpdate = (link: Link) => {
  const { version: expected, ...fields } = link;
  const names: Record<string, string> = { '#version': 'version' };
  const values: Record<string, unknown> = { ':one': 1, ':zero': 0 };
  const sets = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      return `#a${i} = :a${i}`;
    });
  sets.push('#version = if_not_exists(#version, :zero) + :one');
  let condition: string;
  if (expected === undefined) {
    condition = 'attribute_not_exists(pk) OR #targetId = :targetId';
    names['#targetId'] = 'targetId';
    values[':targetId'] = link.targetId;
  } else {
    condition = '#version = :expected';
    values[':expected'] = expected;
  }
  return { UpdateExpression: `SET ${sets.join(', ')}`, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
};

/** A delete of a link read from the store: only while the store holds the version read. */
const versionGuard = (link: Link) =>
  link.version === undefined
    ? {}
    : {
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': link.version },
      };
