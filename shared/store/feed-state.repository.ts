import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { FeedState, FeedStore } from '../sync/reconcile-run.ports.ts';
import { feedStateKey, stripKeys } from './hub-table.layout.ts';

/**
 * Inbound sources' change feeds on the hub table: one item per connector holding the delta links
 * its last run that finished applying ended with. A put is conditional on the stored state being
 * of a run created no later, so a late write of an older run never takes a newer run's links back.
 */
export class DynamoFeedStore implements FeedStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(connectorId: string): Promise<FeedState | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: feedStateKey(connectorId), ConsistentRead: true }));
    return result.Item ? stripKeys<FeedState>(result.Item) : undefined;
  }

  async put(state: FeedState): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...feedStateKey(state.connectorId), ...state },
          ConditionExpression: 'attribute_not_exists(pk) OR runCreated <= :created',
          ExpressionAttributeValues: { ':created': state.runCreated },
        }),
      );
    } catch (error) {
      // A run created later stored its links already: they stay.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
