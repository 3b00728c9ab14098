import { AppError } from '../errors.ts';
import { ScimError } from '../scim/errors.ts';
import type { PlannedChange } from './reconcile-run.ports.ts';
import { stableHash } from './stable-hash.ts';
import { type AuditEntry, type AuditLog, type Link, LinkCollisionError, type LinkStore } from './sync.ports.ts';

type Json = Record<string, unknown>;

/** A hub resource an inbound write would take over from elsewhere: nothing was written. */
export class NotOursError extends AppError {
  constructor(message: string) {
    super('reconcile.notOurs', message);
  }
}

/**
 * The hub's directory as an inbound run writes it: through the same use cases as SCIM
 * requests, so each write lands on the table's stream and reaches every outbound connector.
 */
export interface InboundWriter {
  /** Creates the hub user and returns its id; a userName taken already returns that user's id (a page run again). */
  create(values: Json): Promise<string>;
  /** Replaces the given attributes of the hub user (a path-less SCIM PATCH replace). */
  update(hubId: string, values: Json): Promise<void>;
  /**
   * Creates the hub group (`displayName`, `externalId` the source group's id) and returns its id.
   * A name taken by the group this source made (its externalId) returns that group's id (a page
   * run again); taken by a group from elsewhere, it rejects with NotOursError.
   */
  createGroup(values: Json): Promise<string>;
  /** Replaces the given attributes of the hub group (its displayName). */
  updateGroup(hubId: string, values: Json): Promise<void>;
  /** Deletes the hub group; one already gone is deleted. */
  deleteGroup(hubId: string): Promise<void>;
  /** Adds and removes hub users as members of the hub group, as minimal PATCH operations. */
  changeMembers(hubId: string, add: string[], remove: string[]): Promise<void>;
}

export interface InboundApplyDeps {
  writer: InboundWriter;
  links: Pick<LinkStore, 'put' | 'delete' | 'get' | 'ownerOf'>;
  audit: AuditLog;
  clock: () => Date;
}

/** Whether a hub write was refused because it would take another resource's place: recorded as skipped, never retried. */
const refusal = (error: unknown): string | undefined => {
  if (error instanceof LinkCollisionError)
    return `source ${error.link.kind} ${error.link.targetId} is linked to hub ${error.link.kind} ${error.ownerHubId} already`;
  if (error instanceof NotOursError) return error.message;
  if (error instanceof ScimError && error.status === 409) return error.message;
  return undefined;
};

/**
 * Carries out one plan page of an inbound run: creates, updates, links or deactivates hub users,
 * creates, renames, links or deletes hub groups, and changes their members; each user and group
 * is linked to its source item (connector, hub id) -> source id, so the next run finds it by the
 * link. Idempotent: a page run again finds its users by userName and its groups by their
 * externalId, rewrites the same links, and adds and removes members that are already so.
 */
export const makeInboundApplier = (deps: InboundApplyDeps) => {
  const link = (connectorId: string, kind: 'user' | 'group', hubId: string, targetId: string, origin: Link['origin']): Link => ({
    connectorId,
    kind,
    hubId,
    targetId,
    status: 'active',
    pushed: {},
    hash: stableHash({}),
    origin,
    updated: deps.clock().toISOString(),
  });

  const record = (connectorId: string, entry: Omit<AuditEntry, 'time' | 'connectorId' | 'trigger'>) =>
    deps.audit.record({ time: deps.clock().toISOString(), connectorId, trigger: 'schedule', ...entry });

  const applyUser = async (connectorId: string, change: PlannedChange): Promise<void> => {
    const steps: string[] = [];
    let hubId = change.hubId;
    let status: 'success' | 'skipped' = 'success';
    let reason = change.reason;
    try {
      if (change.action === 'create' && change.values && change.targetId) {
        hubId = await deps.writer.create(change.values);
        steps.push(`create hub user ${hubId} from source account ${change.targetId}`);
        await deps.links.put(link(connectorId, 'user', hubId, change.targetId, 'created'));
      } else if (change.action === 'link' && hubId && change.targetId) {
        await deps.links.put(link(connectorId, 'user', hubId, change.targetId, 'matched'));
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
    await record(connectorId, {
      resourceType: 'User',
      resourceId: hubId ?? change.targetId ?? '',
      ...(typeof change.values?.userName === 'string' ? { name: change.values.userName } : {}),
      action: change.action === 'disable' ? 'deactivate' : change.action,
      status,
      ...(change.targetId ? { targetId: change.targetId } : {}),
      steps,
      reason,
      ...(change.values ? { changes: Object.entries(change.values).map(([attribute, value]) => ({ attribute, new: value })) } : {}),
    });
  };

  const applyGroup = async (connectorId: string, change: PlannedChange): Promise<void> => {
    const steps: string[] = [];
    let hubId = change.hubId;
    let status: 'success' | 'skipped' = 'success';
    let reason = change.reason;
    const sourceId = change.targetId as string;
    try {
      if (change.action === 'create' && change.values) {
        hubId = await deps.writer.createGroup(change.values);
        steps.push(`create hub group ${hubId} from source group ${sourceId}`);
        await deps.links.put(link(connectorId, 'group', hubId, sourceId, 'created'));
      } else if (change.action === 'link' && hubId) {
        // A group mapping's link is `mapped`; the group this source made (found by its externalId) is `created`.
        await deps.links.put(link(connectorId, 'group', hubId, sourceId, change.origin ?? 'mapped'));
        steps.push(`link hub group ${hubId} to source group ${sourceId}`);
      } else if (change.action === 'rename' && hubId && change.values) {
        await deps.writer.updateGroup(hubId, change.values);
        steps.push(`rename hub group ${hubId} to "${String(change.values.displayName)}"`);
      } else if ((change.action === 'delete' || change.action === 'unlink') && hubId) {
        const current = await deps.links.get(connectorId, 'group', hubId);
        if (change.action === 'delete') {
          await deps.writer.deleteGroup(hubId);
          steps.push(`delete hub group ${hubId}: its source group ${sourceId} is gone`);
        } else steps.push(`unlink hub group ${hubId} from source group ${sourceId}, which is gone`);
        if (current) await deps.links.delete(current);
      } else return;
    } catch (error) {
      const refused = refusal(error);
      if (refused === undefined) throw error;
      status = 'skipped';
      reason = `${refused}: nothing changed`;
    }
    await record(connectorId, {
      resourceType: 'Group',
      resourceId: hubId ?? sourceId,
      ...(typeof change.values?.displayName === 'string' ? { name: change.values.displayName } : {}),
      action: change.action,
      status,
      targetId: sourceId,
      steps,
      reason,
      ...(change.values ? { changes: Object.entries(change.values).map(([attribute, value]) => ({ attribute, new: value })) } : {}),
    });
  };

  /** One source group's member changes, as one delta of its hub group. */
  const applyMembers = async (connectorId: string, sourceGroupId: string, changes: PlannedChange[]): Promise<void> => {
    const hubGroup = changes[0]?.groupId ?? (await deps.links.ownerOf(connectorId, 'group', sourceGroupId));
    const add: string[] = [];
    const remove: string[] = [];
    const missing: string[] = [];
    for (const change of changes) {
      const member = change.hubId ?? (change.targetId ? await deps.links.ownerOf(connectorId, 'user', change.targetId) : undefined);
      if (member === undefined) missing.push(change.targetId ?? '');
      else (change.action === 'add' ? add : remove).push(member);
    }
    const steps = [`source group ${sourceGroupId}: ${add.length} to add, ${remove.length} to remove`];
    if (missing.length > 0) steps.push(`no hub user for source members ${missing.join(', ')}: left out`);
    if (!hubGroup || add.length + remove.length === 0) {
      await record(connectorId, {
        resourceType: 'Membership',
        resourceId: hubGroup ?? sourceGroupId,
        action: 'membership',
        status: 'skipped',
        targetId: sourceGroupId,
        steps,
        reason: hubGroup ? 'no member has a hub user' : 'the source group has no hub group',
      });
      return;
    }
    await deps.writer.changeMembers(hubGroup, add, remove);
    await record(connectorId, {
      resourceType: 'Membership',
      resourceId: hubGroup,
      action: 'membership',
      status: 'success',
      targetId: sourceGroupId,
      steps,
      changes: [{ attribute: 'members', old: remove, new: add }],
    });
  };

  return async (connectorId: string, changes: readonly PlannedChange[]): Promise<void> => {
    // Members of one source group go as one delta, after its group's own change (the page keeps that order).
    const members = new Map<string, PlannedChange[]>();
    const flush = async () => {
      for (const [sourceGroupId, group] of members) await applyMembers(connectorId, sourceGroupId, group);
      members.clear();
    };
    for (const change of changes) {
      if (change.kind === 'membership') {
        if ((change.action === 'add' || change.action === 'remove') && change.sourceGroupId !== undefined)
          members.set(change.sourceGroupId, [...(members.get(change.sourceGroupId) ?? []), change]);
        continue;
      }
      await flush();
      if (change.kind === 'group') await applyGroup(connectorId, change);
      else await applyUser(connectorId, change);
    }
    await flush();
  };
};

export type InboundApplier = ReturnType<typeof makeInboundApplier>;
