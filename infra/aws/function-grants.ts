import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { tokenKey } from '#shared/store/hub-table.layout.ts';
import type { Grant } from '#shared/topology/topology.types.ts';
import type { ConnectorLane } from './connector-lane.construct.ts';
import type { HubFunction } from './function-defaults.construct.ts';
import type { HubBucket } from './hub-bucket.construct.ts';
import { acknowledge, nagArn } from './nag.ts';

/** The resources the topology's grants refer to. */
export interface GrantTargets {
  table: dynamodb.Table;
  lanes: ConnectorLane[];
  connectorsParameter: ssm.IStringParameter;
  /** Name prefix of the connector secrets, e.g. `scim-hub/prod/`. */
  secretsNamePrefix: string;
  /** The topology's buckets, by name. */
  buckets?: Map<string, HubBucket>;
}

/**
 * Turns a function's `grants` into IAM: each grant becomes the narrowest permissions that do
 * the job, and nothing is granted that the topology does not list.
 */
export const applyGrants = (target: HubFunction, targets: GrantTargets): void => {
  for (const grant of target.spec.grants) applyGrant(target, grant, targets);
};

const applyGrant = (target: HubFunction, grant: Grant, targets: GrantTargets): void => {
  const { fn } = target;
  switch (grant.resource) {
    case 'table': {
      if (grant.access === 'read' && target.spec.triggers.some((t) => t.kind === 'lambda-authorizer')) {
        grantTokenLookup(target, targets.table);
        return;
      }
      if (grant.access === 'read') targets.table.grantReadData(fn);
      else {
        targets.table.grantReadWriteData(fn);
        if (!servesOperators(target)) denyTokenWrites(target, targets.table);
      }
      acknowledge(
        target,
        `AwsSolutions-IAM5[Resource::${nagArn(targets.table.node.defaultChild!)}/index/*]`,
        "Queries on the hub table's own global indexes (gsi1: memberships by member, resources by type, audit by connector); the wildcard is the index name under this one table.",
      );
      return;
    }
    case 'stream':
      targets.table.grantStreamRead(fn);
      return;
    case 'queues':
      grantQueues(target, grant.access, targets.lanes);
      return;
    case 'secrets': {
      // Connector secrets are referenced by ARN from the connectors document. Their ARNs end in
      // a random suffix and connectors are added without a deployment, so the grant is the
      // stage's name prefix rather than a list of ARNs.
      const prefix = targets.secretsNamePrefix;
      const arn = Stack.of(target).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${prefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [arn] }));
      acknowledge(
        target,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*]`,
        `Connector credentials are secrets named under ${prefix} and referenced by ARN from the connectors document; secret ARNs end in a random suffix and connectors are added without a deployment, so the stage's name prefix is the narrowest stable grant (read only).`,
      );
      return;
    }
    case 'parameters':
      targets.connectorsParameter.grantRead(fn);
      return;
    case 'bucket': {
      const bucket = targets.buckets?.get(grant.bucket);
      if (!bucket) throw new Error(`${target.spec.name} is granted bucket ${grant.bucket}, which the topology does not declare`);
      bucket.grant(target, grant);
      return;
    }
  }
};

/** `TOKEN#*`: the partition keys of token items (shared/store/hub-table.layout.ts). */
export const TOKEN_KEY_PATTERN = tokenKey('*').pk;

/** DynamoDB actions that write items (and the PartiQL forms of them). */
const ITEM_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

/**
 * An authorizer looks a presented token up by its hash and reads nothing else: GetItem on the
 * table, for token items only (`dynamodb:LeadingKeys`). A flaw in it cannot read the directory.
 */
const grantTokenLookup = (target: HubFunction, table: dynamodb.Table): void => {
  target.fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TOKEN_KEY_PATTERN] } },
    }),
  );
};

/** A function behind operators' routes only (IAM for the CLI, the operators' pool for the console): the operators' API. */
const servesOperators = (target: HubFunction): boolean => {
  const http = target.spec.triggers.filter((t) => t.kind === 'http');
  return http.length > 0 && http.every((t) => t.auth.type === 'iam' || t.auth.type === 'operator');
};

/**
 * Tokens are issued and revoked by operators (`npm run tokens` with their own credentials, or
 * the IAM-authorized admin API), never by another function: a function that writes the table
 * is denied every write whose partition key is a token's, so a flaw in the SCIM API or a
 * connector cannot mint itself a token.
 */
const denyTokenWrites = (target: HubFunction, table: dynamodb.Table): void => {
  target.fn.addToRolePolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ITEM_WRITE_ACTIONS,
      resources: [table.tableArn, `${table.tableArn}/index/*`],
      conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [TOKEN_KEY_PATTERN] } },
    }),
  );
};

/**
 * Queue grants, by what the function does with the lanes:
 * - `send`: put work on every lane queue (the fan-out, reconciliation, a redrive moving
 *   messages back);
 * - `consume` by a function with queue triggers: receive, delete and extend the visibility of
 *   the messages of its lanes, and move what it gives up on to their DLQs itself (the worker
 *   dead-letters after the connector's retries instead of waiting for maxReceiveCount; it finds
 *   the DLQ by name, shared/config/connector-queues.ts dlqUrlOf);
 * - `consume` by a function without queue triggers: read and drain the dead letters of every
 *   lane (the admin API's DLQ depth and redrive).
 */
const grantQueues = (target: HubFunction, access: 'send' | 'consume', lanes: ConnectorLane[]): void => {
  const { fn } = target;
  if (access === 'send') {
    for (const lane of lanes) lane.queue.grantSendMessages(fn);
    return;
  }
  const consumed = new Set(target.spec.triggers.flatMap((t) => (t.kind === 'queue' ? [t.queue] : [])));
  if (consumed.size === 0) {
    for (const lane of lanes) lane.dlq.grantConsumeMessages(fn);
    return;
  }
  for (const lane of lanes.filter((l) => consumed.has(l.spec.name))) {
    lane.queue.grantConsumeMessages(fn);
    lane.dlq.grantSendMessages(fn);
  }
};
