import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { ConnectorQueuesEnvSchema } from '#shared/config/connector-queues.ts';
import { readEnv } from '#shared/config/env.ts';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { type OutgoingMessage, makeFanout } from './fanout.ts';

const env = readEnv(ConnectorQueuesEnvSchema);
const sqs = new SQSClient({});
const logger = createLogger('fanout');

/** SendMessageBatch per queue, 10 at a time (the SQS limit); returns the indexes that failed. */
const send = async (messages: OutgoingMessage[]): Promise<Set<number>> => {
  const failed = new Set<number>();
  const byQueue = new Map<string, number[]>();
  messages.forEach((message, index) => {
    byQueue.set(message.queueUrl, [...(byQueue.get(message.queueUrl) ?? []), index]);
  });
  for (const [queueUrl, indexes] of byQueue) {
    for (let start = 0; start < indexes.length; start += 10) {
      const part = indexes.slice(start, start + 10);
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: part.map((index) => {
              const message = messages[index] as OutgoingMessage;
              return { Id: String(index), MessageBody: message.body, MessageGroupId: message.groupId, MessageDeduplicationId: message.deduplicationId };
            }),
          }),
        );
        for (const failure of result.Failed ?? []) {
          logger.error('a change message was refused', { queueUrl, code: failure.Code, reason: failure.Message });
          failed.add(Number(failure.Id));
        }
      } catch (error) {
        logger.error('sending change messages failed', { queueUrl, error: error as Error });
        for (const index of part) failed.add(index);
      }
    }
  }
  return failed;
};

const fanout = makeFanout({ connectors: makeConnectorsSource(env), queueUrls: env.CONNECTOR_QUEUE_URLS, send });

/** Stream-triggered: hub changes to every enabled connector's FIFO queue. */
export const handler = (event: DynamoDBStreamEvent) => fanout(event.Records);
