import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import * as z from 'zod';
import { ConnectorQueuesEnvSchema } from '#shared/config/connector-queues.ts';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { METRICS_NAMESPACE, withAuditMetrics } from '#shared/observability/audit-metrics.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { wireOnDemand } from '#shared/provisioning/on-demand.wiring.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { OnDemandInvocationSchema, onDemandRequestOf } from '#shared/sync/on-demand.schema.ts';
import { OnDemandError, type OnDemandResult } from '#shared/sync/on-demand.service.ts';

const env = readEnv(TableEnvSchema.merge(ConnectorQueuesEnvSchema).extend({ AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(90) }));
const logger = createLogger('provision-on-demand');
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'provision-on-demand' });
const documents = createDocumentClient();
const onDemand = wireOnDemand({
  documents,
  tableName: env.TABLE_NAME,
  sqs: new SQSClient({}),
  audit: withAuditMetrics(new DynamoAuditLog(documents, env.TABLE_NAME, env.AUDIT_RETENTION_DAYS), metrics),
  connectors: makeConnectorsSource(env),
  queueUrl: async (id) => env.CONNECTOR_QUEUE_URLS[id],
});

/** What a direct invocation answers: the result, or the request's fault with its code. */
export type InvocationAnswer = { ok: true; result: OnDemandResult } | { ok: false; error: { code: string; message: string } };

/**
 * Invoked directly by operators (`aws lambda invoke`, the operations CLI): provisions one user
 * or group on one connector now and answers step by step. A request the hub cannot carry out
 * (unknown connector or user, bad `until`) is answered as an error, not thrown, so the invoker
 * reads why; a failure of the target is thrown and shows as the invocation's function error.
 */
export const handler = middy<unknown, InvocationAnswer>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    const parsed = OnDemandInvocationSchema.safeParse(event);
    if (!parsed.success) {
      return {
        ok: false,
        error: { code: 'onDemand.invalid', message: parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ') },
      };
    }
    try {
      const result = await onDemand.provision(onDemandRequestOf(parsed.data.connector, parsed.data));
      return { ok: true, result };
    } catch (error) {
      if (error instanceof OnDemandError) return { ok: false, error: { code: error.code, message: error.message } };
      throw error;
    }
  });
