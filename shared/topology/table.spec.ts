import { GSI1, TABLE_KEYS, TTL_ATTRIBUTE } from '../store/hub-table.layout.ts';

/**
 * The hub's one DynamoDB table, written once as data. The CDK stack and the local runner both
 * build the table from this spec, so local and deployed keys, indexes, stream and TTL agree.
 */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface GlobalIndexSpec {
  name: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
}

export interface TableSpec {
  logicalName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  globalIndexes: GlobalIndexSpec[];
  stream: 'NEW_AND_OLD_IMAGES';
  timeToLiveAttribute: string;
}

export const hubTable: TableSpec = {
  logicalName: 'HubTable',
  partitionKey: { name: TABLE_KEYS.pk, type: 'S' },
  sortKey: { name: TABLE_KEYS.sk, type: 'S' },
  globalIndexes: [
    // Inverted index: memberships by member (a user's groups), resources listed by type in
    // creation order, all connectors' audit records by hour (keys: shared/store/hub-table.layout.ts).
    { name: GSI1.name, partitionKey: { name: GSI1.pk, type: 'S' }, sortKey: { name: GSI1.sk, type: 'S' } },
  ],
  stream: 'NEW_AND_OLD_IMAGES',
  timeToLiveAttribute: TTL_ATTRIBUTE,
};
