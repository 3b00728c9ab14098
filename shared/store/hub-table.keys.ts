import type { ResourceType, UniqueKey } from '../directory/directory.ports.ts';

/**
 * The key design of the hub table, written once. Every access path is a key lookup or a Query:
 *
 * | item            | pk                                   | sk               | gsi1pk             | gsi1sk              |
 * |-----------------|--------------------------------------|------------------|--------------------|---------------------|
 * | user / group    | `USER#<id>` / `GROUP#<id>`           | `USER` / `GROUP` | `TYPE#User`        | `<created>#<id>`    |
 * | unique guard    | `UNIQUE#<type>#<attribute>#<value>`  | `UNIQUE`         |                    |                     |
 * | email index     | `EMAIL#<lowercased address>`         | `USER#<id>`      |                    |                     |
 * | membership      | `GROUP#<groupId>`                    | `MEMBER#<id>`    | `MEMBER#<id>`      | `GROUP#<groupId>`   |
 * | count shard     | `COUNT#<type>`                       | `<shard>`        |                    |                     |
 * | token           | `TOKEN#<sha256>`                     | `TOKEN`          | `TYPE#Token`       | `<created>#<id>`    |
 *
 * Membership items sit in the group's partition so members page by Query, and are inverted by
 * gsi1 so a user's groups are one Query too: adding a member is one item, whatever the size.
 */
export const RESOURCE_SK: Record<ResourceType, string> = { User: 'USER', Group: 'GROUP' };

export const resourceKey = (type: ResourceType, id: string) => ({ pk: `${RESOURCE_SK[type]}#${id}`, sk: RESOURCE_SK[type] });

export const typeIndexKey = (type: ResourceType, created: string, id: string) => ({ gsi1pk: `TYPE#${type}`, gsi1sk: `${created}#${id}` });

export const uniqueKey = (type: ResourceType, key: UniqueKey) => ({ pk: `UNIQUE#${type}#${key.attribute}#${key.value}`, sk: 'UNIQUE' });

export const emailKey = (email: string, userId: string) => ({ pk: `EMAIL#${email}`, sk: `USER#${userId}` });

export const membershipKey = (groupId: string, memberId: string) => ({ pk: `GROUP#${groupId}`, sk: `MEMBER#${memberId}` });

export const membershipIndexKey = (groupId: string, memberId: string) => ({ gsi1pk: `MEMBER#${memberId}`, gsi1sk: `GROUP#${groupId}` });

/**
 * Resource counts are kept in a few shards so concurrent creates rarely touch the same item in
 * their transactions (a shared item would make them conflict).
 */
export const COUNT_SHARDS = 8;
export const countKey = (type: ResourceType, shard: number) => ({ pk: `COUNT#${type}`, sk: String(shard) });

export const tokenKey = (hash: string) => ({ pk: `TOKEN#${hash}`, sk: 'TOKEN' });
export const TOKEN_INDEX_PK = 'TYPE#Token';

export const GSI1 = 'gsi1';

/** Sync state: links per (connector, kind, hub id), the breaker per connector, audit records. */
export const linkKey = (connectorId: string, kind: string, hubId: string) => ({ pk: `LINK#${connectorId}#${kind}#${hubId}`, sk: 'LINK' });
export const linkTargetKey = (connectorId: string, kind: string, targetId: string) => ({ pk: `LINKTARGET#${connectorId}#${kind}#${targetId}`, sk: 'LINKTARGET' });
export const breakerKey = (connectorId: string) => ({ pk: `CONNECTOR#${connectorId}`, sk: 'BREAKER' });
export const auditKey = (connectorId: string, time: string, id: string) => ({ pk: `AUDIT#${connectorId}`, sk: `${time}#${id}` });
/** All connectors' audit records in time order, through gsi1. */
export const AUDIT_INDEX_PK = 'AUDIT';
