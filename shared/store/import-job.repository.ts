import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ImportJobStore } from '../transfer/import-job.ports.ts';
import type { ChunkResult, ImportCounters, ImportJob, RejectedRow } from '../transfer/transfer.types.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import {
  GSI1,
  JOB_CHUNK_SK_PREFIX,
  JOBS_INDEX_PK,
  jobChunkKey,
  jobChunksPartition,
  jobIndexKey,
  jobKey,
  jobSourceKey,
  stripKeys,
  TTL_ATTRIBUTE,
} from './hub-table.layout.ts';
import { transactWrite } from './transactions.ts';

/** Jobs, their chunks and their guards leave the table this long after they were last written. */
const JOB_TTL_SECONDS = 30 * 86_400;
/** Rejected rows kept per chunk: a chunk's item stays far below DynamoDB's 400 KB. */
const MAX_REJECTED_PER_CHUNK = 500;
const COUNTER_NAMES: Array<keyof ImportCounters> = ['rows', 'created', 'updated', 'unchanged', 'rejected', 'groupsCreated'];

const conditionFailed = (error: unknown) => error instanceof ConditionalCheckFailedException;

class ChunkCountedAlready extends Error {}
class JobNotCompletable extends Error {}

/** Import jobs on the hub table (item layout in hub-table.layout.ts). */
export class DynamoImportJobStore implements ImportJobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private ttl = () => Math.floor(this.now() / 1000) + JOB_TTL_SECONDS;

  async createOrResume(job: ImportJob): Promise<{ job: ImportJob; resumed: boolean }> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const guard = await this.client.send(new GetCommand({ TableName: this.tableName, Key: jobSourceKey(job.fingerprint), ConsistentRead: true }));
      const existing = guard.Item ? await this.get(guard.Item.jobId as string) : undefined;
      if (existing && existing.state !== 'completed' && existing.state !== 'failed') return { job: existing, resumed: true };
      try {
        await transactWrite(
          this.client,
          [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...jobSourceKey(job.fingerprint), jobId: job.jobId, [TTL_ATTRIBUTE]: this.ttl() },
                // A guard left by a job that finished or failed no longer holds the import.
                ConditionExpression: guard.Item ? 'jobId = :previous' : 'attribute_not_exists(pk)',
                ...(guard.Item ? { ExpressionAttributeValues: { ':previous': guard.Item.jobId } } : {}),
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...jobKey(job.jobId), ...jobIndexKey(job.created, job.jobId), ...job, [TTL_ATTRIBUTE]: this.ttl() },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
          () => new JobNotCompletable(),
        );
        return { job, resumed: false };
      } catch (error) {
        // Another start of the same import won the race: read its guard again.
        if (!(error instanceof JobNotCompletable)) throw error;
      }
    }
    throw new Error(`the import ${job.fingerprint} is being started by another caller; try again`);
  }

  async get(jobId: string): Promise<ImportJob | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: jobKey(jobId), ConsistentRead: true }));
    return result.Item ? this.toJob(result.Item) : undefined;
  }

  private toJob(item: Record<string, unknown>): ImportJob {
    const { [TTL_ATTRIBUTE]: _ttl, ...job } = stripKeys<Record<string, unknown>>(item);
    return job as unknown as ImportJob;
  }

  async advance(jobId: string, rowOffset: number, updated: string): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(jobId),
          UpdateExpression: 'SET rowOffset = :offset, updated = :updated',
          ConditionExpression: 'attribute_exists(pk) AND rowOffset < :offset',
          ExpressionAttributeValues: { ':offset': rowOffset, ':updated': updated },
        }),
      )
      .catch((error: unknown) => {
        // Already past it: a chunk cut again after a resume.
        if (!conditionFailed(error)) throw error;
      });
  }

  async seal(jobId: string, totalChunks: number, warnings: string[], updated: string): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(jobId),
          UpdateExpression: 'SET #state = :processing, totalChunks = :total, warnings = :warnings, updated = :updated',
          // A total, once set, never changes: a second cutter of the same file counts the same chunks.
          ConditionExpression: 'attribute_exists(pk) AND #state IN (:receiving, :processing) AND (attribute_not_exists(totalChunks) OR totalChunks = :total)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':processing': 'processing',
            ':receiving': 'receiving',
            ':total': totalChunks,
            ':warnings': warnings,
            ':updated': updated,
          },
        }),
      )
      .catch(async (error: unknown) => {
        if (!conditionFailed(error)) throw error;
        // Finished already (sealed by another cutter of the same file and counted, or failed): nothing to seal.
        const job = await this.get(jobId);
        if (job && job.state === 'processing' && job.totalChunks !== totalChunks) {
          throw new Error(`import job ${jobId} is sealed with ${job.totalChunks} chunks, and a cut of its file counted ${totalChunks}`);
        }
      });
  }

  async recordChunk(jobId: string, chunk: number, result: ChunkResult, updated: string): Promise<boolean> {
    const names: Record<string, string> = { '#counters': 'counters' };
    const values: Record<string, unknown> = { ':one': 1, ':updated': updated };
    const adds = COUNTER_NAMES.map((name) => {
      names[`#${name}`] = name;
      values[`:${name}`] = result.counters[name];
      return `#counters.#${name} :${name}`;
    });
    try {
      await transactWrite(
        this.client,
        [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...jobChunkKey(jobId, chunk),
                counters: result.counters,
                rejected: result.rejected.slice(0, MAX_REJECTED_PER_CHUNK),
                rejectedOmitted: Math.max(0, result.rejected.length - MAX_REJECTED_PER_CHUNK),
                [TTL_ATTRIBUTE]: this.ttl(),
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: jobKey(jobId),
              UpdateExpression: `SET updated = :updated ADD chunksDone :one, ${adds.join(', ')}`,
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            },
          },
        ],
        (reasons) => (reasons[0] === 'ConditionalCheckFailed' ? new ChunkCountedAlready() : new Error(`chunk ${chunk} of job ${jobId}: ${reasons.join(', ')}`)),
      );
      return true;
    } catch (error) {
      if (error instanceof ChunkCountedAlready) return false;
      throw error;
    }
  }

  async completeIfDone(jobId: string, updated: string): Promise<boolean> {
    const job = await this.get(jobId);
    if (job?.state !== 'processing' || job.totalChunks === undefined || job.chunksDone < job.totalChunks) return false;
    try {
      await transactWrite(
        this.client,
        [
          {
            Update: {
              TableName: this.tableName,
              Key: jobKey(jobId),
              UpdateExpression: 'SET #state = :completed, updated = :updated',
              ConditionExpression: '#state = :processing AND chunksDone >= totalChunks',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':completed': 'completed', ':processing': 'processing', ':updated': updated },
            },
          },
          // The import is no longer under way: a new start of it is a new job.
          {
            Delete: {
              TableName: this.tableName,
              Key: jobSourceKey(job.fingerprint),
              ConditionExpression: 'attribute_not_exists(pk) OR jobId = :jobId',
              ExpressionAttributeValues: { ':jobId': jobId },
            },
          },
        ],
        () => new JobNotCompletable(),
      );
      return true;
    } catch (error) {
      if (error instanceof JobNotCompletable) return false;
      throw error;
    }
  }

  async fail(jobId: string, error: string, updated: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: jobKey(jobId),
        UpdateExpression: 'SET #state = :failed, #error = :error, updated = :updated',
        ConditionExpression: 'attribute_exists(pk) AND #state <> :completed',
        ExpressionAttributeNames: { '#state': 'state', '#error': 'error' },
        ExpressionAttributeValues: { ':failed': 'failed', ':completed': 'completed', ':error': error.slice(0, 2000), ':updated': updated },
      }),
    );
  }

  async createFailed(job: ImportJob & { state: 'failed'; error: string }): Promise<ImportJob> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...jobKey(job.jobId), ...jobIndexKey(job.created, job.jobId), ...job, error: job.error.slice(0, 2000), [TTL_ATTRIBUTE]: this.ttl() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return job;
    } catch (error) {
      // The same refusal recorded already (an event delivered twice).
      if (!conditionFailed(error)) throw error;
      return (await this.get(job.jobId)) ?? job;
    }
  }

  async rejected(jobId: string, options: { limit: number; cursor?: string }): Promise<{ items: RejectedRow[]; next: string | undefined }> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :chunk)',
        FilterExpression: 'size(rejected) > :none',
        ExpressionAttributeValues: { ':pk': jobChunksPartition(jobId), ':chunk': JOB_CHUNK_SK_PREFIX, ':none': 0 },
        ProjectionExpression: 'pk, sk, rejected',
        // Chunks read per page; each holds from 1 to MAX_REJECTED_PER_CHUNK rejected rows.
        Limit: options.limit,
        ExclusiveStartKey: decodeCursor(options.cursor),
      }),
    );
    const items = (result.Items ?? []).flatMap((item) => item.rejected as RejectedRow[]).sort((a, b) => a.row - b.row);
    return { items, next: encodeCursor(result.LastEvaluatedKey) };
  }

  async list(options: { limit: number; cursor?: string }): Promise<{ items: ImportJob[]; next: string | undefined }> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: GSI1.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': GSI1.pk },
        ExpressionAttributeValues: { ':pk': JOBS_INDEX_PK },
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: decodeCursor(options.cursor),
      }),
    );
    return { items: (result.Items ?? []).map((item) => this.toJob(item)), next: encodeCursor(result.LastEvaluatedKey) };
  }
}
