import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog } from '../sync/sync.ports.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { AUDIT_INDEX_PK, auditKey, GSI1 } from './hub-table.keys.ts';

export interface AuditQuery {
  connectorId?: string;
  status?: string;
  action?: string;
  resourceId?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

/**
 * Audit records, one item per operation, expiring by TTL after the retention period. Read per
 * connector (its partition) or across connectors (gsi1), newest first, in a time range.
 */
export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const id = randomUUID();
    const ttl = Math.floor(Date.parse(entry.time) / 1000) + this.retentionDays * 86_400;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...auditKey(entry.connectorId, entry.time, id), gsi1pk: AUDIT_INDEX_PK, gsi1sk: `${entry.time}#${entry.connectorId}#${id}`, id, ttl, ...entry },
      }),
    );
  }

  async query(query: AuditQuery): Promise<{ items: Array<AuditEntry & { id: string }>; next: string | undefined }> {
    const byConnector = query.connectorId !== undefined;
    const keyName = byConnector ? 'sk' : 'gsi1sk';
    const from = query.from ?? '0000';
    // `~` sorts after every character of an ISO time and of the ids that follow it.
    const to = `${query.to ?? '9999'}~`;
    const filters: string[] = [];
    const values: Record<string, unknown> = { ':pk': byConnector ? `AUDIT#${query.connectorId}` : AUDIT_INDEX_PK, ':from': from, ':to': to };
    const names: Record<string, string> = { '#range': keyName, '#pk': byConnector ? 'pk' : 'gsi1pk' };
    for (const field of ['status', 'action', 'resourceId'] as const) {
      if (query[field] !== undefined) {
        filters.push(`#${field} = :${field}`);
        names[`#${field}`] = field;
        values[`:${field}`] = query[field];
      }
    }
    const items: Array<AuditEntry & { id: string }> = [];
    let start = decodeCursor(query.cursor);
    // Filters apply after the key range is read: keep reading until the page is full.
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        ...(byConnector ? {} : { IndexName: GSI1 }),
        KeyConditionExpression: '#pk = :pk AND #range BETWEEN :from AND :to',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ScanIndexForward: false,
        Limit: query.limit - items.length,
        ExclusiveStartKey: start,
      };
      const page = await this.client.send(new QueryCommand(input));
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, ttl: _ttl, ...entry } = item;
        items.push(entry as AuditEntry & { id: string });
      }
      start = page.LastEvaluatedKey;
    } while (start && items.length < query.limit);
    return { items, next: encodeCursor(start) };
  }
}
