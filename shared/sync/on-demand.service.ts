import { AppError } from '../errors.ts';
import type { ChangeMessage } from './change-message.ts';
import type { AccessGrant, GrantStore } from './grant.ports.ts';
import type { AuditLog } from './sync.ports.ts';
import type { AttributeDiff, Situation, TargetCall } from './sync.planner.ts';
import type { ConnectorContext, SyncOutcome, SyncService } from './sync.service.ts';

/**
 * On-demand provisioning: one user or one group, on one connector, now, step by step. The same
 * planner and applier as real time run synchronously against the connector (not through the
 * queue), and the answer says what was found, what was (or, in a dry run, would be) done, and
 * each attribute's old and new value. Audit records carry trigger `on-demand`.
 *
 * It does not race the connector's lane into a lasting wrong state: the sync is state-based, a
 * create that meets an account made meanwhile matches it again, link writes are transactions
 * that never hand an account to a second person, and after applying, a settling change for the
 * same resource goes on the lane. FIFO order puts it behind any real-time change of the resource
 * in flight, so the worker then compares the hub with the link once more and sends what an
 * interleaving left out. (One interleaving remains that the lane cannot see: a real-time worker
 * writing its link after ours while our older values reached the target last. The next on-demand
 * call or reconciliation repairs it: both plan against the account the target holds.)
 *
 * A linked account (or group) is read from the target by its id before planning, so the plan
 * compares the hub with what the target holds now: each change shows the target's value and the
 * hub's, an edit made on the target behind the hub's back is drift, and an account deleted there
 * is `linked-gone`.
 *
 * Temporary access (`until`): a grant item lets the user in whatever the connector's scope
 * says, until its time. Its removal (the expiry sweep, DynamoDB's TTL, a deprovision) goes out
 * on the stream to the connector's lane; the planner also treats a grant past its time as
 * absent, so any sync after expiry deprovisions, whether or not the item is gone yet.
 */

/** Who to provision: a user by id, userName or externalId, or a group by id or displayName. */
export type OnDemandSubject = { user: string } | { group: string };

export interface OnDemandRequest {
  connectorId: string;
  subject: OnDemandSubject;
  /** Plan only: nothing changes on the target or in the table, no grant is written. */
  dryRun?: boolean;
  /** Apply the connector's deprovision policy (disable or delete) whatever the scope says; revokes a grant. */
  deprovision?: boolean;
  /** Temporary access until this time: an ISO time with its offset, or a duration from now (`90m`, `2h`, `7d`, `1h30m`). */
  until?: string;
  /** Who asks: named in the audit records. */
  operator?: string;
}

/** A target call as the answer shows it: the operation, the account or group, and the attribute names (values are in `changes`). */
export interface CallSummary {
  operation: TargetCall['operation'];
  targetId?: string;
  attributes?: string[];
}

export interface OnDemandResult {
  connectorId: string;
  dryRun: boolean;
  resource: { type: 'User' | 'Group'; id: string; name?: string };
  situation?: Situation;
  steps: string[];
  calls: CallSummary[];
  changes: AttributeDiff[];
  outcome: { action: string; status: 'success' | 'skipped'; targetId?: string; reason?: string; collidesWith?: string };
  /** The temporary access granted (or, in a dry run, that would be). */
  grant?: AccessGrant;
  /** A grant the deprovision revoked. */
  revokedGrant?: AccessGrant;
  /** Whether a settling change went on the connector's lane after applying. */
  settle: 'queued' | 'none';
  durationMs: number;
}

export type OnDemandErrorCode = 'onDemand.notFound' | 'onDemand.ambiguous' | 'onDemand.invalid' | 'onDemand.disabled';

/**
 * A request on-demand provisioning cannot carry out: unknown connector or resource (404), an
 * ambiguous reference or a disabled connector (409), bad input (400).
 */
export class OnDemandError extends AppError {
  constructor(
    override readonly code: OnDemandErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** The hub's lookups by the names operators know. */
export interface HubLookup {
  /** Users whose id, userName (case-insensitive) or externalId is `ref`: the id first when it is one. */
  findUsers(ref: string): Promise<Array<{ id: string; userName?: string }>>;
  /** Groups whose id or displayName (case-insensitive) is `ref`. */
  findGroups(ref: string): Promise<Array<{ id: string; displayName?: string }>>;
}

export interface OnDemandDeps {
  sync: SyncService;
  hub: HubLookup;
  grants: GrantStore;
  /** The connector of the id, built; undefined when the connectors document has no such connector. */
  connector(connectorId: string): Promise<ConnectorContext | undefined>;
  /** Puts a change on the connector's FIFO lane (the settling change after applying). */
  enqueue(message: ChangeMessage): Promise<void>;
  clock: () => Date;
  /** Records a request the target failed (the sync records every other outcome itself). */
  audit?: AuditLog;
}

/** The longest temporary access: a grant is for troubleshooting and short tasks, not a role. */
export const MAX_GRANT_MS = 90 * 86_400_000;

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+[smhdw])+$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** The end of temporary access: an ISO time with its offset, or a duration from `now` such as `2h` or `1h30m`. */
export const parseUntil = (until: string, now: Date): Date => {
  const text = until.trim();
  let end: number;
  if (DURATION.test(text)) {
    end =
      now.getTime() + [...text.matchAll(/(\d+)([smhdw])/g)].reduce((sum, [, amount, unit]) => sum + Number(amount) * (UNIT_MS[unit as string] as number), 0);
  } else if (ISO_TIME.test(text) && !Number.isNaN(Date.parse(text))) {
    end = Date.parse(text);
  } else {
    throw new OnDemandError(
      'onDemand.invalid',
      `until: "${until}" is neither an ISO time with an offset (2026-03-01T18:00:00Z) nor a duration (90m, 2h, 7d, 1h30m)`,
    );
  }
  if (end <= now.getTime()) throw new OnDemandError('onDemand.invalid', `until: ${new Date(end).toISOString()} is not in the future`);
  if (end - now.getTime() > MAX_GRANT_MS) throw new OnDemandError('onDemand.invalid', 'until: temporary access lasts at most 90 days');
  return new Date(end);
};

const summarise = (call: TargetCall): CallSummary => {
  switch (call.operation) {
    case 'createUser':
      return { operation: call.operation, attributes: Object.keys(call.attributes) };
    case 'updateUser':
      return { operation: call.operation, targetId: call.targetId, attributes: [...Object.keys(call.change.set), ...call.change.unset] };
    case 'createGroup':
      return { operation: call.operation, attributes: ['displayName'] };
    default:
      return { operation: call.operation, targetId: call.targetId };
  }
};

export const makeProvisionOnDemand = (deps: OnDemandDeps) => {
  const single = async <T extends { id: string }>(found: Promise<T[]>, what: string): Promise<T> => {
    const [first, ...others] = await found;
    if (!first) throw new OnDemandError('onDemand.notFound', `no ${what}`);
    if (others.length > 0)
      throw new OnDemandError(
        'onDemand.ambiguous',
        `${what} matches ${others.length + 1} resources (${[first, ...others].map((r) => r.id).join(', ')}): use the id`,
      );
    return first;
  };

  return async (request: OnDemandRequest): Promise<OnDemandResult> => {
    const started = deps.clock().getTime();
    const dryRun = request.dryRun === true;
    const until = request.until === undefined ? undefined : parseUntil(request.until, deps.clock());
    if ('group' in request.subject && (until || request.deprovision)) {
      throw new OnDemandError('onDemand.invalid', 'until and deprovision apply to users: a group is provisioned as its connector says');
    }
    if (until && request.deprovision) throw new OnDemandError('onDemand.invalid', 'until grants access and deprovision removes it: give one of them');
    const ctx = await deps.connector(request.connectorId);
    if (!ctx) throw new OnDemandError('onDemand.notFound', `no connector ${request.connectorId}`);
    if (!ctx.config.enabled && !dryRun) {
      throw new OnDemandError('onDemand.disabled', `connector ${ctx.config.id} is disabled: its changes wait until it is enabled (a dry run still plans)`);
    }
    // Planned against the target as it is now, not the link's record of what was pushed last.
    const options = { trigger: 'on-demand' as const, dryRun, readTarget: true, ...(request.operator ? { operator: request.operator } : {}) };

    if ('group' in request.subject) {
      const group = await single(deps.hub.findGroups(request.subject.group), `group "${request.subject.group}"`);
      const outcome = await failureRecorded(ctx.config.id, { type: 'Group', id: group.id, name: group.displayName }, dryRun, () =>
        deps.sync.syncGroup(ctx, group.id, options),
      );
      const settle = !dryRun && outcome.status === 'success';
      if (settle) await deps.enqueue({ kind: 'group', connectorId: ctx.config.id, id: group.id, trigger: 'on-demand' });
      return resultOf(request.connectorId, dryRun, { type: 'Group', id: group.id, name: group.displayName }, outcome, settle, started, {});
    }

    const user = await single(deps.hub.findUsers(request.subject.user), `user "${request.subject.user}"`);
    let grant: AccessGrant | undefined;
    let revokedGrant: AccessGrant | undefined;
    if (until) {
      grant = {
        connectorId: ctx.config.id,
        userId: user.id,
        ...(user.userName ? { userName: user.userName } : {}),
        expiresAt: until.toISOString(),
        grantedAt: deps.clock().toISOString(),
      };
      // The grant first: a sync of the user that runs meanwhile already finds them in scope.
      if (!dryRun) await deps.grants.put(grant);
    }
    if (request.deprovision) {
      revokedGrant = await deps.grants.get(ctx.config.id, user.id);
      // Revoked first, so no sync that runs meanwhile provisions the user again by it.
      if (revokedGrant && !dryRun) await deps.grants.delete(ctx.config.id, user.id);
    }
    const outcome = await failureRecorded(ctx.config.id, { type: 'User', id: user.id, name: user.userName }, dryRun, () =>
      deps.sync.syncUser(ctx, user.id, {
        ...options,
        ...(request.deprovision ? { deprovision: true } : {}),
        ...(grant && dryRun ? { grant } : {}),
      }),
    );
    // A deprovision is not settled through the lane: the lane's sync follows the scope, which may
    // admit the user, and would undo what the operator asked for at once.
    const settle = !dryRun && !request.deprovision && outcome.status === 'success';
    if (settle) await deps.enqueue({ kind: 'user', connectorId: ctx.config.id, id: user.id, trigger: 'on-demand' });
    return resultOf(request.connectorId, dryRun, { type: 'User', id: user.id, name: user.userName }, outcome, settle, started, {
      ...(grant ? { grant } : {}),
      ...(revokedGrant ? { revokedGrant } : {}),
    });
  };

  /**
   * Runs the sync; when the target fails it, records the failure (naming the user or group, so
   * operators find it by person) and rethrows for the invoker. A dry run records nothing.
   */
  async function failureRecorded(
    connectorId: string,
    resource: OnDemandResult['resource'],
    dryRun: boolean,
    sync: () => Promise<SyncOutcome>,
  ): Promise<SyncOutcome> {
    try {
      return await sync();
    } catch (error) {
      if (!dryRun && deps.audit) {
        await deps.audit.record({
          time: deps.clock().toISOString(),
          connectorId,
          resourceType: resource.type,
          resourceId: resource.id,
          ...(resource.name ? { name: resource.name } : {}),
          trigger: 'on-demand',
          action: 'sync',
          status: 'failed',
          steps: [],
          error: { code: error instanceof AppError ? error.code : 'internal', message: error instanceof Error ? error.message : String(error) },
        });
      }
      throw error;
    }
  }

  function resultOf(
    connectorId: string,
    dryRun: boolean,
    resource: OnDemandResult['resource'],
    outcome: SyncOutcome,
    settle: boolean,
    started: number,
    grants: Pick<OnDemandResult, 'grant' | 'revokedGrant'>,
  ): OnDemandResult {
    return {
      connectorId,
      dryRun,
      resource: { type: resource.type, id: resource.id, ...(resource.name ? { name: resource.name } : {}) },
      ...(outcome.situation ? { situation: outcome.situation } : {}),
      steps: outcome.steps,
      calls: (outcome.calls ?? []).map(summarise),
      changes: outcome.changes ?? [],
      outcome: {
        action: outcome.action,
        status: outcome.status,
        ...(outcome.targetId ? { targetId: outcome.targetId } : {}),
        ...(outcome.reason ? { reason: outcome.reason } : {}),
        ...(outcome.collidesWith ? { collidesWith: outcome.collidesWith } : {}),
      },
      ...grants,
      settle: settle ? 'queued' : 'none',
      durationMs: Math.max(0, deps.clock().getTime() - started),
    };
  }
};

export type ProvisionOnDemand = ReturnType<typeof makeProvisionOnDemand>;

/**
 * Ends expired grants: deletes each grant whose time has come (unless it was extended
 * meanwhile), and the stream carries each deletion to the connector's lane as a deprovision.
 * Run every minute, so access ends on time even though DynamoDB's TTL deletes within days.
 */
export const makeGrantExpiry =
  (deps: { grants: GrantStore; clock: () => Date }) =>
  async (limit = 100): Promise<{ ended: AccessGrant[] }> => {
    const ended: AccessGrant[] = [];
    for (const grant of await deps.grants.expiredAt(deps.clock(), limit)) {
      if (await deps.grants.deleteIfUnchanged(grant)) ended.push(grant);
    }
    return { ended };
  };
