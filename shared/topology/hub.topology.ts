import { CHANGE_STREAM_SORT_KEYS, DRAIN_STREAM_FILTER } from '../store/hub-table.layout.ts';
import { BUCKET_PREFIXES } from '../transfer/object-store.port.ts';
import { IMPORT_BUCKET_NAME } from './function-environment.ts';
import type { Grant, Topology } from './topology.types.ts';

/** What a function calling connectors needs: the table, its lanes, the connectors document and their secrets. */
const CONNECTOR_CALLER_GRANTS: Grant[] = [
  { resource: 'table', access: 'readWrite' },
  { resource: 'queues', access: 'consume' },
  { resource: 'queues', access: 'send' },
  { resource: 'secrets', access: 'read' },
  { resource: 'parameters', access: 'read' },
];

/**
 * THE description of the hub: every function, its entry file and its triggers. The CDK stack
 * (infra/aws) and the local runner (infra/local) are both built from this value; a test proves
 * that both cover every entry.
 */
export const hubTopology: Topology = {
  functions: [
    {
      name: 'scim-authorizer',
      description: 'Checks SCIM bearer tokens (stored hashed) for API Gateway; answers are cached.',
      entry: 'functions/scim-authorizer/handler.ts',
      memoryMb: 256,
      timeoutSeconds: 10,
      triggers: [{ kind: 'lambda-authorizer', identityHeader: 'Authorization', resultsCacheTtlSeconds: 300 }],
      grants: [{ resource: 'table', access: 'read' }],
    },
    {
      name: 'scim-api',
      description: 'The SCIM 2.0 service provider (RFC 7643, RFC 7644, RFC 9865) on the hub table.',
      entry: 'functions/scim-api/handler.ts',
      memoryMb: 1024,
      // API Gateway waits at most 29 s for an integration.
      timeoutSeconds: 29,
      triggers: [
        {
          kind: 'http',
          routes: [
            { method: 'ANY', path: '/scim/v2' },
            { method: 'ANY', path: '/scim/v2/{proxy+}' },
          ],
          auth: { type: 'lambda', authorizer: 'scim-authorizer' },
        },
      ],
      grants: [{ resource: 'table', access: 'readWrite' }],
    },
    {
      name: 'admin-api',
      description:
        "Operators' API: the audit trail, connector health, the DLQ redrive, on-demand provisioning, access grants, reconciliation runs and import jobs.",
      entry: 'functions/admin-api/handler.ts',
      memoryMb: 512,
      timeoutSeconds: 29,
      triggers: [
        // The CLI signs its calls with IAM; the console calls the same routes under /operator with an operator's pool token.
        { kind: 'http', routes: [{ method: 'ANY', path: '/admin/{proxy+}' }], auth: { type: 'iam' } },
        { kind: 'http', routes: [{ method: 'ANY', path: '/operator/{proxy+}' }], auth: { type: 'operator' } },
      ],
      grants: [
        // Writes: on-demand provisioning (links, audit records, access grants) and reconciliation runs (run records and locks).
        { resource: 'table', access: 'readWrite' },
        { resource: 'queues', access: 'consume' },
        { resource: 'queues', access: 'send' },
        { resource: 'secrets', access: 'read' },
        { resource: 'parameters', access: 'read' },
        // Imports from an uploaded key, exports handed out as download URLs, chunks too large for a message.
        { resource: 'bucket', bucket: IMPORT_BUCKET_NAME, access: 'read', prefixes: [BUCKET_PREFIXES.imports, BUCKET_PREFIXES.mappings] },
        { resource: 'bucket', bucket: IMPORT_BUCKET_NAME, access: 'readWrite', prefixes: [BUCKET_PREFIXES.exports, BUCKET_PREFIXES.chunks] },
      ],
    },
    {
      name: 'fanout',
      description: 'Turns hub changes (users, groups, memberships) into messages on every enabled connector lane.',
      entry: 'functions/fanout/handler.ts',
      memoryMb: 512,
      timeoutSeconds: 60,
      triggers: [
        {
          kind: 'stream',
          // Only resources and memberships: links, audit records and tokens never leave the table.
          filters: [{ dynamodb: { Keys: { sk: { S: CHANGE_STREAM_SORT_KEYS } } } }],
          batchSize: 100,
          maxBatchingWindowSeconds: 0,
          maxRetryAttempts: 10,
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          startingPosition: 'TRIM_HORIZON',
        },
      ],
      grants: [
        // Reads whether a group whose membership was removed still exists.
        { resource: 'table', access: 'read' },
        { resource: 'stream', access: 'read' },
        { resource: 'queues', access: 'send' },
        { resource: 'parameters', access: 'read' },
      ],
    },
    {
      name: 'deletion-drain',
      description: 'Removes the memberships of deleted users and groups after DELETE answered, a bounded page per run.',
      entry: 'functions/deletion-drain/handler.ts',
      memoryMb: 512,
      timeoutSeconds: 60,
      triggers: [
        {
          kind: 'stream',
          // A drain written by a DELETE, or moved on by the previous run: each change runs the next part.
          filters: [DRAIN_STREAM_FILTER],
          batchSize: 10,
          maxBatchingWindowSeconds: 0,
          maxRetryAttempts: 10,
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          startingPosition: 'TRIM_HORIZON',
        },
        // A drain whose stream record exhausted its retries is nudged, so it runs again.
        { kind: 'schedule', expression: 'rate(10 minutes)' },
      ],
      grants: [
        { resource: 'table', access: 'readWrite' },
        { resource: 'stream', access: 'read' },
      ],
    },
    {
      name: 'connector-worker',
      description: 'Applies changes to one connector: plan, then create, update, disable, delete or link; audit every step.',
      entry: 'functions/connector-worker/handler.ts',
      memoryMb: 512,
      timeoutSeconds: 30,
      // FIFO event source mappings deliver at most 10 messages per batch.
      triggers: [{ kind: 'queue', queue: 'connector', batchSize: 10, reportBatchItemFailures: true }],
      grants: CONNECTOR_CALLER_GRANTS,
    },
    {
      name: 'reconcile',
      description:
        'Reconciliation runs: reads a target and the hub page by page, classifies every pair, and sends the plan to the connector lane (or writes an inbound source into the hub).',
      entry: 'functions/reconcile/handler.ts',
      memoryMb: 1024,
      timeoutSeconds: 60,
      // One page a message: a run's pages follow each other in its FIFO message group.
      triggers: [{ kind: 'queue', queue: 'reconcile', batchSize: 1, reportBatchItemFailures: true }, { kind: 'connector-schedule' }],
      grants: CONNECTOR_CALLER_GRANTS,
    },
    {
      name: 'provision-on-demand',
      description: 'Provisions one user or group on one connector now, step by step (operators invoke it directly).',
      entry: 'functions/provision-on-demand/handler.ts',
      memoryMb: 512,
      // One user: a few target calls, each bounded by the connector's retries.
      timeoutSeconds: 60,
      triggers: [{ kind: 'invoke' }],
      grants: [
        { resource: 'table', access: 'readWrite' },
        { resource: 'queues', access: 'send' },
        { resource: 'secrets', access: 'read' },
        { resource: 'parameters', access: 'read' },
      ],
    },
    {
      name: 'grant-expiry',
      description: 'Ends temporary access on time: deletes expired grants, which the stream turns into deprovisions.',
      entry: 'functions/grant-expiry/handler.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      triggers: [{ kind: 'schedule', expression: 'rate(1 minute)' }],
      grants: [{ resource: 'table', access: 'readWrite' }],
    },
    {
      name: 'import-worker',
      description:
        'Import and export jobs: cuts a file uploaded to the import bucket into chunks, applies each chunk through the directory use cases (counted once into its job), and writes exports to the bucket.',
      entry: 'functions/import-worker/handler.ts',
      memoryMb: 1024,
      // A chunk of 100 rows: a few hundred small transactions; scrypt for rows that set a password.
      // A file is cut for at most this long a run; a message on the import queue carries the rest on from the job's row offset.
      timeoutSeconds: 120,
      triggers: [
        { kind: 'queue', queue: 'import', batchSize: 1, reportBatchItemFailures: true },
        { kind: 'object-created', bucket: IMPORT_BUCKET_NAME, prefix: BUCKET_PREFIXES.imports, suffixes: ['.csv', '.json', '.ndjson'] },
      ],
      grants: [
        { resource: 'table', access: 'readWrite' },
        { resource: 'queues', access: 'consume' },
        // Chunks, and the rest of a file still to cut, go back onto the import queue.
        { resource: 'queues', access: 'send' },
        { resource: 'bucket', bucket: IMPORT_BUCKET_NAME, access: 'read', prefixes: [BUCKET_PREFIXES.imports, BUCKET_PREFIXES.mappings] },
        { resource: 'bucket', bucket: IMPORT_BUCKET_NAME, access: 'readWrite', prefixes: [BUCKET_PREFIXES.exports, BUCKET_PREFIXES.chunks] },
      ],
    },
  ],
  queues: [
    {
      name: 'connector',
      perConnector: true,
      fifo: true,
      // At least twice the worker's timeout, so a slow batch is not delivered twice at once.
      visibilityTimeoutSeconds: 60,
      // The worker moves a message to the DLQ itself after the connector's retry.maxAttempts;
      // this redrive is the safety net for messages that crash the worker, and leaves room for
      // quarantine waits (each one is a receive).
      maxReceiveCount: 100,
      retentionDays: 14,
    },
    {
      name: 'reconcile',
      perConnector: false,
      fifo: true,
      // Twice the reconcile function's timeout: a page still running is not delivered again.
      visibilityTimeoutSeconds: 120,
      // A page that keeps failing (its target unreachable) ends in the DLQ, and its run waits there.
      maxReceiveCount: 10,
      retentionDays: 4,
    },
    {
      name: 'import',
      perConnector: false,
      // Chunks of one job run side by side; each is counted once by its job, whatever the order.
      fifo: false,
      // Twice the import worker's timeout.
      visibilityTimeoutSeconds: 240,
      // A chunk that fails five times (a hub that keeps refusing it) waits in the DLQ for a redrive.
      maxReceiveCount: 5,
      retentionDays: 4,
    },
  ],
  buckets: [
    {
      name: IMPORT_BUCKET_NAME,
      // Uploads and exports hold personal data: kept a week, long enough to resume or download.
      expireAfterDays: { [BUCKET_PREFIXES.imports]: 7, [BUCKET_PREFIXES.exports]: 7, [BUCKET_PREFIXES.chunks]: 4 },
    },
  ],
};
