import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { ConnectorsDocument } from '#shared/connectors/connectors.schema.ts';
import { changeOfRecord, type ChangeMessage } from '#shared/sync/change-message.ts';
import { joinMemberships, membersPerMessage, type PendingMessage } from './membership-messages.ts';

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
  /** Which of these groups exist now (one consistent batch read). */
  existingGroups: (ids: string[]) => Promise<Set<string>>;
}

/** A REMOVE, or a TTL deletion (which DynamoDB Local names UNKNOWN_TO_SDK_VERSION). */
const isRemoval = (record: DynamoDBRecord | undefined) => record?.eventName !== 'INSERT' && record?.eventName !== 'MODIFY';

/**
 * The groups whose removed memberships nobody needs to hear about: groups deleted since. A
 * deleted group's members are removed by the deletion drain, up to 100 000 of them, after the
 * group's own REMOVE, which already deletes (or unlinks) the target group; sending each removal
 * would only make the workers remove members from a group that is gone. Only a connector that
 * scopes by the group needs them: leaving it takes its members out of scope.
 */
const deletedGroupsOf = async (deps: FanoutDeps, records: DynamoDBRecord[], changes: Array<ReturnType<typeof changeOfRecord>>): Promise<Set<string>> => {
  const removedFrom = new Set<string>();
  changes.forEach((queued, index) => {
    if (queued?.change.kind === 'membership' && isRemoval(records[index])) removedFrom.add(queued.change.groupId);
  });
  if (removedFrom.size === 0) return removedFrom;
  const existing = await deps.existingGroups([...removedFrom]);
  return new Set([...removedFrom].filter((id) => !existing.has(id)));
};

/**
 * Turns a batch of hub table changes into one message per change per connector on that
 * connector's FIFO queue (consecutive membership changes of one group joined, up to 100 to a
 * message where the target takes many members per request: membership-messages.ts). Disabled connectors get their messages too: their worker holds them
 * until the connector is enabled again, so disabling a connector loses no change. A record whose messages could not all be sent is reported as the
 * batch item failure, so Lambda retries from it (SQS deduplication drops what was sent already).
 */
export const makeFanout =
  (deps: FanoutDeps) =>
  async (records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse> => {
    const document = await deps.connectors();
    // An inbound source is read into the hub on its schedule, never written: the hub's changes are not for it.
    const lanes = document.connectors.filter((c) => deps.queueUrls[c.id] && c.direction !== 'inbound');
    const changes = records.map((record) => changeOfRecord(record as Parameters<typeof changeOfRecord>[0]));
    const deletedGroups = await deletedGroupsOf(deps, records, changes);
    const pending: PendingMessage[] = [];
    changes.forEach((queued, index) => {
      if (!queued) return;
      const ofDeletedGroup =
        queued.change.kind === 'membership' && isRemoval(records[index]) && deletedGroups.has(queued.change.groupId) ? queued.change.groupId : undefined;
      for (const lane of lanes) {
        if (queued.connectorId !== undefined && lane.id !== queued.connectorId) continue;
        if (ofDeletedGroup !== undefined && !lane.scope.groups?.includes(ofDeletedGroup)) continue;
        const message = { ...queued.change, connectorId: lane.id } as ChangeMessage;
        pending.push({
          queueUrl: deps.queueUrls[lane.id] as string,
          groupId: queued.groupId,
          deduplicationId: queued.deduplicationId,
          message,
          record: index,
          joinUpTo: membersPerMessage(lane.type),
        });
      }
    });
    const joined = joinMemberships(pending);
    const messages: OutgoingMessage[] = joined.map(({ queueUrl, groupId, deduplicationId, message }) => ({
      queueUrl,
      body: JSON.stringify(message),
      groupId,
      deduplicationId,
    }));
    const recordOf = joined.map((item) => item.record);
    if (messages.length === 0) return { batchItemFailures: [] };
    const failed = await deps.send(messages);
    if (failed.size === 0) return { batchItemFailures: [] };
    const firstFailedRecord = Math.min(...[...failed].map((i) => recordOf[i] ?? 0));
    return { batchItemFailures: [{ itemIdentifier: records[firstFailedRecord]?.dynamodb?.SequenceNumber ?? '' }] };
  };
