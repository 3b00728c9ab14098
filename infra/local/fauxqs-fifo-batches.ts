/**
 * SQS hands a FIFO receive as many messages of one message group as it can (up to the 10 asked
 * for: "Amazon SQS first attempts to return as many messages with the same message group ID as
 * possible"), so Lambda's batches of a busy group, such as the thousand memberships of one
 * group, hold ten changes each. fauxqs 1.9 returns one message per group per receive (its loop
 * over a group's messages stops after the first), so every local batch of such a group held
 * one change, and a 1 000-member group took 1 000 batches instead of 100.
 *
 * This module makes fauxqs's FIFO receive take a group's messages in order up to the count, as
 * SQS does, and leaves everything else to fauxqs: each message is still taken by fauxqs's own
 * receive (receipt handle, receive count, redrive to the DLQ, group lock), run on a view of the
 * queue that holds the one group, with the group's lock lifted between messages and set again
 * for all of them, so deleting every message of the batch releases the group.
 *
 * fauxqs puts a message whose visibility ends (or is set to 0) back at the head of its group one
 * at a time, so a batch of several that comes back returns reversed. SQS keeps a group's order,
 * so each group is put back in sequence-number order before anything is taken.
 */

interface FifoMessage {
  messageGroupId?: string;
  /** Zero-padded, so it sorts as text: the order the queue accepted the message. */
  sequenceNumber?: string;
}

interface FauxqsFifoQueue {
  fifoMessages: Map<string, FifoMessage[]>;
  fifoLockedGroups: Map<string, number>;
  processTimers(): void;
  dequeueFifo(maxCount: number, visibilityTimeoutOverride?: number, dlqResolver?: unknown): unknown[];
}

/** The most messages one SQS receive returns. */
const MAX_RECEIVE = 10;
const PATCHED = Symbol.for('scim-hub.fauxqs-fifo-batches');

/** Installs the FIFO receive on fauxqs's queue class; idempotent. Throws if fauxqs changed shape. */
export const receiveFifoGroupsInBatches = async (): Promise<void> => {
  const store = (await import(new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href)) as { SqsQueue?: { prototype: FauxqsFifoQueue } };
  const prototype = store.SqsQueue?.prototype;
  if (!prototype || typeof prototype.dequeueFifo !== 'function' || typeof prototype.processTimers !== 'function') {
    throw new Error('fauxqs no longer has the FIFO receive this runner adjusts (SqsQueue.prototype.dequeueFifo): check infra/local/fauxqs-fifo-batches.ts');
  }
  if ((prototype as unknown as Record<symbol, boolean>)[PATCHED]) return;
  const takeOne = prototype.dequeueFifo;
  prototype.dequeueFifo = function (this: FauxqsFifoQueue, maxCount, visibilityTimeoutOverride, dlqResolver) {
    const count = Math.min(maxCount, MAX_RECEIVE);
    // Visibility timeouts and delays are settled once, on the whole queue, before anything is taken.
    this.processTimers();
    const queue = this.fifoMessages;
    for (const messages of queue.values()) {
      if (messages.length > 1) messages.sort((a, b) => (a.sequenceNumber ?? '').localeCompare(b.sequenceNumber ?? ''));
    }
    const received: unknown[] = [];
    Object.defineProperty(this, 'processTimers', { value: () => undefined, configurable: true });
    try {
      for (const [groupId, messages] of [...queue]) {
        if (received.length >= count) break;
        if (this.fifoLockedGroups.has(groupId)) continue;
        let taken = 0;
        while (received.length < count && messages.length > 0) {
          // fauxqs's own receive of one message (or its move to the DLQ) on this group alone.
          this.fifoMessages = new Map([[groupId, messages]]);
          const one = takeOne.call(this, 1, visibilityTimeoutOverride, dlqResolver);
          this.fifoLockedGroups.delete(groupId);
          received.push(...one);
          taken += one.length;
          if (one.length === 0) break;
        }
        if (taken > 0) this.fifoLockedGroups.set(groupId, taken);
        if (messages.length === 0) queue.delete(groupId);
      }
    } finally {
      this.fifoMessages = queue;
      delete (this as Partial<FauxqsFifoQueue>).processTimers;
    }
    return received;
  };
  Object.defineProperty(prototype, PATCHED, { value: true });
};
