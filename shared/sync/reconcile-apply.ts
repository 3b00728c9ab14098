import type { ChangeMessage } from './change-message.ts';
import type { AuditLog, LinkStore, SyncTrigger } from './sync.ports.ts';
import type { ConnectorContext, SyncOutcome } from './sync.service.ts';

type AccountMessage = Extract<ChangeMessage, { kind: 'account' }>;

export interface OrphanDeps {
  links: Pick<LinkStore, 'ownerOf'>;
  audit: AuditLog;
  clock: () => Date;
}

/**
 * Disables or deletes a target account no hub user owns, as a run's orphan policy planned. It
 * checks first that the account is still unowned: a real-time change may have linked it to
 * someone since the run read it, and then it is left alone.
 */
export const makeOrphanApplier =
  (deps: OrphanDeps) =>
  async (ctx: ConnectorContext, message: AccountMessage, options: { trigger: SyncTrigger; attempt?: number }): Promise<SyncOutcome> => {
    const { config, connector } = ctx;
    const steps: string[] = [];
    const owner = await deps.links.ownerOf(config.id, 'user', message.targetId);
    let outcome: SyncOutcome;
    if (owner !== undefined) {
      steps.push(`check: ${message.targetId} is linked to hub user ${owner} now`);
      outcome = {
        action: message.action,
        status: 'skipped',
        steps,
        targetId: message.targetId,
        reason: `linked to hub user ${owner} since the run read it: not an orphan`,
      };
    } else if (!config.operations[message.action]) {
      outcome = { action: message.action, status: 'skipped', steps, targetId: message.targetId, reason: `${message.action} is not an enabled operation` };
    } else {
      steps.push(`action: ${message.action} orphan account ${message.targetId} (orphan policy: ${message.action})`);
      if (message.action === 'delete') await connector.deleteUser(message.targetId);
      else await connector.disableUser(message.targetId, { active: false });
      outcome = { action: message.action, status: 'success', steps, targetId: message.targetId };
    }
    await deps.audit.record({
      time: deps.clock().toISOString(),
      connectorId: config.id,
      resourceType: 'User',
      resourceId: message.targetId,
      ...(message.name ? { name: message.name } : {}),
      trigger: options.trigger,
      action: outcome.action,
      status: outcome.status,
      targetId: message.targetId,
      steps: outcome.steps,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(options.attempt ? { attempt: options.attempt } : {}),
    });
    return outcome;
  };

export type OrphanApplier = ReturnType<typeof makeOrphanApplier>;
