import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AccessGrant, GrantStore } from '../sync/grant.ports.ts';
import { GRANT_INDEX_PK, GSI1, grantIndexKey, grantKey, stripKeys, TTL_ATTRIBUTE } from './hub-table.layout.ts';
import { queryAll } from './query-all.ts';

const toGrant = (item: Record<string, unknown>): AccessGrant => {
  const { [TTL_ATTRIBUTE]: _ttl, ...grant } = stripKeys<Record<string, unknown>>(item);
  return grant as unknown as AccessGrant;
};

/**
 * Temporary access grants: one item per (connector, user) with DynamoDB's TTL attribute set to
 * the grant's end, listed through gsi1 in order of expiry. The TTL only tidies up (AWS deletes
 * expired items within days); `expiresAt` is what the planner and the expiry sweep go by.
 */
export class DynamoGrantStore implements GrantStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(connectorId: string, userId: string): Promise<AccessGrant | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: grantKey(connectorId, userId), ConsistentRead: true }));
    return result.Item ? toGrant(result.Item) : undefined;
  }

  async put(grant: AccessGrant): Promise<void> {
    const item = {
      ...grantKey(grant.connectorId, grant.userId),
      ...grantIndexKey(grant.connectorId, grant.userId, grant.expiresAt),
      ...grant,
      [TTL_ATTRIBUTE]: Math.ceil(Date.parse(grant.expiresAt) / 1000),
    };
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async delete(connectorId: string, userId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: grantKey(connectorId, userId) }));
  }

  async list(connectorId?: string): Promise<AccessGrant[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': GSI1.pk },
      ExpressionAttributeValues: { ':pk': GRANT_INDEX_PK },
    });
    return items.map(toGrant).filter((grant) => connectorId === undefined || grant.connectorId === connectorId);
  }

  async expiredAt(now: Date, limit: number): Promise<AccessGrant[]> {
    // `<expiresAt>#...` sorts before `<now>$` exactly when expiresAt <= now ('$' follows '#').
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: GSI1.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :until',
        ExpressionAttributeNames: { '#pk': GSI1.pk, '#sk': GSI1.sk },
        ExpressionAttributeValues: { ':pk': GRANT_INDEX_PK, ':until': `${now.toISOString()}$` },
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map(toGrant);
  }

  async deleteIfUnchanged(grant: AccessGrant): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: grantKey(grant.connectorId, grant.userId),
          ConditionExpression: 'expiresAt = :expiresAt',
          ExpressionAttributeValues: { ':expiresAt': grant.expiresAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
