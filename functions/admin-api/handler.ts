import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { ConnectorQueuesEnvSchema, dlqUrlOf } from '#shared/config/connector-queues.ts';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { redriveWithinBudget } from '#shared/queues/dlq-redrive.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { DynamoBreakerStore } from '#shared/store/breaker.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { type DeadLetter, routeAdminRequest } from './admin-router.ts';

const env = readEnv(TableEnvSchema.merge(ConnectorQueuesEnvSchema));
const documents = createDocumentClient();
const sqs = new SQSClient({});
const audit = new DynamoAuditLog(documents, env.TABLE_NAME, 90);
const breakers = new DynamoBreakerStore(documents, env.TABLE_NAME);
const connectors = makeConnectorsSource(env);
const queueUrl = (id: string) => env.CONNECTOR_QUEUE_URLS[id] ?? '';

/**
 * A redrive stops starting new messages this long before the function's timeout, so its answer
 * (moved, remaining) gets back to the caller: one send and one delete take well under a second.
 */
const REDRIVE_MARGIN_MS = 5_000;

const parseBody = (body: string | undefined): unknown => {
  try {
    return JSON.parse(body ?? '');
  } catch {
    return body;
  }
};

const peekDeadLetters = async (id: string, limit: number): Promise<DeadLetter[]> => {
  // Visibility 0: the messages are looked at, not taken; FIFO groups are not held.
  const received = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: dlqUrlOf(queueUrl(id)), MaxNumberOfMessages: limit, VisibilityTimeout: 0, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }),
  );
  return (received.Messages ?? []).map((message) => ({
    messageId: message.MessageId ?? '',
    groupId: message.Attributes?.MessageGroupId,
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    sentAt: message.Attributes?.SentTimestamp ? new Date(Number(message.Attributes.SentTimestamp)).toISOString() : undefined,
    body: parseBody(message.Body),
  }));
};

export const handler = (event: APIGatewayProxyEvent, context: Context) =>
  routeAdminRequest(event, {
    queryAudit: (query) => audit.query(query),
    connectorIds: async () => (await connectors()).connectors.map((c) => c.id).filter((id) => env.CONNECTOR_QUEUE_URLS[id]),
    breaker: (id) => breakers.get(id),
    deadLetterCount: async (id) => {
      const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrlOf(queueUrl(id)), AttributeNames: ['ApproximateNumberOfMessages'] }));
      return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
    },
    peekDeadLetters,
    redrive: (id, max) =>
      redriveWithinBudget(sqs, dlqUrlOf(queueUrl(id)), queueUrl(id), {
        max,
        budgetMs: Math.max(0, context.getRemainingTimeInMillis() - REDRIVE_MARGIN_MS),
      }),
  });
