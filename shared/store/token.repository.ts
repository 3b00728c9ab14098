import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-all.ts';
import { GSI1, stripKeys, TOKEN_INDEX_PK, tokenIndexKey, tokenKey } from './hub-table.layout.ts';

export interface TokenRecord {
  id: string;
  hash: string;
  name: string;
  created: string;
  revoked?: string;
  strictUnknownAttributes: boolean;
}

/** SCIM bearer tokens, stored by the SHA-256 of the token: the token itself is never stored. */
export class TokenRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(token: TokenRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...tokenKey(token.hash), ...tokenIndexKey(token.created, token.id), ...token },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async findByHash(hash: string): Promise<TokenRecord | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: tokenKey(hash) }));
    return result.Item ? strip(result.Item) : undefined;
  }

  async list(): Promise<TokenRecord[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': GSI1.pk },
      ExpressionAttributeValues: { ':pk': TOKEN_INDEX_PK },
    });
    return items.map(strip);
  }

  /** Marks a token revoked; false when no token has that id. */
  async revoke(id: string, at: string): Promise<boolean> {
    const token = (await this.list()).find((candidate) => candidate.id === id);
    if (!token) return false;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: tokenKey(token.hash),
        UpdateExpression: 'SET revoked = if_not_exists(revoked, :at)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
    return true;
  }
}

const strip = (item: Record<string, unknown>): TokenRecord => stripKeys<TokenRecord>(item);
