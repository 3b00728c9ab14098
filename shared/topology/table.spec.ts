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
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    // Inverted index: memberships by member (a user's groups), resources listed by type in
    // creation order, audit records by connector and time.
    { name: 'gsi1', partitionKey: { name: 'gsi1pk', type: 'S' }, sortKey: { name: 'gsi1sk', type: 'S' } },
  ],
  stream: 'NEW_AND_OLD_IMAGES',
  timeToLiveAttribute: 'ttl',
};
