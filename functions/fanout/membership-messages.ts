import type { ConnectorConfig } from '#shared/connectors/connectors.schema.ts';
import { type ChangeMessage, MEMBERS_PER_MESSAGE } from '#shared/sync/change-message.ts';

/**
 * How many membership changes one message of a connector's lane may carry. Targets that take
 * many members per request (SCIM PATCH, Graph binds in `$batch`, Salesforce collections) get
 * 100, so a worker's delivery of 10 messages makes their largest requests. Targets that take one
 * member per call (Okta, Cognito) keep one per message: 1 000 members in one delivery would be
 * 1 000 paced calls, far beyond the worker's 30 s.
 */
export const membersPerMessage = (type: ConnectorConfig['type']): number => (type === 'okta' || type === 'cognito' ? 1 : MEMBERS_PER_MESSAGE);

/** A message on its way to a connector's lane, with the stream record it came from. */
export interface PendingMessage {
  queueUrl: string;
  /** The FIFO message group. */
  groupId: string;
  deduplicationId: string;
  message: ChangeMessage;
  /** The index of the (first) stream record the message carries. */
  record: number;
  /** The most members the lane's messages carry (membersPerMessage). */
  joinUpTo: number;
}

/**
 * Puts the membership changes of one group that follow each other on a lane into one message,
 * up to the lane's `joinUpTo` members. A lane's worker receives at most 10 messages at a time, so
 * one message per member would split a 1 000-member group into 100 deltas of 10, each its own
 * target request; carried 100 to a message, one delivery holds the whole group, and the target
 * gets its largest requests (Graph: 20 members per PATCH, 20 PATCHes per $batch).
 *
 * Order holds: only changes with nothing else of their FIFO group between them are joined, and
 * the worker applies a joined message as the same consecutive changes (state-based: it reads
 * who is a member now). A run's readings of single members (`observed`) stay apart. The joined
 * message's deduplication id is its first change's with the count, so a stream batch sent again
 * from the same record makes the same message, which SQS drops, and a batch cut elsewhere
 * makes another one, which the worker finds already applied.
 */
export const joinMemberships = (pending: PendingMessage[]): PendingMessage[] => {
  const joined: PendingMessage[] = [];
  /** Lane and FIFO group -> the index in `joined` of the membership message still open to more members. */
  const open = new Map<string, number>();
  for (const item of pending) {
    const key = `${item.queueUrl}\n${item.groupId}`;
    const { message } = item;
    const at = open.get(key);
    const into = at === undefined ? undefined : joined[at];
    if (message.kind !== 'membership' || message.observed) {
      open.delete(key);
      joined.push(item);
      continue;
    }
    if (into?.message.kind === 'membership' && into.message.trigger === message.trigger && (into.message.memberIds?.length ?? 1) < item.joinUpTo) {
      const earlier = into.message;
      const changedAt = Math.min(earlier.changedAt ?? Number.POSITIVE_INFINITY, message.changedAt ?? Number.POSITIVE_INFINITY);
      into.message = {
        ...earlier,
        memberIds: [...(earlier.memberIds ?? [earlier.memberId]), message.memberId],
        ...(Number.isFinite(changedAt) ? { changedAt } : {}),
      };
      continue;
    }
    open.set(key, joined.length);
    joined.push({ ...item });
  }
  return joined.map((item) =>
    item.message.kind === 'membership' && item.message.memberIds
      ? { ...item, deduplicationId: `${item.deduplicationId.slice(0, 120)}+${item.message.memberIds.length}` }
      : item,
  );
};
