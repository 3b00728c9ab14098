import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import * as z from 'zod';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConnectorQueuesEnvSchema, dlqUrlOf } from '#shared/config/connector-queues.ts';
import { ImportBucketEnvSchema, readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { objectStoreOf } from '#shared/objects/object-store.wiring.ts';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { METRICS_NAMESPACE, withAuditMetrics } from '#shared/observability/audit-metrics.ts';
import { httpErrors } from '#shared/observability/http-errors.middleware.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { peekDeadLetters } from '#shared/queues/dlq-peek.ts';
import { wireImportJobs } from '#shared/provisioning/import-jobs.wiring.ts';
import { wireOnDemand } from '#shared/provisioning/on-demand.wiring.ts';
import { redriveWithinBudget } from '#shared/queues/dlq-redrive.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { DynamoBreakerStore } from '#shared/store/breaker.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { HubQueuesEnvSchema } from '#shared/config/hub-queues.ts';
import { sqsLanes, sqsRunPages } from '#shared/queues/sqs-reconcile.ts';
import { DynamoDirectoryStore } from '#shared/store/directory.repository.ts';
import { DynamoLinkStore } from '#shared/store/link.repository.ts';
import { DynamoRunStore } from '#shared/store/run.repository.ts';
import { reconcileHubOf } from '#shared/sync/directory-reconcile.hub.ts';
import { makeReconciliation } from '#shared/sync/reconcile-run.ts';
import { randomUUID } from 'node:crypto';
import { routeAdminRequest } from './admin-router.ts';
import { consoleCors } from './console-cors.ts';

const env = readEnv(
  TableEnvSchema.merge(ConnectorQueuesEnvSchema)
    .merge(HubQueuesEnvSchema)
    .merge(ImportBucketEnvSchema)
    .extend({
      AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(90),
      // The console's origin in AWS; empty locally, where the console shares the hub's origin.
      CONSOLE_ORIGIN: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]),
    }),
);
const documents = createDocumentClient();
const sqs = new SQSClient({});
const audit = new DynamoAuditLog(documents, env.TABLE_NAME, env.AUDIT_RETENTION_DAYS);
const breakers = new DynamoBreakerStore(documents, env.TABLE_NAME);
const connectors = makeConnectorsSource(env);
const queueUrl = (id: string) => env.CONNECTOR_QUEUE_URLS[id] ?? '';
const runStore = new DynamoRunStore(documents, env.TABLE_NAME);
const links = new DynamoLinkStore(documents, env.TABLE_NAME);
const logger = createLogger('admin-api');
const directory = new DynamoDirectoryStore(documents, env.TABLE_NAME);
/** Starting, approving and rejecting runs: their pages then run in the reconcile function. */
const reconciliation = makeReconciliation({
  runs: runStore,
  pages: sqsRunPages(sqs, env.HUB_QUEUE_URLS.reconcile ?? ''),
  lane: sqsLanes(sqs, (connectorId) => env.CONNECTOR_QUEUE_URLS[connectorId]),
  hub: reconcileHubOf(directory),
  links,
  audit,
  clock: () => new Date(),
  newId: () => `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
});
const configOf = async (connectorId: string) => {
  const config = (await connectors()).connectors.find((c) => c.id === connectorId);
  if (!config) throw new Error(`no connector ${connectorId}`);
  return config;
};
const onDemand = wireOnDemand({
  documents,
  tableName: env.TABLE_NAME,
  sqs,
  audit: withAuditMetrics(audit, new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'admin-api' })),
  connectors,
  queueUrl: async (id) => env.CONNECTOR_QUEUE_URLS[id],
});

const transfer = wireImportJobs({
  documents,
  tableName: env.TABLE_NAME,
  sqs,
  queueUrl: env.HUB_QUEUE_URLS.import ?? '',
  objects: objectStoreOf(env.IMPORT_BUCKET),
  onUnknownAttributes: (resourceType, names) => logger.warn('ignored unknown attributes', { resourceType, names }),
});
const imports = { ...transfer.jobs, ...(transfer.transfers ?? {}) };

/**
 * A redrive stops starting new messages this long before the function's timeout, so its answer
 * (moved, remaining) gets back to the caller: one send and one delete take well under a second.
 */
const REDRIVE_MARGIN_MS = 5_000;

/** Operators' HTTP API (IAM for the CLI and the operators' pool for the console in AWS, the operator token locally). */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(injectLambdaContext(logger, { correlationIdPath: 'requestContext.requestId' }))
  // Before the error middleware, so that its onError runs after it and a 500 carries CORS too.
  .use(consoleCors(env.CONSOLE_ORIGIN))
  .use(httpErrors(logger))
  .handler((event, context) =>
    routeAdminRequest(event, {
      queryAudit: (query) => audit.query(query),
      connectorIds: async () => (await connectors()).connectors.map((c) => c.id).filter((id) => env.CONNECTOR_QUEUE_URLS[id]),
      breaker: (id) => breakers.get(id),
      deadLetterCount: async (id) => {
        const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrlOf(queueUrl(id)), AttributeNames: ['ApproximateNumberOfMessages'] }));
        return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
      },
      peekDeadLetters: (id, limit) => peekDeadLetters(sqs, dlqUrlOf(queueUrl(id)), limit),
      redrive: (id, max) =>
        redriveWithinBudget(sqs, dlqUrlOf(queueUrl(id)), queueUrl(id), {
          max,
          budgetMs: Math.max(0, context.getRemainingTimeInMillis() - REDRIVE_MARGIN_MS),
        }),
      runs: {
        listRuns: (options) => runStore.list(options),
        getRun: (runId) => runStore.get(runId),
        planPage: (runId, page) => runStore.getPlanPage(runId, page),
        startRun: async (connectorId, dryRun, full) => reconciliation.start(await configOf(connectorId), { trigger: 'on-demand', dryRun, full }),
        approve: (runId, by) => reconciliation.approve(runId, by),
        reject: (runId, by) => reconciliation.reject(runId, by),
      },
      overview: {
        counters: (connectorId, fromHour, toHour) => audit.counters(connectorId, fromHour, toHour),
        lastRun: async (connectorId) => (await runStore.list({ connectorId, limit: 1 }))[0],
        hubTotals: async () => {
          const [users, groups] = await Promise.all([directory.count('User'), directory.count('Group')]);
          return { users, groups };
        },
        clock: () => new Date(),
      },
      provision: (request) => onDemand.provision(request),
      grants: (connectorId) => onDemand.grants.list(connectorId),
      imports,
      directory: { directory: transfer.directory, link: (connectorId, kind, hubId) => links.get(connectorId, kind, hubId) },
    }),
  );
