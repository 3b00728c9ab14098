import { ChangeMessageVisibilityBatchCommand, GetQueueAttributesCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
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

/** How long listed dead letters stay hidden while the list is read; they are made visible again right after. */
const PEEK_VISIBILITY_SECONDS = 5;

/**
 * Up to `limit` dead letters, left in the DLQ. A FIFO queue holds back a group's later messages
 * while one of it is in flight, so the listing receives until it has enough or the queue gives
 * no more (at least the first message of every group), keeping what it saw hidden meanwhile
 * (nothing consumes a DLQ but a redrive), then makes them visible again. The count beside the
 * listing is the queue's whole depth.
 */
const peekDeadLetters = async (id: string, limit: number): Promise<DeadLetter[]> => {
  const dlqUrl = dlqUrlOf(queueUrl(id));
  const seen: Message[] = [];
  while (seen.length < limit) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: limit - seen.length,
        VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    seen.push(...messages);
  }
  if (seen.length > 0) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: seen.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
  return seen.map((message) => ({
    messageId: message.MessageId ?? '',
    groupId: message.Attributes?.MessageGroupId,
    // This look was a receive too: report the count before it.
    receiveCount: Math.max(0, Number(message.Attributes?.ApproximateReceiveCount ?? 1) - 1),
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
