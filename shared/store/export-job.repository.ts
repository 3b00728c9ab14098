import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ExportJobStore } from '../transfer/import-job.ports.ts';
import type { ExportJob } from '../transfer/transfer.types.ts';
import { exportJobKey, stripKeys, TTL_ATTRIBUTE } from './hub-table.layout.ts';

/** Export jobs leave the table a little after their files leave the bucket (7 days). */
const EXPORT_TTL_SECONDS = 8 * 86_400;

/** Export jobs on the hub table (item layout in hub-table.layout.ts). */
export class DynamoExportJobStore implements ExportJobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async create(job: ExportJob): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...exportJobKey(job.exportId), ...job, [TTL_ATTRIBUTE]: Math.floor(this.now() / 1000) + EXPORT_TTL_SECONDS },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(exportId: string): Promise<ExportJob | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: exportJobKey(exportId), ConsistentRead: true }));
    if (!result.Item) return undefined;
    const { [TTL_ATTRIBUTE]: _ttl, ...job } = stripKeys(result.Item);
    return job as unknown as ExportJob;
  }

  async finish(exportId: string, outcome: Pick<ExportJob, 'state' | 'key' | 'exported' | 'bytes' | 'error' | 'updated'>): Promise<void> {
    const fields = Object.entries(outcome).filter(([, value]) => value !== undefined);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: exportJobKey(exportId),
          UpdateExpression: `SET ${fields.map((_, i) => `#f${i} = :f${i}`).join(', ')}`,
          // A redelivered export that ran again finds the job ended: the first ending stands.
          ConditionExpression: 'attribute_exists(pk) AND #state = :running',
          ExpressionAttributeNames: { '#state': 'state', ...Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name])) },
          ExpressionAttributeValues: { ':running': 'running', ...Object.fromEntries(fields.map(([, value], i) => [`:f${i}`, value])) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
