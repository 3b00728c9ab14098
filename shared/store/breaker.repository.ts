import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type BreakerState, initialBreaker } from '../connectors/resilience/circuit-breaker.ts';
import { breakerKey, stripKeys } from './hub-table.layout.ts';

/** Circuit breaker state per connector, shared by every worker; writes are conditional on the revision. */
export class DynamoBreakerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(connectorId: string): Promise<BreakerState> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: breakerKey(connectorId), ConsistentRead: true }));
    if (!result.Item) return initialBreaker();
    return stripKeys<BreakerState>(result.Item);
  }

  /** Writes `next` if the stored state is still at `expectedRevision`; false when someone else changed it first. */
  async compareAndSet(connectorId: string, expectedRevision: number, next: BreakerState): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...breakerKey(connectorId), ...next },
          ConditionExpression: expectedRevision === 0 ? 'attribute_not_exists(pk) OR revision = :rev' : 'revision = :rev',
          ExpressionAttributeValues: { ':rev': expectedRevision },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
