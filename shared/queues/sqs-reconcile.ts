import { type SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { messageGroupOf } from '../sync/change-message.ts';
import type { LanePort, RunPageMessage, RunPagesPort } from '../sync/reconcile-run.ports.ts';
import { sendFifoBatches } from './sqs-lane.ts';

/**
 * The run's page chain on the reconcile FIFO queue: one message group per run, so its pages
 * never run side by side, and a deduplication id per (run, phase, page), so a page passed on
 * twice (after a crash) is one message.
 */
export const sqsRunPages = (sqs: SQSClient, queueUrl: string): RunPagesPort => ({
  send: async (message: RunPageMessage) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        MessageGroupId: message.runId,
        MessageDeduplicationId: `${message.runId}:${message.phase}:${message.page}`.slice(0, 128),
      }),
    );
  },
});

/** A run's changes onto the connector's lane, in the resources' own message groups (ordered with real time). */
export const sqsLanes = (sqs: SQSClient, queueUrlOf: (connectorId: string) => string | undefined): LanePort => ({
  enqueue: async (connectorId, changes) => {
    const queueUrl = queueUrlOf(connectorId);
    if (!queueUrl) throw new Error(`connector ${connectorId} has no lane`);
    const problems: string[] = [];
    const failed = await sendFifoBatches(
      sqs,
      changes.map((change) => ({
        queueUrl,
        body: JSON.stringify(change.message),
        groupId: messageGroupOf(change.message),
        deduplicationId: change.deduplicationId,
      })),
      (detail) => problems.push(detail.reason ?? detail.error?.message ?? detail.code ?? 'unknown'),
    );
    // The page runs again (its message returns): the changes already sent are dropped as duplicates.
    if (failed.size > 0) throw new Error(`${failed.size} of ${changes.length} changes for ${connectorId} were not sent: ${problems.join('; ')}`);
  },
});
