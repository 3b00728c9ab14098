import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ConnectorQueuesEnvSchema, dlqUrlOf } from '#shared/config/connector-queues.ts';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { redriveDeadLetters } from '#shared/queues/dlq-redrive.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { DynamoBreakerStore } from '#shared/store/breaker.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { routeAdminRequest } from './admin-router.ts';

const env = readEnv(TableEnvSchema.merge(ConnectorQueuesEnvSchema));
const documents = createDocumentClient();
const sqs = new SQSClient({});
const audit = new DynamoAuditLog(documents, env.TABLE_NAME, 90);
const breakers = new DynamoBreakerStore(documents, env.TABLE_NAME);
const connectors = makeConnectorsSource(env);
const queueUrl = (id: string) => env.CONNECTOR_QUEUE_URLS[id] ?? '';

export const handler = (event: APIGatewayProxyEvent) =>
  routeAdminRequest(event, {
    queryAudit: (query) => audit.query(query),
    connectorIds: async () => (await connectors()).connectors.map((c) => c.id).filter((id) => env.CONNECTOR_QUEUE_URLS[id]),
    breaker: (id) => breakers.get(id),
    deadLetterCount: async (id) => {
      const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrlOf(queueUrl(id)), AttributeNames: ['ApproximateNumberOfMessages'] }));
      return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
    },
    redrive: (id, max) => redriveDeadLetters(sqs, dlqUrlOf(queueUrl(id)), queueUrl(id), { max }),
  });
