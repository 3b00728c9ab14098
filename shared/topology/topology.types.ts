/**
 * The vocabulary of the topology: the functions of the hub and what triggers them. The CDK app
 * (infra/aws) and the local runner (infra/local) are both built from one `Topology` value, so
 * what runs locally is what deploys.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ANY';

/** An API Gateway route. `path` uses API Gateway syntax: `{name}` and greedy `{proxy+}`. */
export interface HttpRoute {
  method: HttpMethod;
  path: string;
}

export interface HttpTrigger {
  kind: 'http';
  routes: HttpRoute[];
  /**
   * `none`, IAM (SigV4) auth, the name of a `lambda-authorizer` function, or `operator`: the
   * operators' console, signed in through the operators' Cognito user pool in AWS (a Cognito
   * user-pools authorizer, CORS for the console's origin only) and with the operator token
   * (`ADMIN_TOKEN`) locally.
   */
  auth: { type: 'none' } | { type: 'iam' } | { type: 'lambda'; authorizer: string } | { type: 'operator' };
}

/**
 * A Lambda event filter pattern over the stream record
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
 * Only the pattern forms we use are allowed: exact values, `prefix` and `exists`.
 */
export type FilterPatternValue = string | number | { prefix: string } | { exists: boolean };
export interface FilterPattern {
  [key: string]: FilterPattern | FilterPatternValue[];
}

export interface StreamTrigger {
  kind: 'stream';
  /** Records match when any one pattern matches. */
  filters: FilterPattern[];
  batchSize: number;
  maxBatchingWindowSeconds: number;
  maxRetryAttempts: number;
  bisectBatchOnError: boolean;
  reportBatchItemFailures: boolean;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

export interface QueueTrigger {
  kind: 'queue';
  /** Name of a queue in `Topology.queues`. */
  queue: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

export interface ScheduleTrigger {
  kind: 'schedule';
  /** EventBridge schedule expression: `rate(5 minutes)` or `cron(0 2 * * ? *)`. */
  expression: string;
  /** The constant input passed as the event's `detail`. */
  detail?: Record<string, unknown>;
}

/**
 * One schedule per connector whose connectors-document entry sets `reconcile.schedule`: the
 * function receives the scheduled event with `{"connectorId": "<id>"}` as its detail. The
 * expressions come with the connectors (deployment parameters in AWS, the document locally);
 * connector-schedules.ts turns them into schedule triggers for both.
 */
export interface ConnectorScheduleTrigger {
  kind: 'connector-schedule';
}

/** Invoked directly by operators (Lambda Invoke API or the CLI). */
export interface InvokeTrigger {
  kind: 'invoke';
}

/** A Lambda authorizer in front of HTTP routes (REQUEST type, Authorization header). */
export interface AuthorizerTrigger {
  kind: 'lambda-authorizer';
  identityHeader: string;
  resultsCacheTtlSeconds: number;
}

/**
 * An object created in a bucket of the topology under `prefix`, with one of `suffixes`: an S3
 * event notification in AWS, a watch of the bucket's directory locally. The function receives
 * the S3 event (`aws:s3`, `ObjectCreated:*`).
 */
export interface ObjectCreatedTrigger {
  kind: 'object-created';
  /** Name of a bucket in `Topology.buckets`. */
  bucket: string;
  prefix: string;
  suffixes: string[];
}

export type FunctionTrigger =
  | HttpTrigger
  | StreamTrigger
  | QueueTrigger
  | ScheduleTrigger
  | ConnectorScheduleTrigger
  | InvokeTrigger
  | AuthorizerTrigger
  | ObjectCreatedTrigger;

/** What a function may touch; the CDK stack turns these into least-privilege grants. */
export type Grant =
  | { resource: 'table'; access: 'read' | 'readWrite' }
  | { resource: 'stream'; access: 'read' }
  | { resource: 'queues'; access: 'send' | 'consume' }
  | { resource: 'secrets'; access: 'read' }
  | { resource: 'parameters'; access: 'read' }
  /** Objects of a bucket of the topology, under the listed key prefixes only. */
  | { resource: 'bucket'; bucket: string; access: 'read' | 'readWrite'; prefixes: string[] };

export interface FunctionSpec {
  name: string;
  description: string;
  /** Entry file, relative to the project root: always `functions/<name>/handler.ts`. */
  entry: string;
  memoryMb: number;
  timeoutSeconds: number;
  triggers: FunctionTrigger[];
  grants: Grant[];
}

export interface QueueSpec {
  name: string;
  /** One queue (and DLQ) per connector, named `<name>-<connectorId>`. */
  perConnector: boolean;
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  retentionDays: number;
}

/**
 * A private bucket: encrypted, TLS only, public access blocked. Objects under each key prefix of
 * `expireAfterDays` are deleted that many days after they were written.
 */
export interface BucketSpec {
  name: string;
  expireAfterDays: Record<string, number>;
}

export interface Topology {
  functions: FunctionSpec[];
  queues: QueueSpec[];
  buckets?: BucketSpec[];
}
