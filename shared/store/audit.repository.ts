import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { emptyCounts, LATENCY_BOUNDS_MS, latencyBucketOf, type OperationCounts, sumCounts } from '../observability/operation-counters.ts';
import { InvalidCursor } from '../directory/directory.errors.ts';
import { AppError } from '../errors.ts';
import { stableHash } from '../sync/stable-hash.ts';
import type { AuditEntry, AuditLog } from '../sync/sync.ports.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import {
  type AuditFilter,
  auditFilterIndexed,
  auditFilterKey,
  auditFilterPartitions,
  auditFiltersOf,
  auditHourKey,
  auditHourOf,
  auditHoursPartition,
  auditIndexPartitions,
  auditKey,
  auditPartitions,
  counterKey,
  counterPartitions,
  countedGuardKey,
  GSI1,
  stripKeys,
  TABLE_KEYS,
} from './hub-table.layout.ts';
import { MergedQuery } from './merged-query.ts';
import { queryAll } from './query-all.ts';
import { transactWrite } from './transactions.ts';

export interface AuditQuery {
  connectorId?: string;
  /** One status, or any of several (`['failed', 'dead-lettered']`). */
  status?: string | readonly string[];
  action?: string;
  trigger?: string;
  /** A resource's hub id or its name (userName or displayName). */
  resourceId?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

/** Hour markers read per Query while walking back in time. */
const HOURS_PER_READ = 24;

/**
 * Audit records, one item per operation, expiring by TTL after the retention period. Records
 * are bucketed by hour and spread over a few keys per hour (per connector in the table, across
 * connectors in gsi1), so no key takes every write of a busy import. A query walks the hours that
 * hold records, newest first, within the asked range; its cursor is the hour and the sort key
 * of the last record returned.
 */
export class DynamoAuditLog implements AuditLog {
  /** Hours already marked by this process: the marker is written once per hour, not per record. */
  private readonly markedHours = new Set<string>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
    /** Tries of the counters' transaction while it conflicts with others on a hot counter. */
    private readonly countAttempts = 8,
    /** Off only to measure what the filter copies save (bench/audit-log.bench.ts): then filters read the hour walk. */
    private readonly options: { filterCopies: boolean } = { filterCopies: true },
  ) {}

  /**
   * Writes the record, then adds it to its hour's counters. The record's id is derived from
   * its content, and both writes are guarded by it: the record's put on its key being new, the
   * counting on the record's counted guard being absent (written in the counters' transaction).
   * So the record is written on its own, and a hot counter whose transactions keep conflicting
   * can delay its counting but never lose it; and recording the same entry again (a retried
   * call) writes nothing twice and counts nothing twice.
   *
   * Rejects with AuditCountPendingError when the counting still conflicts after its retries:
   * the record is kept, and recording the same entry again completes the count.
   */
  async record(entry: AuditEntry): Promise<void> {
    const id = auditRecordIdOf(entry);
    const ttl = Math.floor(Date.parse(entry.time) / 1000) + this.retentionDays * 86_400;
    const hour = auditHourOf(entry.time);
    const item = { ...auditKey(entry.connectorId, entry.time, id), id, ttl, ...entry };
    // The copies the log's filters read (hub-table.layout.ts), written with the record so a
    // filter never misses it: no index keys, so gsi1 holds each record once.
    const copies = (this.options.filterCopies ? auditFiltersOf(entry) : []).map((filter) => ({
      Put: { TableName: this.tableName, Item: { ...auditFilterKey(filter, entry.connectorId, entry.time, id), id, ttl, ...entry } },
    }));
    const writes: Array<Promise<unknown>> = [
      (copies.length === 0
        ? this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }))
        : transactWrite(
            this.client,
            [{ Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } }, ...copies],
            (reasons) => (reasons[0] === 'ConditionalCheckFailed' ? new AlreadyRecorded() : new Error(`audit record not written: ${reasons.join(', ')}`)),
          )
      ).catch((error: unknown) => {
        // Written by an earlier call with the same entry.
        if (!(error instanceof ConditionalCheckFailedException || error instanceof AlreadyRecorded)) throw error;
      }),
    ];
    for (const connectorId of [entry.connectorId, undefined]) {
      const marker = auditHourKey(connectorId, hour);
      const name = `${marker.pk}|${marker.sk}`;
      if (this.markedHours.has(name)) continue;
      // Expires with the last record the hour can hold.
      const markerTtl = Math.floor(Date.parse(`${hour}:00:00.000Z`) / 1000) + 3600 + this.retentionDays * 86_400;
      writes.push(this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...marker, ttl: markerTtl } })).then(() => this.markedHours.add(name)));
    }
    // The record first: the counting below may fail, the record must not.
    await Promise.all(writes);
    await this.count(entry, hour, id, ttl);
  }

  /** Adds a written record to its counters, once: the counted guard and the counters in one transaction. */
  private async count(entry: AuditEntry, hour: string, id: string, ttl: number): Promise<void> {
    const counted = Symbol('counted already');
    try {
      await transactWrite(
        this.client,
        [
          {
            Put: {
              TableName: this.tableName,
              Item: { ...countedGuardKey(entry.connectorId, id), ttl },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          { Update: { TableName: this.tableName, ...counterUpdate(entry, hour, id, ttl) } },
        ],
        (reasons) =>
          reasons[0] === 'ConditionalCheckFailed'
            ? Object.assign(new Error('counted already'), { [counted]: true })
            : new AuditCountPendingError(entry.connectorId, id, reasons),
        this.countAttempts,
      );
    } catch (error) {
      if (!(error as Record<symbol, unknown>)[counted]) throw error;
    }
  }

  /**
   * A connector's counters for every hour from `fromHour` to `toHour` (`2026-11-29T21`), oldest
   * first (an hour without operations has none): one Query per shard, one item per hour.
   */
  async counters(connectorId: string, fromHour: string, toHour: string): Promise<OperationCounts[]> {
    const shards = await Promise.all(
      counterPartitions(connectorId).map((pk) =>
        queryAll(this.client, {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': pk, ':from': fromHour, ':to': toHour },
        }),
      ),
    );
    const byHour = new Map<string, OperationCounts[]>();
    for (const item of shards.flat()) {
      const counts = countsOf(item);
      byHour.set(counts.hour, [...(byHour.get(counts.hour) ?? []), counts]);
    }
    return [...byHour.keys()].sort().map((hour) => sumCounts(hour, byHour.get(hour) ?? []));
  }

  async query(query: AuditQuery): Promise<{ items: Array<AuditEntry & { id: string }>; next: string | undefined }> {
    const byConnector = query.connectorId !== undefined;
    const rangeKey = byConnector ? TABLE_KEYS.sk : GSI1.sk;
    const from = query.from === undefined ? '0000' : utc(query.from);
    // `~` sorts after every character of an ISO time and of the ids that follow it.
    const to = `${query.to === undefined ? '9999' : utc(query.to)}~`;
    const statuses = query.status === undefined ? [] : [query.status].flat();
    const selective = this.options.filterCopies ? selectiveFilters(query, statuses) : undefined;
    const position = selective ? undefined : positionOf(query.cursor);
    const fromHour = query.from === undefined ? '0000' : from.slice(0, 13);
    const lastHour = position?.hour ?? (query.to === undefined ? '9999' : to.slice(0, 13));

    const filters: string[] = [];
    const names: Record<string, string> = { '#pk': byConnector ? TABLE_KEYS.pk : GSI1.pk, '#range': rangeKey };
    const filterValues: Record<string, unknown> = {};
    for (const field of ['action', 'trigger'] as const) {
      if (query[field] !== undefined) {
        filters.push(`#${field} = :${field}`);
        names[`#${field}`] = field;
        filterValues[`:${field}`] = query[field];
      }
    }
    if (statuses.length > 0) {
      filters.push(`#status IN (${statuses.map((_, i) => `:status${i}`).join(', ')})`);
      names['#status'] = 'status';
      statuses.forEach((status, i) => {
        filterValues[`:status${i}`] = status;
      });
    }
    if (query.resourceId !== undefined) {
      // Operators know people by name; the records carry both.
      filters.push('(#resourceId = :resource OR #name = :resource)');
      names['#resourceId'] = 'resourceId';
      names['#name'] = 'name';
      filterValues[':resource'] = query.resourceId;
    }

    if (selective) {
      if (query.connectorId !== undefined) {
        filters.push('#connectorId = :connectorId');
        names['#connectorId'] = 'connectorId';
        filterValues[':connectorId'] = query.connectorId;
      }
      return this.queryFilterCopies(query, selective, from, to, { filters, names: { ...names, '#pk': TABLE_KEYS.pk, '#range': TABLE_KEYS.sk }, filterValues });
    }

    const items: Array<AuditEntry & { id: string }> = [];
    let lastKey: string | undefined;
    let hoursStart: Record<string, unknown> | undefined;
    do {
      const hours = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': auditHoursPartition(query.connectorId), ':from': fromHour, ':to': lastHour },
          ScanIndexForward: false,
          Limit: HOURS_PER_READ,
          ExclusiveStartKey: hoursStart,
        }),
      );
      hoursStart = hours.LastEvaluatedKey;
      for (const marker of hours.Items ?? []) {
        const hour = marker.sk as string;
        // Within the cursor's hour, resume below the last record returned (sort keys are unique).
        const below = position?.hour === hour ? position.key : undefined;
        const partitions = byConnector ? auditPartitions(query.connectorId as string, hour) : auditIndexPartitions(hour);
        const inputs: QueryCommandInput[] = partitions.map((partition) => ({
          TableName: this.tableName,
          ...(byConnector ? {} : { IndexName: GSI1.name }),
          KeyConditionExpression: '#pk = :pk AND #range BETWEEN :from AND :to',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':pk': partition, ':from': from, ':to': below !== undefined && below < to ? below : to, ...filterValues },
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        }));
        const merged = new MergedQuery(this.client, inputs, rangeKey, true, query.limit - items.length + 1);
        for (;;) {
          if (items.length === query.limit) return { items, next: encodeCursor({ hour, key: lastKey as string }) };
          const item = await merged.next();
          if (!item) break;
          if (item[rangeKey] === below) continue;
          const { ttl: _ttl, ...entry } = stripKeys<Record<string, unknown>>(item);
          lastKey = item[rangeKey] as string;
          items.push(entry as unknown as AuditEntry & { id: string });
        }
      }
    } while (hoursStart);
    return { items, next: undefined };
  }

  /**
   * A page from the filter copies of the most selective filter asked (several statuses, or a
   * resource's id and name, merge their partitions), newest first; the other conditions are
   * checked on those copies only. Its cursor is the sort key of the last record returned.
   */
  private async queryFilterCopies(
    query: AuditQuery,
    selective: AuditFilter[],
    from: string,
    to: string,
    conditions: { filters: string[]; names: Record<string, string>; filterValues: Record<string, unknown> },
  ): Promise<{ items: Array<AuditEntry & { id: string }>; next: string | undefined }> {
    const below = query.cursor === undefined ? undefined : filterPositionOf(query.cursor);
    if (query.cursor !== undefined && below === undefined) throw new InvalidCursor(query.cursor);
    const inputs: QueryCommandInput[] = selective.flatMap(auditFilterPartitions).map((partition) => ({
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND #range BETWEEN :from AND :to',
      ExpressionAttributeNames: conditions.names,
      ExpressionAttributeValues: { ':pk': partition, ':from': from, ':to': below !== undefined && below < to ? below : to, ...conditions.filterValues },
      ...(conditions.filters.length > 0 ? { FilterExpression: conditions.filters.join(' AND ') } : {}),
    }));
    const merged = new MergedQuery(this.client, inputs, TABLE_KEYS.sk, true, query.limit + 1);
    const items: Array<AuditEntry & { id: string }> = [];
    const seen = new Set<string>();
    let lastKey: string | undefined;
    for (;;) {
      const item = await merged.next();
      if (!item) return { items, next: undefined };
      const key = item[TABLE_KEYS.sk] as string;
      // A record whose id and name are both asked sits in both partitions: once is enough.
      if (key === below || seen.has(key)) continue;
      if (items.length === query.limit) return { items, next: encodeCursor({ by: 'filter', key: lastKey as string }) };
      seen.add(key);
      lastKey = key;
      const { ttl: _ttl, ...entry } = stripKeys<Record<string, unknown>>(item);
      items.push(entry as unknown as AuditEntry & { id: string });
    }
  }
}

/**
 * The filter copies that answer the query, or undefined when it has no selective filter (then
 * the hour walk does, by connector or across all). A resource beats a status, a status a
 * trigger, a trigger an action: the likely order of how few records match.
 */
const selectiveFilters = (query: AuditQuery, statuses: string[]): AuditFilter[] | undefined => {
  if (query.resourceId !== undefined) {
    return [
      { dimension: 'resource', value: query.resourceId },
      { dimension: 'name', value: query.resourceId },
    ];
  }
  const byStatus = statuses.map((value): AuditFilter => ({ dimension: 'status', value }));
  if (byStatus.length > 0 && byStatus.every(auditFilterIndexed)) return byStatus;
  const candidates: AuditFilter[] = [
    ...(query.trigger === undefined ? [] : [{ dimension: 'trigger' as const, value: query.trigger }]),
    ...(query.action === undefined ? [] : [{ dimension: 'action' as const, value: query.action }]),
  ];
  const chosen = candidates.find(auditFilterIndexed);
  return chosen ? [chosen] : undefined;
};

/** The position in a filter-copy page, or undefined for a cursor of the hour walk. */
const filterPositionOf = (cursor: string): string | undefined => {
  const position = decodeCursor(cursor);
  return position?.by === 'filter' && typeof position.key === 'string' ? position.key : undefined;
};

/** Times compare as stored (UTC ISO strings): a bound given with an offset is brought to UTC. */
const utc = (time: string): string => {
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? time : new Date(parsed).toISOString();
};

const positionOf = (cursor: string | undefined): { hour: string; key: string } | undefined => {
  const position = decodeCursor(cursor);
  if (position === undefined) return undefined;
  if (typeof position.hour !== 'string' || typeof position.key !== 'string') throw new InvalidCursor(cursor ?? '');
  return { hour: position.hour, key: position.key };
};

/**
 * An audit record's id: a hash of its content, so the same entry recorded again (a retried
 * call) lands on the same key and counts once. Two operations differ at least in their time.
 */
export const auditRecordIdOf = (entry: AuditEntry): string => stableHash(entry);

/** The record is written, but its counting kept conflicting with other writers of its counter. */
export class AuditCountPendingError extends AppError {
  constructor(connectorId: string, recordId: string, reasons: Array<string | undefined>) {
    super(
      'audit.countPending',
      `audit record ${recordId} of ${connectorId} is written but not counted yet (${reasons.join(', ')}): recording the same entry again counts it`,
      { retryable: true },
    );
  }
}

class AlreadyRecorded extends Error {}

/** Counter attributes: `n` (all), `s_<status>`, `a_<action>`, `l_<latency bucket>`. */
const STATUS_PREFIX = 's_';
const ACTION_PREFIX = 'a_';
const LATENCY_PREFIX = 'l_';

const counterUpdate = (entry: AuditEntry, hour: string, id: string, ttl: number) => {
  const names: Record<string, string> = { '#n': 'n', '#s': `${STATUS_PREFIX}${entry.status}`, '#a': `${ACTION_PREFIX}${entry.action}`, '#ttl': 'ttl' };
  const adds = ['#n :one', '#s :one', '#a :one'];
  if (entry.latencyMs !== undefined) {
    names['#l'] = `${LATENCY_PREFIX}${latencyBucketOf(entry.latencyMs)}`;
    adds.push('#l :one');
  }
  return {
    Key: counterKey(entry.connectorId, hour, id),
    // The counter outlives the last record of its hour by the retention period, like the hour marker.
    UpdateExpression: `ADD ${adds.join(', ')} SET #ttl = if_not_exists(#ttl, :ttl)`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':one': 1, ':ttl': ttl + 3600 },
  };
};

const countsOf = (item: Record<string, unknown>): OperationCounts => {
  const counts = emptyCounts(item.sk as string);
  counts.total = Number(item.n ?? 0);
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(STATUS_PREFIX)) counts.byStatus[name.slice(STATUS_PREFIX.length)] = Number(value);
    else if (name.startsWith(ACTION_PREFIX)) counts.byAction[name.slice(ACTION_PREFIX.length)] = Number(value);
    else if (name.startsWith(LATENCY_PREFIX)) {
      const bucket = Number(name.slice(LATENCY_PREFIX.length));
      if (bucket >= 0 && bucket < LATENCY_BOUNDS_MS.length) counts.latency[bucket] = Number(value);
    }
  }
  return counts;
};
