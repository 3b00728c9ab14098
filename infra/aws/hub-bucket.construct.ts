import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import type { BucketSpec, Grant, ObjectCreatedTrigger } from '#shared/topology/topology.types.ts';
import type { HubFunction } from './function-defaults.construct.ts';
import { acknowledge, nagArn } from './nag.ts';

export interface HubBucketProps {
  spec: BucketSpec;
  removalPolicy: RemovalPolicy;
  /** Days the server access logs are kept. */
  accessLogRetentionDays: number;
}

/** What each access of a `bucket` grant allows on the objects under its prefixes (and nothing on the bucket itself). */
const OBJECT_ACTIONS: Record<Extract<Grant, { resource: 'bucket' }>['access'], string[]> = {
  read: ['s3:GetObject'],
  readWrite: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
};

/**
 * A bucket of the topology: private (public access blocked, objects owned by the bucket owner,
 * no ACLs), encrypted at rest, reachable over TLS only, with server access logs; objects under
 * each prefix expire as the spec says, and unfinished multipart uploads after a day.
 */
export class HubBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly spec: BucketSpec;

  constructor(scope: Construct, id: string, props: HubBucketProps) {
    super(scope, id);
    this.spec = props.spec;
    const privately = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      removalPolicy: props.removalPolicy,
    } as const;
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...privately,
      // The log delivery writes with its own ACL-free bucket policy (CDK adds it).
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(props.accessLogRetentionDays) }],
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privately,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: `${props.spec.name}/`,
      lifecycleRules: [
        ...Object.entries(props.spec.expireAfterDays).map(([prefix, days]) => ({
          id: `expire-${prefix.replace(/[^A-Za-z0-9]+/g, '')}`,
          prefix,
          expiration: Duration.days(days),
        })),
        { id: 'abort-unfinished-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  /** A `bucket` grant: the grant's object actions on its prefixes only. */
  grant(target: HubFunction, grant: Extract<Grant, { resource: 'bucket' }>): void {
    const resources = grant.prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`));
    target.fn.addToRolePolicy(new iam.PolicyStatement({ actions: OBJECT_ACTIONS[grant.access], resources }));
    for (const prefix of grant.prefixes) {
      acknowledge(
        target,
        `AwsSolutions-IAM5[Resource::${nagArn(this.bucket.node.defaultChild!)}/${prefix}*]`,
        `The objects under ${prefix} of the ${this.spec.name} bucket: keys are chosen at run time (uploads, job ids), so the prefix is the narrowest resource.`,
      );
    }
  }

  /** An `object-created` trigger: an S3 event notification per suffix, under the trigger's prefix. */
  notify(target: HubFunction, trigger: ObjectCreatedTrigger): void {
    for (const suffix of trigger.suffixes) {
      this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(target.fn), { prefix: trigger.prefix, suffix });
    }
  }

  /**
   * CDK writes bucket notifications through one custom-resource function per stack, whose role
   * and policy exist once every notification is added: called after the triggers are bound.
   */
  acknowledgeNotificationHandler(): void {
    const role = Stack.of(this).node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834')?.node.tryFindChild('Role');
    if (!role) return;
    acknowledge(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's own bucket-notification custom resource: it runs at deployment only and writes its logs with the basic execution role.",
    );
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledge(
        policy,
        'AwsSolutions-IAM5[Resource::*]',
        "CDK's own bucket-notification custom resource: s3:PutBucketNotification on the stack's buckets, run at deployment only.",
      );
    }
  }
}
