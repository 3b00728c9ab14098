import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Link, LinkKind, LinkStore } from '../sync/sync.ports.ts';
import { linkKey, stripKeys } from './hub-table.layout.ts';

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

  async put(link: Link): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...linkKey(link.connectorId, link.kind, link.hubId), ...link } }));
  }

  async delete(connectorId: string, kind: LinkKind, hubId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: linkKey(connectorId, kind, hubId) }));
  }
}
