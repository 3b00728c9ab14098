import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ConnectorQueuesEnvSchema } from '#shared/config/connector-queues.ts';
import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE } from '#shared/config/sdk-retries.ts';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { logBatchFailures } from '#shared/observability/failures.middleware.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { sendFifoBatches } from '#shared/queues/sqs-lane.ts';
import { DynamoDirectoryStore } from '#shared/store/directory.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { makeFanout } from './fanout.ts';

const env = readEnv(TableEnvSchema.merge(ConnectorQueuesEnvSchema));
// The stream retries a record whose messages were not sent (maxRetryAttempts, bisecting): the SDK does not retry under it.
const directory = new DynamoDirectoryStore(createDocumentClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE), env.TABLE_NAME);
const sqs = new SQSClient(SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE);
const logger = createLogger('fanout');

const fanout = makeFanout({
  connectors: makeConnectorsSource(env),
  queueUrls: env.CONNECTOR_QUEUE_URLS,
  send: (messages) => sendFifoBatches(sqs, messages, (detail) => logger.error('a change message was not sent', detail)),
  existingGroups: async (ids) => new Set((await directory.getMany('Group', ids)).map((group) => group.id)),
});

/** Stream-triggered: hub changes to every connector's FIFO queue. */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger))
  .use(logBatchFailures(logger))
  .handler((event) => fanout(event.Records));
