import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { hubTable } from '../../../shared/topology/table.spec.ts';
import { fullTopology } from '../fixtures/full.topology.ts';
import { resources, synthHub } from '../support/hub-synth.ts';

describe('hub table', () => {
  const { template } = synthHub({ topology: fullTopology });

  it('has the keys, indexes, stream and TTL of the table spec', () => {
    // Prepare
    const keyAttributes = [hubTable.partitionKey, hubTable.sortKey, ...hubTable.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey])];
    // Assess
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: hubTable.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: hubTable.sortKey.name, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith(keyAttributes.map((k) => ({ AttributeName: k.name, AttributeType: k.type }))),
      GlobalSecondaryIndexes: hubTable.globalIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: hubTable.timeToLiveAttribute, Enabled: true },
    });
  });

  it('is on demand, point-in-time recoverable, deletion protected and encrypted with the AWS managed key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true },
    });
    // SSEEnabled without a KMS key id means the AWS managed key (aws/dynamodb), not a customer key.
    const [table] = Object.values(resources(template, 'AWS::DynamoDB::Table'));
    expect((table!.Properties.SSESpecification as Record<string, unknown>).KMSMasterKeyId).toBeUndefined();
  });

  it('is kept when the stack is deleted, by default', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('can be thrown away with removalPolicy=destroy, which also lifts deletion protection', () => {
    // Act
    const { template: disposable } = synthHub({ topology: fullTopology, context: { removalPolicy: 'destroy' } });
    // Assess
    disposable.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    disposable.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });
});
