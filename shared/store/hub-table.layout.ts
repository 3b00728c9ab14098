import type { ResourceType, UniqueKey } from '../directory/directory.ports.ts';

/**
 * The item layout of the hub table, written once: every key the hub reads or writes is built
 * and parsed here, the stream filter and the index names come from here, and nothing else
 * spells a key prefix. Pure data and functions (no AWS SDK), so `shared/sync` may parse stream
 * keys with it and `shared/topology` may build the table from it.
 *
 * | item              | pk                                        | sk                   | gsi1pk                      | gsi1sk                     |
 * |-------------------|-------------------------------------------|----------------------|-----------------------------|----------------------------|
 * | user / group      | `USER#<id>` / `GROUP#<id>`                | `USER` / `GROUP`     | `TYPE#<type>#<shard>`       | `<created>#<id>`           |
 * | unique guard      | `UNIQUE#<type>#<attribute>#<value>`       | `UNIQUE`             |                             |                            |
 * | email index       | `EMAIL#<lowercased address>`              | `USER#<id>`          |                             |                            |
 * | externalId index  | `EXTERNALID#<type>#<externalId>`          | `USER#<id>`/`GROUP#` |                             |                            |
 * | membership        | `GROUP#<groupId>`                         | `MEMBER#<id>`        | `MEMBER#<id>`               | `GROUP#<groupId>`          |
 * | deletion drain    | `USER#<id>` / `GROUP#<id>`                | `DRAIN`              | `DRAIN#<shard>`             | `<updated>#<id>`           |
 * | count shard       | `COUNT#<type>#<shard>`                    | `COUNT`              |                             |                            |
 * | token             | `TOKEN#<sha256>`                          | `TOKEN`              | `TYPE#Token`                | `<created>#<id>`           |
 * | link              | `LINK#<connector>#<kind>#<hubId>`         | `LINK`               |                             |                            |
 * | link by target    | `LINKTARGET#<connector>#<kind>#<targetId>`| `LINKTARGET`         |                             |                            |
 * | breaker           | `CONNECTOR#<connector>`                   | `BREAKER`            |                             |                            |
 * | run lock          | `CONNECTOR#<connector>`                   | `RUNLOCK`            |                             |                            |
 * | delta links       | `CONNECTOR#<connector>`                   | `DELTALINKS`         |                             |                            |
 * | reconcile run     | `RUN#<runId>`                             | `RUN`                | `RUNS` / `RUNS#<connector>` | `<created>#<runId>`        |
 * | run plan page     | `RUN#<runId>`                             | `PLAN#<page, 6 digits>` |                          |                            |
 * | run accounted user| `RUN#<runId>`                             | `SEEN#<hubId>`       |                             |                            |
 * | access grant      | `GRANT#<connector>#<userId>`              | `GRANT`              | `TYPE#Grant`                | `<expiresAt>#<connector>#<userId>` |
 * | import job        | `JOB#<jobId>`                             | `JOB`                | `JOBS`                      | `<created>#<jobId>`        |
 * | import chunk      | `JOB#<jobId>`                             | `CHUNK#<n, 6 digits>`|                             |                            |
 * | unfinished import | `JOBSOURCE#<fingerprint>`                 | `JOBSOURCE`          |                             |                            |
 * | export job        | `EXPORT#<exportId>`                       | `EXPORT`             |                             |                            |
 * | audit record      | `AUDIT#<connector>#<hour>#<shard>`        | `<time>#<id>`        | `AUDIT#<hour>#<shard>`      | `<time>#<connector>#<id>`  |
 * | audit hour marker | `AUDITHOURS` / `AUDITHOURS#<connector>`   | `<hour>`             |                             |                            |
 * | audit filter copy | `AUDITBY#<dimension>#<value>#<shard>`     | `<time>#<connector>#<id>` |                        |                            |
 * | operation counter | `COUNTER#<connector>#<shard>`             | `<hour>`             |                             |                            |
 * | counted guard     | `COUNTED#<connector>#<record id>`         | `COUNTED`            |                             |                            |
 *
 * One partition key takes about 1 000 writes a second, so nothing written per resource or per
 * operation shares one key: the by-type listing is spread over TYPE_SHARDS keys by a hash of the
 * id, counts over COUNT_SHARDS keys, audit records over hour buckets of a few keys each.
 * Membership items sit in the group's partition so members page by Query, and are inverted by
 * gsi1 so a user's groups are one Query too.
 */

/** The table's key attributes. */
export const TABLE_KEYS = { pk: 'pk', sk: 'sk' } as const;

/** The one global index: memberships by member, resources and tokens by type, audit by hour. */
export const GSI1 = { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' } as const;

type Key = { pk: string; sk: string };
type IndexKey = { gsi1pk: string; gsi1sk: string };

/** An item without its table and index keys: what repositories hand out. */
export const stripKeys = <T = Record<string, unknown>>(item: Record<string, unknown>): T => {
  const { [TABLE_KEYS.pk]: _pk, [TABLE_KEYS.sk]: _sk, [GSI1.pk]: _gpk, [GSI1.sk]: _gsk, ...rest } = item;
  return rest as T;
};

/** FNV-1a, 32 bits: a stable spread of ids over shards, the same in every process. */
const hash = (value: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

// Users and groups.

export const RESOURCE_SK: Record<ResourceType, string> = { User: 'USER', Group: 'GROUP' };
const RESOURCE_TYPES = Object.keys(RESOURCE_SK) as ResourceType[];

export const resourceKey = (type: ResourceType, id: string): Key => ({ pk: `${RESOURCE_SK[type]}#${id}`, sk: RESOURCE_SK[type] });

/**
 * Shards of the by-type listing: 3 000 creates a second spread over 16 keys is under 200 writes
 * a second on each. Changing it re-keys every resource: it is part of the layout.
 */
export const TYPE_SHARDS = 16;
export const typeShardOf = (id: string): number => hash(id) % TYPE_SHARDS;
const typePartition = (type: string, shard: number) => `TYPE#${type}#${shard}`;

export const typeIndexKey = (type: ResourceType, created: string, id: string): IndexKey => ({
  gsi1pk: typePartition(type, typeShardOf(id)),
  gsi1sk: `${created}#${id}`,
});
/** Every gsi1 partition of a type's listing; each is in creation order, so they merge into one. */
export const typeIndexPartitions = (type: ResourceType): string[] => Array.from({ length: TYPE_SHARDS }, (_, shard) => typePartition(type, shard));

export const uniqueKey = (type: ResourceType, key: UniqueKey): Key => ({ pk: `UNIQUE#${type}#${key.attribute}#${key.value}`, sk: 'UNIQUE' });

export const emailPartition = (email: string) => `EMAIL#${email}`;
export const emailKey = (email: string, userId: string): Key => ({ pk: emailPartition(email), sk: `${RESOURCE_SK.User}#${userId}` });

/** externalId is scoped to the provisioning client (RFC 7643 section 3.1): an index, not a guard. */
export const externalIdPartition = (type: ResourceType, externalId: string) => `EXTERNALID#${type}#${externalId}`;
export const externalIdKey = (type: ResourceType, externalId: string, id: string): Key => ({
  pk: externalIdPartition(type, externalId),
  sk: `${RESOURCE_SK[type]}#${id}`,
});

// Memberships.

export const MEMBER_SK_PREFIX = 'MEMBER#';
export const groupPartition = (groupId: string) => `${RESOURCE_SK.Group}#${groupId}`;
export const membershipKey = (groupId: string, memberId: string): Key => ({ pk: groupPartition(groupId), sk: `${MEMBER_SK_PREFIX}${memberId}` });
/** The gsi1 partition holding a member's memberships (its groups). */
export const memberIndexPartition = (memberId: string) => `${MEMBER_SK_PREFIX}${memberId}`;
export const membershipIndexKey = (groupId: string, memberId: string): IndexKey => ({
  gsi1pk: memberIndexPartition(memberId),
  gsi1sk: groupPartition(groupId),
});
/**
 * A membership item's attribute naming the origin of its removal, written just before a removal
 * that no connector may hear of (an import without provisioning): a stream REMOVE carries only
 * the old image, so the removal's own origin has to be on the item before it goes.
 */
export const MEMBERSHIP_REMOVAL_ORIGIN = 'removalOrigin';

// Deletion drains.

/**
 * A deleted resource's memberships still to remove, written in the transaction that deletes the
 * resource and removed when the last one is gone. It sits in the deleted resource's partition,
 * beside the group's membership items; gsi1 lists the drains by when they last moved, so a sweep
 * finds one whose progress stopped.
 */
export const DRAIN_SK = 'DRAIN';
export const drainKey = (type: ResourceType, id: string): Key => ({ pk: `${RESOURCE_SK[type]}#${id}`, sk: DRAIN_SK });
const drainPartition = (shard: number) => `${DRAIN_SK}#${shard}`;
export const drainIndexKey = (updated: string, id: string): IndexKey => ({ gsi1pk: drainPartition(typeShardOf(id)), gsi1sk: `${updated}#${id}` });
/** Every gsi1 partition of the drains (a mass deletion spreads over them like the type listing). */
export const drainIndexPartitions = (): string[] => Array.from({ length: TYPE_SHARDS }, (_, shard) => drainPartition(shard));
/** The stream filter of the drain function: a drain written or moved on. */
export const DRAIN_STREAM_FILTER = { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { sk: { S: [DRAIN_SK] } } } };

/**
 * Resource counts are kept in shards so concurrent creates rarely touch the same item (a shared
 * item would make their transactions conflict), each shard under a key of its own.
 */
export const COUNT_SHARDS = 16;
export const countKey = (type: ResourceType, shard: number): Key => ({ pk: `COUNT#${type}#${shard}`, sk: 'COUNT' });

// Tokens.

export const tokenKey = (hash: string): Key => ({ pk: `TOKEN#${hash}`, sk: 'TOKEN' });
export const TOKEN_INDEX_PK = 'TYPE#Token';
export const tokenIndexKey = (created: string, id: string): IndexKey => ({ gsi1pk: TOKEN_INDEX_PK, gsi1sk: `${created}#${id}` });

// Sync state.

/** A link per (connector, kind, hub id). */
export const linkKey = (connectorId: string, kind: string, hubId: string): Key => ({ pk: `LINK#${connectorId}#${kind}#${hubId}`, sk: 'LINK' });
/** The reverse of a link: (connector, kind, target id) to the hub id, written with the link. */
export const linkTargetKey = (connectorId: string, kind: string, targetId: string): Key => ({
  pk: `LINKTARGET#${connectorId}#${kind}#${targetId}`,
  sk: 'LINKTARGET',
});
export const breakerKey = (connectorId: string): Key => ({ pk: `CONNECTOR#${connectorId}`, sk: 'BREAKER' });

// Reconciliation runs.

/** One run at a time per connector: held by the run's id until it ends or expires. */
export const runLockKey = (connectorId: string): Key => ({ pk: `CONNECTOR#${connectorId}`, sk: 'RUNLOCK' });
/** An inbound source's change feed: the delta links its last run that finished applying ended with. */
export const feedStateKey = (connectorId: string): Key => ({ pk: `CONNECTOR#${connectorId}`, sk: 'DELTALINKS' });
const runPartition = (runId: string) => `RUN#${runId}`;
export const runKey = (runId: string): Key => ({ pk: runPartition(runId), sk: 'RUN' });
/**
 * Runs listed newest first, all together and per connector: a handful of runs a day per
 * connector, so one partition each takes them easily. The item carries only the first; the
 * per-connector listing is a second index entry written in the same put (see runIndexKeys).
 */
export const RUNS_INDEX_PK = 'RUNS';
export const runsIndexPartition = (connectorId?: string) => (connectorId === undefined ? RUNS_INDEX_PK : `${RUNS_INDEX_PK}#${connectorId}`);
export const runIndexKey = (connectorId: string | undefined, created: string, runId: string): IndexKey => ({
  gsi1pk: runsIndexPartition(connectorId),
  gsi1sk: `${created}#${runId}`,
});
/** The per-connector listing entry of a run: a small item of its own in the run's partition. */
export const runConnectorEntryKey = (runId: string): Key => ({ pk: runPartition(runId), sk: 'RUNBYCONNECTOR' });
export const runPlanPageKey = (runId: string, page: number): Key => ({ pk: runPartition(runId), sk: `PLAN#${String(page).padStart(6, '0')}` });
const ACCOUNTED_SK_PREFIX = 'SEEN#';
export const runAccountedKey = (runId: string, hubId: string): Key => ({ pk: runPartition(runId), sk: `${ACCOUNTED_SK_PREFIX}${hubId}` });
export const accountedHubIdOf = (sk: string): string => sk.slice(ACCOUNTED_SK_PREFIX.length);
/**
 * Temporary access grants, one per (connector, user), listed by gsi1 soonest expiry first: the
 * expiry sweep reads the partition up to now. Grants are few (operators hand them out one by
 * one), so one index partition takes them all. A grant's removal (TTL, sweep or revoke) goes
 * out on the stream to its connector's lane.
 */
export const GRANT_SK = 'GRANT';
const GRANT_PK_PREFIX = 'GRANT#';
export const GRANT_INDEX_PK = 'TYPE#Grant';
export const grantKey = (connectorId: string, userId: string): Key => ({ pk: `${GRANT_PK_PREFIX}${connectorId}#${userId}`, sk: GRANT_SK });
export const grantIndexKey = (connectorId: string, userId: string, expiresAt: string): IndexKey => ({
  gsi1pk: GRANT_INDEX_PK,
  gsi1sk: `${expiresAt}#${connectorId}#${userId}`,
});
/** The attribute DynamoDB's TTL reads (the table spec names it): epoch seconds. */
export const TTL_ATTRIBUTE = 'ttl';

// Import jobs.

/**
 * An import job, its counted chunks beside it (so a chunk counts once: its item is written on the
 * condition that it does not exist, in the transaction that adds its counters to the job), and,
 * while the job is unfinished, a guard keyed by what was imported, so a second start of the same
 * import finds the job and resumes it. Jobs are listed newest first from one index partition: an
 * operator starts a few a day.
 */
const jobPartition = (jobId: string) => `JOB#${jobId}`;
export const jobKey = (jobId: string): Key => ({ pk: jobPartition(jobId), sk: 'JOB' });
export const JOBS_INDEX_PK = 'JOBS';
export const jobIndexKey = (created: string, jobId: string): IndexKey => ({ gsi1pk: JOBS_INDEX_PK, gsi1sk: `${created}#${jobId}` });
export const JOB_CHUNK_SK_PREFIX = 'CHUNK#';
export const jobChunkKey = (jobId: string, chunk: number): Key => ({ pk: jobPartition(jobId), sk: `${JOB_CHUNK_SK_PREFIX}${String(chunk).padStart(6, '0')}` });
export const jobChunksPartition = jobPartition;
export const jobSourceKey = (fingerprint: string): Key => ({ pk: `JOBSOURCE#${fingerprint}`, sk: 'JOBSOURCE' });

/** An export job: what was asked, and the import bucket key of the file once written. */
export const exportJobKey = (exportId: string): Key => ({ pk: `EXPORT#${exportId}`, sk: 'EXPORT' });

// Audit records.

/** The hour bucket of an ISO time: `2026-01-01T13`. */
export const auditHourOf = (time: string): string => new Date(time).toISOString().slice(0, 13);
/**
 * A connector's audit records of one hour are spread over AUDIT_SHARDS keys, all connectors'
 * (gsi1) over AUDIT_INDEX_SHARDS: a connector provisioning 3 000 operations a second puts about
 * 400 a second on each of its keys, two such connectors about 400 on each index key
 * (bench/partitions.bench.ts measures it).
 */
export const AUDIT_SHARDS = 8;
export const AUDIT_INDEX_SHARDS = 16;
const auditPartition = (connectorId: string, hour: string, shard: number) => `AUDIT#${connectorId}#${hour}#${shard}`;
export const auditPartitions = (connectorId: string, hour: string): string[] =>
  Array.from({ length: AUDIT_SHARDS }, (_, shard) => auditPartition(connectorId, hour, shard));
const auditIndexPartition = (hour: string, shard: number) => `AUDIT#${hour}#${shard}`;
export const auditIndexPartitions = (hour: string): string[] => Array.from({ length: AUDIT_INDEX_SHARDS }, (_, shard) => auditIndexPartition(hour, shard));
export const auditKey = (connectorId: string, time: string, id: string): Key & IndexKey => {
  const hour = auditHourOf(time);
  return {
    pk: auditPartition(connectorId, hour, hash(id) % AUDIT_SHARDS),
    sk: `${time}#${id}`,
    gsi1pk: auditIndexPartition(hour, hash(`${connectorId}#${id}`) % AUDIT_INDEX_SHARDS),
    gsi1sk: `${time}#${connectorId}#${id}`,
  };
};

/**
 * The log's selective filters, answered from items of their own: each audit record is copied,
 * in the transaction that writes it, into one partition per filter value it carries (its
 * status, trigger, action, resource id and name), keyed like gsi1 (`<time>#<connector>#<id>`),
 * so a filtered page is a Query of matching records only, newest first, whatever the volume.
 * The commonest values (status `success`, trigger `realtime`) get no copy: most records carry
 * them, so the hour walk with a filter already reads mostly matching records. Busy values are
 * spread over AUDIT_FILTER_SHARDS keys by the record's id; one resource's records share one.
 */
export type AuditFilterDimension = 'status' | 'trigger' | 'action' | 'resource' | 'name';
export interface AuditFilter {
  dimension: AuditFilterDimension;
  value: string;
}
export const AUDIT_FILTER_SHARDS = 4;
const UNCOPIED_FILTER_VALUES: Partial<Record<AuditFilterDimension, string>> = { status: 'success', trigger: 'realtime' };
/** Whether records with this value are copied into a filter partition (a Query answers the filter). */
export const auditFilterIndexed = (filter: AuditFilter): boolean => UNCOPIED_FILTER_VALUES[filter.dimension] !== filter.value;
const auditFilterShards = (filter: AuditFilter) => (filter.dimension === 'resource' || filter.dimension === 'name' ? 1 : AUDIT_FILTER_SHARDS);
const auditFilterPartition = (filter: AuditFilter, shard: number) => `AUDITBY#${filter.dimension}#${filter.value}#${shard}`;
/** Every partition holding the records of one filter value; each is newest last, so they merge into one. */
export const auditFilterPartitions = (filter: AuditFilter): string[] =>
  Array.from({ length: auditFilterShards(filter) }, (_, shard) => auditFilterPartition(filter, shard));
/** The filters an audit record is copied under. */
export const auditFiltersOf = (entry: { status: string; trigger: string; action: string; resourceId: string; name?: string }): AuditFilter[] =>
  (
    [
      { dimension: 'status', value: entry.status },
      { dimension: 'trigger', value: entry.trigger },
      { dimension: 'action', value: entry.action },
      { dimension: 'resource', value: entry.resourceId },
      ...(entry.name ? [{ dimension: 'name', value: entry.name }] : []),
    ] as AuditFilter[]
  ).filter(auditFilterIndexed);
/** A record's copy under one filter: the sort key is its gsi1 sort key, unique across connectors. */
export const auditFilterKey = (filter: AuditFilter, connectorId: string, time: string, id: string): Key => ({
  pk: auditFilterPartition(filter, hash(id) % auditFilterShards(filter)),
  sk: `${time}#${connectorId}#${id}`,
});

/**
 * The hours that hold audit records, per connector and for all: a query walks these instead of
 * every hour of the retention period. Written once per hour per process.
 */
export const auditHoursPartition = (connectorId?: string) => (connectorId === undefined ? 'AUDITHOURS' : `AUDITHOURS#${connectorId}`);
export const auditHourKey = (connectorId: string | undefined, hour: string): Key => ({ pk: auditHoursPartition(connectorId), sk: hour });

// Operation counters.

/**
 * Per connector and hour, the counts of its audit records (by status, by action, a latency
 * histogram), each added after the record is written, in a transaction with the record's
 * counted guard (below), so a record counts once however often it is written. A connector's counters are
 * spread over COUNTER_SHARDS keys by the record's id: the transactions of concurrent workers
 * rarely meet on one item, and no key takes more than its share of a busy connector's writes.
 * A chart of N hours reads N items per shard, whatever the number of records.
 */
export const COUNTER_SHARDS = 8;
const counterPartition = (connectorId: string, shard: number) => `COUNTER#${connectorId}#${shard}`;
export const counterPartitions = (connectorId: string): string[] => Array.from({ length: COUNTER_SHARDS }, (_, shard) => counterPartition(connectorId, shard));
export const counterKey = (connectorId: string, hour: string, recordId: string): Key => ({
  pk: counterPartition(connectorId, hash(recordId) % COUNTER_SHARDS),
  sk: hour,
});
/**
 * Written, on the condition that it is absent, in the transaction that adds an audit record to
 * its counters: a record written again (a retried call) is never counted twice. Small, and in a
 * key of its own, so counting never rewrites the record. Expires with the record.
 */
export const countedGuardKey = (connectorId: string, recordId: string): Key => ({ pk: `COUNTED#${connectorId}#${recordId}`, sk: 'COUNTED' });

// Stream records.

/**
 * The stream filter of the fanout (EventBridge pattern syntax on the sort key): resources,
 * memberships and access grants only. Links, audit records, guards, indexes and tokens never
 * leave the table.
 */
export const CHANGE_STREAM_SORT_KEYS = [RESOURCE_SK.User, RESOURCE_SK.Group, { prefix: MEMBER_SK_PREFIX }, GRANT_SK];

export type ParsedKey =
  | { item: 'resource'; type: ResourceType; id: string }
  | { item: 'membership'; groupId: string; memberId: string }
  | { item: 'grant'; connectorId: string; userId: string };

/** What a table key is, for the items the hub announces; undefined for every other item. */
export const parseKey = (pk: string, sk: string): ParsedKey | undefined => {
  for (const type of RESOURCE_TYPES) {
    const prefix = `${RESOURCE_SK[type]}#`;
    if (sk === RESOURCE_SK[type] && pk.startsWith(prefix)) return { item: 'resource', type, id: pk.slice(prefix.length) };
  }
  const groupPrefix = `${RESOURCE_SK.Group}#`;
  if (sk.startsWith(MEMBER_SK_PREFIX) && pk.startsWith(groupPrefix)) {
    return { item: 'membership', groupId: pk.slice(groupPrefix.length), memberId: sk.slice(MEMBER_SK_PREFIX.length) };
  }
  if (sk === GRANT_SK && pk.startsWith(GRANT_PK_PREFIX)) {
    // Connector ids have no '#' (connectors.schema.ts): the first one ends the connector id.
    const rest = pk.slice(GRANT_PK_PREFIX.length);
    const cut = rest.indexOf('#');
    if (cut > 0) return { item: 'grant', connectorId: rest.slice(0, cut), userId: rest.slice(cut + 1) };
  }
  return undefined;
};
