import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { PlannedChange, RunRecord, RunStore } from '../sync/reconcile-run.ports.ts';
import {
  accountedHubIdOf,
  GSI1,
  runAccountedKey,
  runConnectorEntryKey,
  runIndexKey,
  runKey,
  runLockKey,
  runPlanPageKey,
  runsIndexPartition,
  stripKeys,
} from './hub-table.layout.ts';

/** Plan pages and accounted marks outlive their run by this long (runs themselves stay). */
const RUN_DETAIL_TTL_SECONDS = 30 * 86_400;
/** DynamoDB's batch sizes. */
const WRITE_BATCH = 25;
const READ_BATCH = 100;

const conditionFailed = (error: unknown) => error instanceof ConditionalCheckFailedException;

/**
 * Reconciliation runs on the hub table: the run record (moved on only by a conditional put on
 * its state, phase and page, so each page counts once), the per-connector run lock, the plan
 * pages and the marks of hub users a target page accounted for.
 */
export class DynamoRunStore implements RunStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private detailTtl = () => Math.floor(this.now() / 1000) + RUN_DETAIL_TTL_SECONDS;

  async acquireLock(connectorId: string, runId: string, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...runLockKey(connectorId), runId, expiresAt, ttl: Math.ceil(expiresAt / 1000) },
          // A lock whose run died without releasing it frees the connector when it expires.
          ConditionExpression: 'attribute_not_exists(pk) OR runId = :runId OR expiresAt < :now',
          ExpressionAttributeValues: { ':runId': runId, ':now': this.now() },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  async releaseLock(connectorId: string, runId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: runLockKey(connectorId),
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':runId': runId },
        }),
      );
    } catch (error) {
      // Another run holds it (ours expired and was taken over): not ours to release.
      if (!conditionFailed(error)) throw error;
    }
  }

  async create(run: RunRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...runKey(run.runId), ...runIndexKey(undefined, run.created, run.runId), ...run },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...runConnectorEntryKey(run.runId), ...runIndexKey(run.connectorId, run.created, run.runId), runId: run.runId },
      }),
    );
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: runKey(runId), ConsistentRead: true }));
    return result.Item ? stripKeys<RunRecord>(result.Item) : undefined;
  }

  async list(options: { connectorId?: string; limit: number }): Promise<RunRecord[]> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: GSI1.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': GSI1.pk },
        ExpressionAttributeValues: { ':pk': runsIndexPartition(options.connectorId) },
        ScanIndexForward: false,
        Limit: options.limit,
      }),
    );
    const runIds = (page.Items ?? []).map((item) => String(item.runId));
    const runs = await Promise.all(runIds.map((runId) => this.get(runId)));
    return runs.filter((run): run is RunRecord => run !== undefined);
  }

  async advance(expected: Pick<RunRecord, 'runId' | 'state' | 'phase' | 'page'>, next: RunRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...runKey(next.runId), ...runIndexKey(undefined, next.created, next.runId), ...next },
          ConditionExpression: '#state = :state AND #phase = :phase AND #page = :page',
          ExpressionAttributeNames: { '#state': 'state', '#phase': 'phase', '#page': 'page' },
          ExpressionAttributeValues: { ':state': expected.state, ':phase': expected.phase, ':page': expected.page },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  async putPlanPage(runId: string, page: number, changes: PlannedChange[]): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...runPlanPageKey(runId, page), changes, ttl: this.detailTtl() } }));
  }

  async getPlanPage(runId: string, page: number): Promise<PlannedChange[]> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: runPlanPageKey(runId, page), ConsistentRead: true }));
    return (result.Item?.changes as PlannedChange[] | undefined) ?? [];
  }

  async markAccounted(runId: string, hubIds: string[]): Promise<void> {
    const ttl = this.detailTtl();
    const unique = [...new Set(hubIds)];
    for (let start = 0; start < unique.length; start += WRITE_BATCH) {
      let requests: Array<Record<string, unknown>> | undefined = unique
        .slice(start, start + WRITE_BATCH)
        .map((hubId) => ({ PutRequest: { Item: { ...runAccountedKey(runId, hubId), ttl } } }));
      while (requests && requests.length > 0) {
        const result: BatchWriteCommandOutput = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } }));
        requests = result.UnprocessedItems?.[this.tableName] as Array<Record<string, unknown>> | undefined;
      }
    }
  }

  async accountedAmong(runId: string, hubIds: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Set(hubIds)];
    for (let start = 0; start < unique.length; start += READ_BATCH) {
      let keys: Array<Record<string, unknown>> | undefined = unique.slice(start, start + READ_BATCH).map((hubId) => runAccountedKey(runId, hubId));
      while (keys && keys.length > 0) {
        const result: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) found.add(accountedHubIdOf(String(item.sk)));
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }
}
