import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { ConnectorsDocument } from '#shared/connectors/connectors.schema.ts';
import { changeOfRecord, type ChangeMessage } from '#shared/sync/change-message.ts';

export interface OutgoingMessage {
  queueUrl: string;
  body: string;
  groupId: string;
  deduplicationId: string;
}

export interface FanoutDeps {
  connectors: () => Promise<ConnectorsDocument>;
  queueUrls: Record<string, string>;
  /** Sends the messages; returns the indexes that failed. */
  send: (messages: OutgoingMessage[]) => Promise<Set<number>>;
}

/**
 * Turns a batch of hub table changes into one message per change per connector on that
 * connector's FIFO queue. Disabled connectors get their messages too: their worker holds them
 * until the connector is enabled again, so disabling a connector loses no change. A record whose messages could not all be sent is reported as the
 * batch item failure, so Lambda retries from it (SQS deduplication drops what was sent already).
 */
export const makeFanout =
  (deps: FanoutDeps) =>
  async (records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse> => {
    const document = await deps.connectors();
    const lanes = document.connectors.filter((c) => deps.queueUrls[c.id]);
    const messages: OutgoingMessage[] = [];
    const recordOf: number[] = [];
    records.forEach((record, index) => {
      const queued = changeOfRecord(record as Parameters<typeof changeOfRecord>[0]);
      if (!queued) return;
      for (const lane of lanes) {
        if (queued.connectorId !== undefined && lane.id !== queued.connectorId) continue;
        const message = { ...queued.change, connectorId: lane.id } as ChangeMessage;
        messages.push({ queueUrl: deps.queueUrls[lane.id] as string, body: JSON.stringify(message), groupId: queued.groupId, deduplicationId: queued.deduplicationId });
        recordOf.push(index);
      }
    });
    if (messages.length === 0) return { batchItemFailures: [] };
    const failed = await deps.send(messages);
    if (failed.size === 0) return { batchItemFailures: [] };
    const firstFailedRecord = Math.min(...[...failed].map((i) => recordOf[i] ?? 0));
    return { batchItemFailures: [{ itemIdentifier: records[firstFailedRecord]?.dynamodb?.SequenceNumber ?? '' }] };
  };
