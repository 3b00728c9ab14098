import type { TargetAttributes } from '../connectors/connector.port.ts';

export type Trigger = 'realtime' | 'schedule' | 'on-demand' | 'import';
export type LinkKind = 'user' | 'group' | 'membership';

/**
 * What the hub last pushed for one resource to one connector: the target's id and the mapped
 * attributes, so the next change sends only what differs and a redelivery sends nothing.
 */
export interface Link {
  connectorId: string;
  kind: LinkKind;
  /** Hub id; for a membership `<groupId>#<memberId>`. */
  hubId: string;
  targetId: string;
  status: 'active' | 'disabled';
  pushed: TargetAttributes;
  hash: string;
  /** How the link was made: the hub created the account, matched an existing one, or a group mapping. */
  origin: 'created' | 'matched' | 'mapped';
  updated: string;
}

export interface LinkStore {
  get(connectorId: string, kind: LinkKind, hubId: string): Promise<Link | undefined>;
  put(link: Link): Promise<void>;
  delete(connectorId: string, kind: LinkKind, hubId: string): Promise<void>;
}

export type AuditStatus = 'success' | 'failed' | 'skipped' | 'retrying' | 'dead-lettered';

/** One operation of the sync engine, as operators read it in the reporting dashboard. */
export interface AuditEntry {
  time: string;
  connectorId: string;
  resourceType: 'User' | 'Group' | 'Membership' | 'Connector';
  resourceId: string;
  /** userName or displayName, for people reading the report. */
  name?: string;
  trigger: Trigger;
  action: string;
  status: AuditStatus;
  targetId?: string;
  steps: string[];
  changes?: Array<{ attribute: string; old?: unknown; new?: unknown }>;
  reason?: string;
  error?: { code: string; message: string };
  attempt?: number;
  /** Milliseconds from the hub change to the target applying it (real-time runs). */
  latencyMs?: number;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

/** The hub's current state, as the sync engine reads it. */
export interface HubReader {
  getUser(id: string): Promise<Record<string, unknown> | undefined>;
  getGroup(id: string): Promise<Record<string, unknown> | undefined>;
  groupIdsOf(userId: string): Promise<string[]>;
  /** Which of the ids are members of the group now. */
  membersAmong(groupId: string, memberIds: string[]): Promise<Set<string>>;
}
