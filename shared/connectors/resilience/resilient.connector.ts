import { ConnectorError } from '../connector.errors.ts';
import { type ChangeFeed, type Connector, type ConnectorOperation, hasChangeFeed } from '../connector.port.ts';
import { backoffMs } from './backoff.ts';
import { containerShare } from './lane-concurrency.ts';
import { RateLimiter } from './rate-limiter.ts';

export interface ResilienceOptions {
  /** The connector's configured limit for all its calls together. */
  requestsPerSecond?: number;
  /**
   * How many containers share the limits (the lane's maximum concurrency): each container
   * meters `1 / containers` of every rate, so together they stay within it. Default 1.
   */
  containers?: number;
  /** In-process retries of throttled and retryable calls before the error goes to the queue. */
  inlineRetries?: number;
  /** Waits longer than this are left to the queue (visibility timeout) rather than slept here. */
  maxInlineWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const OPERATIONS: ConnectorOperation[] = [
  'findUser',
  'getUser',
  'createUser',
  'updateUser',
  'disableUser',
  'deleteUser',
  'findGroup',
  'createGroup',
  'renameGroup',
  'deleteGroup',
  'changeGroupMembers',
  'listUsers',
  'listGroups',
  'listGroupMembers',
  'probe',
];

/**
 * Wraps any connector with the shared rate limiting and short in-process retries: every call
 * waits for its operation's token (the vendor's published rate, capped by the connector's
 * configured rate), and a throttled or retryable failure whose wait is short is retried here.
 * Longer waits surface as the ConnectorError, and the worker hands them to the queue.
 */
export const withResilience = (connector: Connector, options: ResilienceOptions = {}): Connector => {
  const containers = options.containers ?? 1;
  const overall = options.requestsPerSecond ? new RateLimiter(containerShare(options.requestsPerSecond, containers)) : undefined;
  const perOperation = new Map<ConnectorOperation, RateLimiter>();
  for (const operation of OPERATIONS) {
    const rate = connector.defaultRateLimits?.[operation];
    if (rate)
      perOperation.set(operation, new RateLimiter(containerShare(options.requestsPerSecond ? Math.min(rate, options.requestsPerSecond) : rate, containers)));
  }
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const inlineRetries = options.inlineRetries ?? 2;
  const maxInlineWaitMs = options.maxInlineWaitMs ?? 2_000;

  const call = async <T>(operation: ConnectorOperation, run: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      await perOperation.get(operation)?.acquire();
      await overall?.acquire();
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof ConnectorError) || !error.retryable || attempt > inlineRetries) throw error;
        const wait = error.retryAfterMs ?? backoffMs(attempt, { baseMs: 200, maxMs: maxInlineWaitMs });
        if (wait > maxInlineWaitMs) throw error;
        await sleep(wait);
      }
    }
  };

  // A source's change feed (optional) is metered and retried as its listings are.
  const feed: Partial<ChangeFeed> = hasChangeFeed(connector)
    ? {
        userChanges: (cursor) => call('listUsers', () => connector.userChanges(cursor)),
        groupChanges: (cursor) => call('listGroups', () => connector.groupChanges(cursor)),
      }
    : {};

  return {
    ...feed,
    id: connector.id,
    defaultRateLimits: connector.defaultRateLimits,
    findUser: (attribute, value) => call('findUser', () => connector.findUser(attribute, value)),
    getUser: (id) => call('getUser', () => connector.getUser(id)),
    createUser: (attributes) => call('createUser', () => connector.createUser(attributes)),
    updateUser: (id, change, full) => call('updateUser', () => connector.updateUser(id, change, full)),
    disableUser: (id, full) => call('disableUser', () => connector.disableUser(id, full)),
    deleteUser: (id) => call('deleteUser', () => connector.deleteUser(id)),
    findGroup: (by) => call('findGroup', () => connector.findGroup(by)),
    createGroup: (name, externalId) => call('createGroup', () => connector.createGroup(name, externalId)),
    renameGroup: (id, name, externalId) => call('renameGroup', () => connector.renameGroup(id, name, externalId)),
    deleteGroup: (id) => call('deleteGroup', () => connector.deleteGroup(id)),
    changeGroupMembers: (id, delta) => call('changeGroupMembers', () => connector.changeGroupMembers(id, delta)),
    listUsers: (request) => call('listUsers', () => connector.listUsers(request)),
    listGroups: (request) => call('listGroups', () => connector.listGroups(request)),
    listGroupMembers: (id, request) => call('listGroupMembers', () => connector.listGroupMembers(id, request)),
    probe: () => call('probe', () => connector.probe()),
  };
};
