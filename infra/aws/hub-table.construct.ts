import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { KeyAttribute, TableSpec } from '#shared/topology/table.spec.ts';

export interface HubTableProps {
  spec: TableSpec;
  removalPolicy: RemovalPolicy;
  /** Refuse DeleteTable; off only when the stage is meant to be thrown away. */
  deletionProtection: boolean;
}

const attribute = (key: KeyAttribute): dynamodb.Attribute => ({
  name: key.name,
  type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

const streamViews: Record<TableSpec['stream'], dynamodb.StreamViewType> = {
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
};

/**
 * The hub's one table, built from the key spec the local runner builds DynamoDB Local's table
 * from: keys, global indexes (all attributes projected, as locally), stream view and TTL
 * attribute. On demand, because provisioning bursts (an IdP's initial push, a reconciliation)
 * are exactly what provisioned capacity handles worst; point-in-time recovery, because the hub
 * is the directory of record; encrypted with the AWS managed key (`aws/dynamodb`) rather than
 * the default AWS owned key, so that every use of the key shows in the account's CloudTrail.
 */
export class HubTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: HubTableProps) {
    super(scope, id);
    const { spec } = props;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(spec.partitionKey),
      sortKey: attribute(spec.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      stream: streamViews[spec.stream],
      timeToLiveAttribute: spec.timeToLiveAttribute,
      removalPolicy: props.removalPolicy,
    });
    for (const index of spec.globalIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
