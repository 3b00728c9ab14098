import { Metrics } from '@aws-lambda-powertools/metrics';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { ConnectorQueuesEnvSchema } from '#shared/config/connector-queues.ts';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE } from '#shared/config/sdk-retries.ts';
import { makeConnectorCache } from '#shared/connectors/connector.cache.ts';
import { createConnector } from '#shared/connectors/connector.factory.ts';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { METRICS_NAMESPACE, withAuditMetrics } from '#shared/observability/audit-metrics.ts';
import { logBatchFailures } from '#shared/observability/failures.middleware.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { sqsLane } from '#shared/queues/sqs-lane.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { DynamoBreakerStore } from '#shared/store/breaker.repository.ts';
import { DynamoDirectoryStore } from '#shared/store/directory.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { DynamoGrantStore } from '#shared/store/grant.repository.ts';
import { DynamoLinkStore } from '#shared/store/link.repository.ts';
import { ChangeMessageSchema } from '#shared/sync/change-message.ts';
import { makeChangeWorker, type ReceivedChange } from '#shared/sync/change-worker.ts';
import { hubReaderOf } from '#shared/sync/directory-hub.reader.ts';
import { makeOrphanApplier } from '#shared/sync/reconcile-apply.ts';
import { makeSync } from '#shared/sync/sync.service.ts';
import { hubTopology } from '#shared/topology/hub.topology.ts';

const env = readEnv(TableEnvSchema.merge(ConnectorQueuesEnvSchema).extend({ AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(90) }));
const logger = createLogger('connector-worker');
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'connector-worker' });
// The lane retries a failed change (counted attempts, backoff, then the DLQ): the SDK does not retry under it.
const documents = createDocumentClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE);
const sqs = new SQSClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE);
const connectorsDocument = makeConnectorsSource(env, env.CONNECTORS_REFRESH_SECONDS * 1000);
const audit = withAuditMetrics(new DynamoAuditLog(documents, env.TABLE_NAME, env.AUDIT_RETENTION_DAYS), metrics);
const links = new DynamoLinkStore(documents, env.TABLE_NAME);
const sync = makeSync({
  hub: hubReaderOf(new DynamoDirectoryStore(documents, env.TABLE_NAME)),
  links,
  audit,
  grants: new DynamoGrantStore(documents, env.TABLE_NAME),
  clock: () => new Date(),
});
/** A run's orphan accounts, disabled or deleted as the connector's orphan policy says. */
const orphans = makeOrphanApplier({ links, audit, clock: () => new Date() });

/** Connectors built once per container, rebuilt when their document entry changes or their build failed. */
const connectorOf = makeConnectorCache(createConnector);
/** The lane's redrive safety net, from the same topology the stack and the local runner build the queue from. */
const maxReceiveCount = hubTopology.queues.find((queue) => queue.perConnector)?.maxReceiveCount ?? 100;

/** A body that is not JSON reads as undefined, which the schema then refuses like any bad message. */
const parseJson = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
};

const processBatch = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const receipts = new Map(event.Records.map((record) => [record.messageId, record.receiptHandle]));
  const queueUrl = (connectorId: string) => env.CONNECTOR_QUEUE_URLS[connectorId] ?? '';
  const failures: string[] = [];
  const byConnector = new Map<string, ReceivedChange[]>();
  for (const record of event.Records) {
    const parsed = ChangeMessageSchema.safeParse(parseJson(record.body));
    if (!parsed.success) {
      // A message we cannot read will never succeed: leave it for the DLQ.
      logger.error('unreadable change message', { messageId: record.messageId, issues: parsed.error.issues });
      failures.push(record.messageId);
      continue;
    }
    const change = { messageId: record.messageId, receiveCount: Number(record.attributes.ApproximateReceiveCount), message: parsed.data, body: record.body };
    byConnector.set(parsed.data.connectorId, [...(byConnector.get(parsed.data.connectorId) ?? []), change]);
  }

  const document = await connectorsDocument();
  for (const [connectorId, changes] of byConnector) {
    const config = document.connectors.find((c) => c.id === connectorId);
    if (!config) {
      logger.warn('change for a connector that is no longer in the document: dropped', { connectorId, count: changes.length });
      continue;
    }
    const worker = makeChangeWorker({
      sync,
      orphans,
      audit,
      clock: () => new Date(),
      breakers: new DynamoBreakerStore(documents, env.TABLE_NAME),
      maxReceiveCount,
      // A disabled connector's changes look again once the document may have been re-read.
      disabledHoldMs: env.CONNECTORS_REFRESH_SECONDS * 1000,
      queue: sqsLane(sqs, queueUrl(connectorId), receipts),
    });
    failures.push(...(await worker.process(config, () => connectorOf(config), changes)));
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};

/** Queue-triggered, one connector's FIFO lane: plan and apply each change; partial batch responses. */
export const handler = middy<SQSEvent, SQSBatchResponse>().use(injectLambdaContext(logger)).use(logBatchFailures(logger)).handler(processBatch);
