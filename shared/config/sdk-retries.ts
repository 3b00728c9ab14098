/**
 * One retry layer per call. A call retried by the SDK (three attempts in its standard mode, four
 * for DynamoDB), again by the connector's resilience layer and again by the queue's redelivery is
 * tried up to 3 × 3 × maxReceiveCount times, piles load on a failing dependency and hides how
 * often it failed. So each call has exactly one layer that retries it, chosen by what invoked the function:
 *
 * - Functions driven by an event source (the stream's fanout, the lanes' connector-worker, the
 *   reconcile queue's run pages): the event source retries, with its own counting and backoff
 *   (the stream's maxRetryAttempts with bisection; the lane's counted attempts with jittered
 *   backoff, then the DLQ; a page's redelivery, which is idempotent). Their SDK clients for
 *   DynamoDB and SQS take `SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE`.
 * - Calls to a target app: the resilience layer's short in-process retries, then the lane; the
 *   vendor's SDK client never retries (`maxAttempts: 1`, see cognito.connector.ts), and the SCIM
 *   connector's fetch has no retries of its own.
 * - Functions answering a request (scim-api, its authorizer, admin-api): nothing above the call
 *   retries it within the request, so their clients keep the SDK's standard retries.
 * - The deletion drain, though stream-driven, keeps the SDK's retries: a run deletes thousands of
 *   items, and a throttled page is better retried in place, with backoff, than by the stream
 *   running the whole drain step again.
 * - Cached reads (the connectors document, connector secrets): the SDK's standard retries. They
 *   happen once per container and minute (or five), not per change, so a failure stacks at most
 *   once, and it would otherwise fail every change of the batch.
 */
export const SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE = { maxAttempts: 1 } as const;
