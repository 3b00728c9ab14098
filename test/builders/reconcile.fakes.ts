import type {
  LaneChange,
  LanePort,
  PlannedChange,
  ReconcileHub,
  RunPageMessage,
  RunPagesPort,
  RunRecord,
  RunStore,
} from '../../shared/sync/reconcile-run.ports.ts';
import type { HubUserView, MatchQuery } from '../../shared/sync/reconcile-situations.ts';
import type { HubGroupView } from '../../shared/sync/inbound-groups.ts';
import type { InMemoryHub } from './sync.fakes.ts';

type Json = Record<string, unknown>;

const groupView = (group: Json): HubGroupView => ({
  id: String(group.id),
  displayName: String(group.displayName),
  ...(typeof group.externalId === 'string' ? { externalId: group.externalId } : {}),
});

/**
 * In-memory ports of a reconciliation run, keeping the rules of the real adapters: the run
 * store's advance is conditional on the page, the lock refuses a second run until it expires,
 * and the queues drop a message whose deduplication id they have seen (SQS FIFO).
 */
export class InMemoryRunStore implements RunStore {
  readonly runs = new Map<string, RunRecord>();
  readonly locks = new Map<string, { runId: string; expiresAt: number }>();
  readonly plans = new Map<string, PlannedChange[]>();
  readonly accounted = new Map<string, Set<string>>();

  constructor(private readonly now: () => number) {}

  async acquireLock(connectorId: string, runId: string, expiresAt: number) {
    const lock = this.locks.get(connectorId);
    if (lock && lock.runId !== runId && lock.expiresAt > this.now()) return false;
    this.locks.set(connectorId, { runId, expiresAt });
    return true;
  }

  async releaseLock(connectorId: string, runId: string) {
    if (this.locks.get(connectorId)?.runId === runId) this.locks.delete(connectorId);
  }

  async create(run: RunRecord) {
    this.runs.set(run.runId, structuredClone(run));
  }

  async get(runId: string) {
    const run = this.runs.get(runId);
    return run ? structuredClone(run) : undefined;
  }

  async list(options: { connectorId?: string; limit: number }) {
    return [...this.runs.values()]
      .filter((r) => options.connectorId === undefined || r.connectorId === options.connectorId)
      .sort((a, b) => (a.created < b.created ? 1 : -1))
      .slice(0, options.limit);
  }

  async advance(expected: Pick<RunRecord, 'runId' | 'state' | 'phase' | 'page'>, next: RunRecord) {
    const stored = this.runs.get(expected.runId);
    if (!stored || stored.state !== expected.state || stored.phase !== expected.phase || stored.page !== expected.page) return false;
    this.runs.set(next.runId, structuredClone(next));
    return true;
  }

  async putPlanPage(runId: string, page: number, changes: PlannedChange[]) {
    this.plans.set(`${runId}#${page}`, structuredClone(changes));
  }

  async getPlanPage(runId: string, page: number) {
    return structuredClone(this.plans.get(`${runId}#${page}`) ?? []);
  }

  async markAccounted(runId: string, hubIds: string[]) {
    this.accounted.set(runId, new Set([...(this.accounted.get(runId) ?? []), ...hubIds]));
  }

  async accountedAmong(runId: string, hubIds: string[]) {
    const marked = this.accounted.get(runId) ?? new Set<string>();
    return new Set(hubIds.filter((id) => marked.has(id)));
  }
}

/** A FIFO queue that drops what it has seen (by deduplication id), as SQS does within its window. */
class DedupQueue<T> {
  readonly seen = new Set<string>();
  readonly waiting: T[] = [];
  /** Every send, duplicates included. */
  sends = 0;

  push(id: string, item: T) {
    this.sends++;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.waiting.push(item);
  }
}

export class InMemoryRunPages implements RunPagesPort {
  readonly queue = new DedupQueue<RunPageMessage>();

  async send(message: RunPageMessage) {
    this.queue.push(`${message.runId}:${message.phase}:${message.page}`, structuredClone(message));
  }

  /** Takes the next page message, as the reconcile function's poller would. */
  take(): RunPageMessage | undefined {
    return this.queue.waiting.shift();
  }
}

export class InMemoryLanes implements LanePort {
  readonly queue = new DedupQueue<LaneChange>();

  async enqueue(_connectorId: string, changes: LaneChange[]) {
    for (const change of changes) this.queue.push(change.deduplicationId, structuredClone(change));
  }

  messages() {
    return this.queue.waiting.map((c) => c.message);
  }
}

/** The hub as a run reads it, over the sync tests' in-memory hub. */
export const inMemoryReconcileHub = (hub: InMemoryHub): ReconcileHub => {
  const view = async (id: string, withGroups: boolean): Promise<HubUserView | undefined> => {
    const user = hub.users.get(id);
    return user ? { user, groupIds: withGroups ? await hub.groupIdsOf(id) : [] } : undefined;
  };
  return {
    listUsers: async ({ limit, cursor, withGroups }) => {
      const ids = [...hub.users.keys()].sort();
      const start = Number(cursor ?? 0);
      const items = await Promise.all(ids.slice(start, start + limit).map(async (id) => ({ id, ...((await view(id, withGroups)) as HubUserView) })));
      return { items, ...(start + limit < ids.length ? { next: String(start + limit) } : {}) };
    },
    usersByIds: async (ids, withGroups) => {
      const found = new Map<string, HubUserView>();
      for (const id of ids) {
        const v = await view(id, withGroups);
        if (v) found.set(id, v);
      }
      return found;
    },
    findUserIds: async (query: MatchQuery) =>
      [...hub.users.values()]
        .filter((user) => {
          if (query.hubAttribute === 'id') return user.id === query.value;
          if (query.hubAttribute.startsWith('emails'))
            return ((user.emails as Array<{ value: string }> | undefined) ?? []).some((e) => e.value.toLowerCase() === query.value.toLowerCase());
          return String(user[query.hubAttribute] ?? '').toLowerCase() === query.value.toLowerCase();
        })
        .map((user) => String(user.id)),
    listGroups: async ({ limit, cursor }) => {
      const groups = [...hub.groups.values()].map((g) => ({ id: String(g.id), displayName: String(g.displayName) })).sort((a, b) => (a.id < b.id ? -1 : 1));
      const start = Number(cursor ?? 0);
      return { items: groups.slice(start, start + limit), ...(start + limit < groups.length ? { next: String(start + limit) } : {}) };
    },
    groupMemberIds: async (groupId) => [...(hub.members.get(groupId) ?? [])].filter((id) => hub.users.has(id)),
    groupsByIds: async (ids) => new Map(ids.flatMap((id) => (hub.groups.has(id) ? [[id, groupView(hub.groups.get(id) as Json)] as const] : []))),
    findGroupByName: async (displayName) => {
      const found = [...hub.groups.values()].find((g) => String(g.displayName).toLowerCase() === displayName.toLowerCase());
      return found ? groupView(found) : undefined;
    },
  };
};
