import type { PlannedChange } from './reconcile-run.ports.ts';
import { stableHash } from './stable-hash.ts';
import { type AuditLog, type Link, LinkCollisionError, type LinkStore } from './sync.ports.ts';

type Json = Record<string, unknown>;

/**
 * The hub's directory as an inbound run writes it: through the same use cases as SCIM
 * requests, so each write lands on the table's stream and reaches every outbound connector.
 */
export interface InboundWriter {
  /** Creates the hub user and returns its id; a userName taken already returns that user's id (a page run again). */
  create(values: Json): Promise<string>;
  /** Replaces the given attributes of the hub user (a path-less SCIM PATCH replace). */
  update(hubId: string, values: Json): Promise<void>;
}

export interface InboundApplyDeps {
  writer: InboundWriter;
  links: Pick<LinkStore, 'put'>;
  audit: AuditLog;
  clock: () => Date;
}

/**
 * Carries out one planned change of an inbound run: creates, updates, links or deactivates the
 * hub user, and links it to its source account (connector, hub id) -> source id, so the next run
 * finds it by the link. Idempotent: a page run again finds the user by its userName and rewrites
 * the same link.
 */
export const makeInboundApplier = (deps: InboundApplyDeps) => {
  const link = (connectorId: string, hubId: string, targetId: string, origin: Link['origin']): Link => ({
    connectorId,
    kind: 'user',
    hubId,
    targetId,
    status: 'active',
    pushed: {},
    hash: stableHash({}),
    origin,
    updated: deps.clock().toISOString(),
  });

  return async (connectorId: string, change: PlannedChange): Promise<void> => {
    const steps: string[] = [];
    let hubId = change.hubId;
    let status: 'success' | 'skipped' = 'success';
    let reason = change.reason;
    try {
      if (change.action === 'create' && change.values && change.targetId) {
        hubId = await deps.writer.create(change.values);
        steps.push(`create hub user ${hubId} from source account ${change.targetId}`);
        await deps.links.put(link(connectorId, hubId, change.targetId, 'created'));
      } else if (change.action === 'link' && hubId && change.targetId) {
        await deps.links.put(link(connectorId, hubId, change.targetId, 'matched'));
        steps.push(`link hub user ${hubId} to source account ${change.targetId}`);
        if (change.values) await deps.writer.update(hubId, change.values);
      } else if ((change.action === 'update' || change.action === 'disable') && hubId && change.values) {
        await deps.writer.update(hubId, change.values);
        steps.push(`${change.action === 'disable' ? 'deactivate' : 'update'} hub user ${hubId}: ${Object.keys(change.values).join(', ')}`);
      } else return;
    } catch (error) {
      if (!(error instanceof LinkCollisionError)) throw error;
      status = 'skipped';
      reason = `source account ${change.targetId} is linked to hub user ${error.ownerHubId} already: nothing changed`;
    }
    await deps.audit.record({
      time: deps.clock().toISOString(),
      connectorId,
      resourceType: 'User',
      resourceId: hubId ?? change.targetId ?? '',
      ...(typeof change.values?.userName === 'string' ? { name: change.values.userName } : {}),
      trigger: 'schedule',
      action: change.action === 'disable' ? 'deactivate' : change.action,
      status,
      ...(change.targetId ? { targetId: change.targetId } : {}),
      steps,
      reason,
      ...(change.values ? { changes: Object.entries(change.values).map(([attribute, value]) => ({ attribute, new: value })) } : {}),
    });
  };
};

export type InboundApplier = ReturnType<typeof makeInboundApplier>;
