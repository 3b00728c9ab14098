import { Metrics } from '@aws-lambda-powertools/metrics';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { ConnectorQueuesEnvSchema } from '#shared/config/connector-queues.ts';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { HubQueuesEnvSchema } from '#shared/config/hub-queues.ts';
import { SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE } from '#shared/config/sdk-retries.ts';
import { makeConnectorCache } from '#shared/connectors/connector.cache.ts';
import { createConnector } from '#shared/connectors/connector.factory.ts';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { METRICS_NAMESPACE, withAuditMetrics } from '#shared/observability/audit-metrics.ts';
import { logBatchFailures } from '#shared/observability/failures.middleware.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { sqsLanes, sqsRunPages } from '#shared/queues/sqs-reconcile.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { DynamoDirectoryStore } from '#shared/store/directory.repository.ts';
import { DynamoFeedStore } from '#shared/store/feed-state.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { DynamoGrantStore } from '#shared/store/grant.repository.ts';
import { DynamoLinkStore } from '#shared/store/link.repository.ts';
import { DynamoRunStore } from '#shared/store/run.repository.ts';
import { makeDirectory } from '#shared/directory/directory.service.ts';
import { inboundWriterOf } from '#shared/sync/directory-inbound.writer.ts';
import { reconcileHubOf } from '#shared/sync/directory-reconcile.hub.ts';
import { makeInboundApplier } from '#shared/sync/inbound-apply.ts';
import { makeReconciliation, RunInProgressError } from '#shared/sync/reconcile-run.ts';
import { RUN_PHASES } from '#shared/sync/reconcile-run.ports.ts';
import { hubTopology } from '#shared/topology/hub.topology.ts';

const env = readEnv(
  TableEnvSchema.merge(ConnectorQueuesEnvSchema)
    .merge(HubQueuesEnvSchema)
    .extend({ AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(90) }),
);
const logger = createLogger('reconcile');
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'reconcile' });
// The reconcile queue redelivers a failed page, which is idempotent: the SDK does not retry under it.
const documents = createDocumentClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE);
const sqs = new SQSClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE);
const connectorsDocument = makeConnectorsSource(env);
const connectorOf = makeConnectorCache(createConnector);
const directoryStore = new DynamoDirectoryStore(documents, env.TABLE_NAME);
const links = new DynamoLinkStore(documents, env.TABLE_NAME);
const audit = withAuditMetrics(new DynamoAuditLog(documents, env.TABLE_NAME, env.AUDIT_RETENTION_DAYS), metrics);
// An inbound source's users are written through the directory's SCIM use cases, as the SCIM API writes them.
const directory = makeDirectory({
  store: directoryStore,
  clock: () => new Date(),
  newId: randomUUID,
  onUnknownAttributes: (resourceType, names) => logger.warn('an inbound source sent attributes the hub ignores', { resourceType, names }),
});
const reconciliation = makeReconciliation({
  runs: new DynamoRunStore(documents, env.TABLE_NAME),
  pages: sqsRunPages(sqs, env.HUB_QUEUE_URLS.reconcile ?? ''),
  lane: sqsLanes(sqs, (connectorId) => env.CONNECTOR_QUEUE_URLS[connectorId]),
  hub: reconcileHubOf(directoryStore),
  links,
  grants: new DynamoGrantStore(documents, env.TABLE_NAME),
  feeds: new DynamoFeedStore(documents, env.TABLE_NAME),
  inbound: makeInboundApplier({ writer: inboundWriterOf(directory, directoryStore), links, audit, clock: () => new Date() }),
  audit,
  clock: () => new Date(),
  newId: () => `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
});

/** SQS dead-letters a page message received this often (the reconcile queue's redrive policy). */
const RECONCILE_MAX_RECEIVES = hubTopology.queues.find((queue) => queue.name === 'reconcile')?.maxReceiveCount ?? 10;

const PageMessageSchema = z.object({
  runId: z.string().min(1),
  connectorId: z.string().min(1),
  phase: z.enum(RUN_PHASES),
  page: z.number().int().min(0),
});
const ScheduleDetailSchema = z.object({ connectorId: z.string().min(1), dryRun: z.boolean().default(false) });

const configOf = async (connectorId: string) => (await connectorsDocument()).connectors.find((c) => c.id === connectorId);

/** A schedule's event starts a run of its connector; a run already under way is left to finish. */
const startScheduled = async (event: ScheduledEvent) => {
  const detail = ScheduleDetailSchema.parse(event.detail);
  const config = await configOf(detail.connectorId);
  if (!config?.enabled) {
    logger.warn('scheduled reconciliation of a connector that is disabled or gone: skipped', { connectorId: detail.connectorId });
    return;
  }
  try {
    const run = await reconciliation.start(config, { trigger: 'schedule', dryRun: detail.dryRun });
    logger.info('reconciliation started', { runId: run.runId, connectorId: config.id });
  } catch (error) {
    if (!(error instanceof RunInProgressError)) throw error;
    logger.warn('the previous run of this connector is still under way: this schedule is skipped', { connectorId: config.id });
  }
};

/** One page of a run per message; a page that fails returns to the queue and runs again, idempotently. */
const runPages = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const failures: string[] = [];
  for (const record of event.Records) {
    const parsed = PageMessageSchema.safeParse(JSON.parse(record.body));
    if (!parsed.success) {
      logger.error('unreadable run page message', { messageId: record.messageId, issues: parsed.error.issues });
      failures.push(record.messageId);
      continue;
    }
    try {
      const config = await configOf(parsed.data.connectorId);
      await reconciliation.handlePage(config, () => (config ? connectorOf(config) : Promise.reject(new Error('no connector'))), parsed.data);
    } catch (error) {
      if (Number(record.attributes.ApproximateReceiveCount) < RECONCILE_MAX_RECEIVES) {
        logger.error('run page failed: it runs again', { messageId: record.messageId, runId: parsed.data.runId, error });
        failures.push(record.messageId);
        continue;
      }
      // Its last delivery: the run fails and frees its connector, rather than holding the lock
      // for an hour behind a message in the dead-letter queue.
      logger.error('run page failed on its last delivery: the run fails', { messageId: record.messageId, runId: parsed.data.runId, error });
      try {
        await reconciliation.abandonPage(parsed.data, error);
      } catch (abandonError) {
        logger.error('the failed run could not be recorded: the page goes to the dead-letter queue', { runId: parsed.data.runId, error: abandonError });
        failures.push(record.messageId);
      }
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};

const isQueueEvent = (event: SQSEvent | ScheduledEvent): event is SQSEvent => Array.isArray((event as SQSEvent).Records);

/** Reconciliation: started by a connector's schedule, carried on by the pages of its runs. */
export const handler = middy<SQSEvent | ScheduledEvent, SQSBatchResponse | undefined>()
  .use(injectLambdaContext(logger))
  .use(logBatchFailures(logger))
  .handler(async (event) => {
    if (isQueueEvent(event)) return runPages(event);
    await startScheduled(event);
    return undefined;
  });
