import type { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';

/**
 * The error middleware of the event-driven functions (stream, queue, schedule, invoke). Records
 * their own failures item by item; what escapes the handler is a failure of the whole batch: it
 * is logged once with the Lambda context and rethrown, so the event source retries the batch as
 * its configuration says (bisecting a stream batch, redelivering SQS messages).
 */
export const logBatchFailures = <TEvent, TResult>(logger: Logger): middy.MiddlewareObj<TEvent, TResult> => ({
  onError: async (request) => {
    logger.error('the batch failed as a whole and will be retried', { error: request.error as Error });
  },
});
