import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { type LocalSqs, startLocalSqs } from '../../../infra/local/queues.ts';
import { redriveWithinBudget } from '../../../shared/queues/dlq-redrive.ts';

/** The redrive behind `POST /admin/connectors/{id}/redrive` and `npm run ops -- redrive`, on fauxqs. */
describe('DLQ redrive within a time budget', () => {
  let local: LocalSqs;
  let sqs: SQSClient;

  beforeAll(async () => {
    local = await startLocalSqs(
      [{ name: 'lane', perConnector: true, fifo: true, visibilityTimeoutSeconds: 30, maxReceiveCount: 3, retentionDays: 1 }],
      ['acme'],
    );
    sqs = new SQSClient({ ...localAwsConfig, endpoint: local.endpoint });
  });

  afterAll(async () => {
    sqs?.destroy();
    await local?.stop();
  });

  const depth = async (url: string) => {
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(attributes.Attributes?.ApproximateNumberOfMessages) + Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible);
  };

  it('stops between messages when the budget runs out, moving each message once, and says how many remain', async () => {
    // Prepare: five dead letters of one resource, and a clock that passes 10 ms per look
    const lane = local.queues[0];
    if (!lane) throw new Error('no lane');
    for (let i = 0; i < 5; i++) {
      await sqs.send(new SendMessageCommand({ QueueUrl: lane.dlqUrl, MessageBody: `change-${i}`, MessageGroupId: 'u-1', MessageDeduplicationId: `d-${i}` }));
    }
    let clock = 0;
    const now = () => {
      clock += 10;
      return clock;
    };
    // Act: a budget of 45 ms of that clock
    const result = await redriveWithinBudget(sqs, lane.dlqUrl, lane.url, { budgetMs: 45, now });
    // Assess
    expect(result.stoppedBy).toBe('budget');
    expect(result.moved).toBeGreaterThan(0);
    expect(result.moved).toBeLessThan(5);
    expect(result.remaining).toBe(5 - result.moved);
    expect(await depth(lane.url)).toBe(result.moved);

    // Act: the rest, without a budget
    const rest = await redriveWithinBudget(sqs, lane.dlqUrl, lane.url, {});
    // Assess: every message on the lane once, in the order it was sent
    expect(rest).toMatchObject({ moved: 5 - result.moved, remaining: 0, stoppedBy: 'empty' });
    const bodies: string[] = [];
    for (let i = 0; i < 10 && bodies.length < 5; i++) {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: lane.url, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }));
      bodies.push(...(received.Messages ?? []).map((m) => m.Body ?? ''));
      for (const message of received.Messages ?? []) await sqs.send(new DeleteMessageCommand({ QueueUrl: lane.url, ReceiptHandle: message.ReceiptHandle }));
    }
    expect(bodies).toEqual(['change-0', 'change-1', 'change-2', 'change-3', 'change-4']);
  });

  it('moves only what was dead-lettered before it began: a change that fails again is not moved round in a loop', async () => {
    // Prepare: two dead letters, and a lane whose worker fails every change for good, sending it
    // straight back to the DLQ as the connector worker does with a permanent error
    const lane = local.queues[0];
    if (!lane) throw new Error('no lane');
    for (let i = 0; i < 2; i++) {
      await sqs.send(new SendMessageCommand({ QueueUrl: lane.dlqUrl, MessageBody: `bad-${i}`, MessageGroupId: `u-${i}`, MessageDeduplicationId: `bad-${i}` }));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    const failing = new SQSClient({ ...localAwsConfig, endpoint: local.endpoint });
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as { QueueUrl?: string; MessageBody?: string; MessageGroupId?: string };
        if (context.commandName === 'SendMessageCommand' && input.QueueUrl === lane.url) {
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: lane.dlqUrl,
              MessageBody: input.MessageBody,
              MessageGroupId: input.MessageGroupId,
              MessageDeduplicationId: `again-${Math.random()}`,
            }),
          );
        }
        return result;
      },
      { step: 'finalizeRequest', name: 'failEveryChange' },
    );
    // Act: a redrive bounded only by a generous max
    const result = await redriveWithinBudget(failing, lane.dlqUrl, lane.url, { max: 20 });
    // Assess: each change moved once; the two that came back stay in the DLQ for an operator
    expect(result).toEqual({ moved: 2, remaining: 2, stoppedBy: 'returned' });
    failing.destroy();
  });
});
