import * as z from 'zod';
import { MEMBERSHIP_REMOVAL_ORIGIN, parseKey } from '../store/hub-table.layout.ts';

/**
 * The message on a connector's queue. It says only *what* changed; the worker reads the current
 * state itself (state-based sync), so a late, repeated or reordered message is harmless.
 */
const TriggerSchema = z.enum(['realtime', 'schedule', 'on-demand', 'import']);

/**
 * Carried by a copy the worker re-enqueued (a retry, or a long wait past the queue's
 * maxReceiveCount): `attempts` real attempts were spent on the change already, and the copy is
 * not to run before `notBefore` (epoch ms; FIFO queues have no per-message delay).
 */
const RetryFields = { attempts: z.number().int().min(0).optional(), notBefore: z.number().optional() };

/**
 * Carried by the changes a reconciliation run sends: the run, and for a user the target's
 * values as the run read them (`observed`), or `absent` when the linked account is gone. With
 * `observed` the worker compares the hub's wanted state with what the target really holds,
 * rather than with the link's record of what was pushed, so drift made behind the hub's back
 * is repaired; without it (real-time changes) nothing changes.
 */
const RunFields = { runId: z.string().optional() };
/** The operator whose change in the console this is (directory.ports.ts OperatorOrigin), named in the audit. */
const ActorFields = { actor: z.string().max(256).optional() };
const ObservedSchema = z.union([z.record(z.string(), z.unknown()), z.literal('absent')]);
/**
 * A run's reading of one member in the target group: `absent` (the hub wants it there, the
 * target lacks it) or `present` (the target holds a member the hub's group does not have). The
 * worker then compares with the target rather than with the membership links.
 */
const ObservedMemberSchema = z.enum(['absent', 'present']);

/**
 * A user or a group changed. A run's `observed` is its reading of the account (its mapped
 * values) or of the group (`{displayName}`), or `absent` when the linked one is gone.
 */
const resourceMessage = <K extends 'user' | 'group'>(kind: K) =>
  z.object({
    kind: z.literal(kind),
    connectorId: z.string(),
    id: z.string(),
    changedAt: z.number().optional(),
    trigger: TriggerSchema,
    ...RetryFields,
    ...RunFields,
    ...ActorFields,
    observed: ObservedSchema.optional(),
  });

/** The most members one membership message carries: 100 ids stay far below SQS's 256 KB. */
export const MEMBERS_PER_MESSAGE = 100;

export const ChangeMessageSchema = z.discriminatedUnion('kind', [
  resourceMessage('user'),
  resourceMessage('group'),
  z.object({
    kind: z.literal('membership'),
    connectorId: z.string(),
    groupId: z.string(),
    memberId: z.string(),
    /**
     * Every member of the change when the fanout put several of one group in one message (the
     * first is `memberId`): a lane delivers 10 messages at most, and a group's members should
     * reach the target in its own largest requests (Graph binds 20 per PATCH).
     */
    memberIds: z.array(z.string()).max(MEMBERS_PER_MESSAGE).optional(),
    changedAt: z.number().optional(),
    trigger: TriggerSchema,
    ...RetryFields,
    ...RunFields,
    ...ActorFields,
    observed: ObservedMemberSchema.optional(),
  }),
  /**
   * A target account no hub user owns (a reconciliation orphan) to disable or delete, as the
   * connector's orphan policy says. The worker checks that it is still unowned first.
   */
  z.object({
    kind: z.literal('account'),
    connectorId: z.string(),
    targetId: z.string(),
    /** The account's name as the run read it, for the audit record. */
    name: z.string().optional(),
    action: z.enum(['disable', 'delete']),
    trigger: TriggerSchema,
    ...RetryFields,
    ...RunFields,
  }),
]);

export type ChangeMessage = z.infer<typeof ChangeMessageSchema>;

/** A change without its connector: what the stream says happened. */
export type Change = ChangeMessage extends infer M ? (M extends ChangeMessage ? Omit<M, 'connectorId' | 'attempts' | 'notBefore'> : never) : never;

/** The FIFO message group of a change: one resource, or a group with its memberships. */
export const messageGroupOf = (message: ChangeMessage): string => {
  if (message.kind === 'membership') return message.groupId;
  // A target account without a hub owner: its own group, apart from every hub resource's.
  if (message.kind === 'account') return `account:${message.targetId}`;
  return message.id;
};

export interface QueuedChange {
  change: Change;
  /** FIFO order is kept per resource: a user's changes, or a group and its memberships. */
  groupId: string;
  /** Unique per change: the same stream record sent twice is dropped by SQS (5-minute window). */
  deduplicationId: string;
  /** The one connector the change is for (the end of a temporary access grant); undefined: every connector. */
  connectorId?: string;
}

/**
 * Stream event names of a removed item. DynamoDB Local shows a TTL deletion as
 * `UNKNOWN_TO_SDK_VERSION` (AWS as REMOVE with the DynamoDB service as the identity).
 */
const REMOVALS = new Set(['REMOVE', 'UNKNOWN_TO_SDK_VERSION']);

type Image = Record<string, AttributeValue | undefined> | undefined;
interface AttributeValue {
  S?: string;
  N?: string;
  BOOL?: boolean;
  M?: Record<string, AttributeValue | undefined>;
}

/**
 * What the written item says of its origin (directory.ports.ts WriteOrigin): an import's writes
 * carry trigger `import`, and one run without provisioning announces nothing. Only a written
 * item (INSERT or MODIFY) speaks for the write; a removal is announced as it always is, unless
 * it is a membership that such an import marked before removing it.
 */
const originOf = (record: {
  eventName?: string;
  dynamodb?: { NewImage?: Image; OldImage?: Image };
}): { trigger: 'realtime' | 'import'; silent: boolean; actor?: string } => {
  const removed = REMOVALS.has(record.eventName ?? '');
  // A membership removed without provisioning was marked so just before it went (the mark's own
  // write announces nothing): its old image is all a REMOVE record shows.
  if (!removed && record.dynamodb?.NewImage?.[MEMBERSHIP_REMOVAL_ORIGIN]?.M) return { trigger: 'import', silent: true };
  const origin = removed ? record.dynamodb?.OldImage?.[MEMBERSHIP_REMOVAL_ORIGIN]?.M : record.dynamodb?.NewImage?.origin?.M;
  const actor = removed ? undefined : origin?.actor?.S;
  const named = actor === undefined ? {} : { actor };
  if (origin?.trigger?.S !== 'import') return { trigger: 'realtime', silent: false, ...named };
  return { trigger: 'import', silent: origin.provision?.BOOL === false, ...named };
};

/**
 * Turns one hub table stream record into the change it announces, or undefined for items that
 * are not users, groups, memberships or ended access grants (links, audit records, tokens...). The stream filter in
 * the topology already drops most of those; this is the second line.
 */
export const changeOfRecord = (record: {
  eventName?: string;
  dynamodb?: { Keys?: Image; NewImage?: Image; OldImage?: Image; SequenceNumber?: string; ApproximateCreationDateTime?: number };
}): QueuedChange | undefined => {
  const pk = record.dynamodb?.Keys?.pk?.S ?? '';
  const sk = record.dynamodb?.Keys?.sk?.S ?? '';
  const image = record.dynamodb?.NewImage ?? record.dynamodb?.OldImage;
  const lastModified = image?.lastModified?.S;
  const changedAt = lastModified ? Date.parse(lastModified) : (record.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000 || undefined;
  const sequence = record.dynamodb?.SequenceNumber ?? '';
  const parsed = parseKey(pk, sk);
  const origin = originOf(record);
  if (origin.silent && parsed?.item !== 'grant') return undefined;
  const actor = origin.actor === undefined ? {} : { actor: origin.actor };
  if (parsed?.item === 'resource') {
    const { id } = parsed;
    const version = image?.version?.N ?? '0';
    return {
      change: { kind: parsed.type === 'User' ? 'user' : 'group', id, trigger: origin.trigger, ...actor, ...(changedAt ? { changedAt } : {}) },
      groupId: id,
      deduplicationId: `${sk}:${id}:${version}:${record.eventName ?? ''}`.slice(0, 128),
    };
  }
  if (parsed?.item === 'grant') {
    // Only the end of a grant changes anything: the on-demand provisioning that wrote it applied
    // it already. The user's next sync on that connector finds no live grant and deprovisions
    // (or keeps the account, when the scope admits the user by itself).
    if (!REMOVALS.has(record.eventName ?? '')) return undefined;
    return {
      change: { kind: 'user', id: parsed.userId, trigger: 'on-demand' },
      groupId: parsed.userId,
      deduplicationId: `G:${sequence || `${parsed.connectorId}:${parsed.userId}`}`.slice(0, 128),
      connectorId: parsed.connectorId,
    };
  }
  if (parsed?.item === 'membership') {
    const { groupId, memberId } = parsed;
    return {
      change: { kind: 'membership', groupId, memberId, trigger: origin.trigger, ...actor, ...(changedAt ? { changedAt } : {}) },
      groupId,
      deduplicationId: `M:${sequence || `${groupId}:${memberId}`}`.slice(0, 128),
    };
  }
  return undefined;
};
