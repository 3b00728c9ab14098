/**
 * What the admin API answers (functions/admin-api), as the console reads it. The console is a
 * browser bundle of its own and imports nothing from the hub's run-time code.
 */
export type AuditStatus = 'success' | 'failed' | 'skipped' | 'retrying' | 'dead-lettered';
export const AUDIT_STATUSES: readonly AuditStatus[] = ['success', 'skipped', 'retrying', 'failed', 'dead-lettered'];
export const AUDIT_TRIGGERS = ['realtime', 'schedule', 'on-demand', 'import'] as const;

export interface AttributeChange {
  attribute: string;
  old?: unknown;
  new?: unknown;
}

export interface AuditRecord {
  id: string;
  time: string;
  connectorId: string;
  resourceType: 'User' | 'Group' | 'Membership' | 'Connector';
  resourceId: string;
  name?: string;
  trigger: string;
  action: string;
  status: AuditStatus;
  targetId?: string;
  steps: string[];
  changes?: AttributeChange[];
  reason?: string;
  collidesWith?: string;
  error?: { code: string; message: string };
  attempt?: number;
  latencyMs?: number;
  /** The operator whose change in the directory this provisioned. */
  actor?: string;
}

export interface AuditPage {
  items: AuditRecord[];
  nextCursor?: string;
}

export interface BreakerState {
  state: 'closed' | 'open' | 'probing';
  consecutiveFailures: number;
  /** Epoch ms; set while open. */
  nextProbeAt?: number;
  reason?: string;
}

export interface ConnectorHealth {
  id: string;
  breaker: BreakerState;
  deadLetters: number;
}

export interface RunRecord {
  runId: string;
  connectorId: string;
  state: 'planning' | 'awaiting-approval' | 'applying' | 'done' | 'failed' | 'cancelled';
  trigger: string;
  dryRun: boolean;
  phase: string;
  page: number;
  planPages: number;
  targetAccounts: number;
  counters: { situations: Record<string, number>; actions: Record<string, number> };
  created: string;
  updated: string;
  finished?: string;
  reason?: string;
  decision?: { by: string; at: string; approved: boolean };
  /** An operator asked for a full round. */
  full?: boolean;
  /** How an inbound source with a change feed was read: a full round, or only what changed. */
  feed?: { users: FeedRound; groups?: FeedRound };
}

export interface FeedRound {
  round: 'full' | 'changes';
  /** Why the round is full. */
  reason?: string;
}

export interface PlannedChange {
  situation: string;
  action: string;
  hubId?: string;
  targetId?: string;
  /** An orphan account's name as the target knows it, or a group's name there. */
  observedName?: string;
  reason: string;
  collidesWith?: string[];
}

export interface ConnectorOverview extends ConnectorHealth {
  lastRun: RunRecord | null;
  series: Array<{ hour: string; total: number; byStatus: Record<string, number> }>;
  totals: {
    operations: number;
    byStatus: Record<string, number>;
    byAction: Record<string, number>;
    errorRate: number;
    latencyMeasured: number;
    latencyP50Ms: number | null;
    latencyP99Ms: number | null;
  };
}

export interface Overview {
  from: string;
  to: string;
  hours: string[];
  hub: { users: number; groups: number };
  connectors: ConnectorOverview[];
}

export interface DeadLetter {
  messageId: string;
  groupId?: string;
  receiveCount: number;
  sentAt?: string;
  reason?: string;
  body: unknown;
}

export interface RedriveResult {
  moved: number;
  remaining: number;
  stoppedBy: 'empty' | 'max' | 'budget' | 'returned';
}

export interface OnDemandResult {
  connectorId: string;
  dryRun: boolean;
  resource: { type: 'User' | 'Group'; id: string; name?: string };
  situation?: string;
  steps: string[];
  calls: Array<{ operation: string; targetId?: string; attributes?: string[] }>;
  changes: AttributeChange[];
  outcome: { action: string; status: 'success' | 'skipped'; targetId?: string; reason?: string; collidesWith?: string };
  settle: 'queued' | 'none';
  durationMs: number;
}

/** A SCIM user or group as the directory answers it (RFC 7643). */
export interface ScimResource {
  id: string;
  userName?: string;
  displayName?: string;
  externalId?: string;
  active?: boolean;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  emails?: Array<{ value: string; type?: string; primary?: boolean }>;
  groups?: Array<{ value: string; display?: string }>;
  members?: Array<{ value: string; display?: string; type?: string }>;
  meta?: { created?: string; lastModified?: string; version?: string };
  [attribute: string]: unknown;
}

export interface ScimListResponse {
  totalResults: number;
  itemsPerPage: number;
  nextCursor?: string;
  Resources: ScimResource[];
}

/** Where a user or group is provisioned, per connector (GET /admin/directory/{type}/{id}). */
export interface Provisioning {
  connector: string;
  linked: boolean;
  targetId?: string;
  linkStatus?: 'active' | 'disabled';
  lastSync?: string;
  last?: { time: string; action: string; status: AuditStatus; trigger: string; actor?: string; reason?: string; error?: string };
}

export interface DirectoryEntry {
  resource: ScimResource;
  version: number;
  provisioning: Provisioning[];
}

/** An import job (GET /admin/imports/{id}): its state and what became of its rows so far. */
export interface ImportJob {
  jobId: string;
  state: 'receiving' | 'processing' | 'completed' | 'failed';
  source: string;
  options: { mode: string; match: string; provision: boolean; dryRun: boolean };
  rowOffset: number;
  chunksDone: number;
  totalChunks?: number;
  counters: { rows: number; created: number; updated: number; unchanged: number; rejected: number; groupsCreated: number };
  warnings: string[];
  error?: string;
}

/** A row the import refused: the line it starts on, the column, and why. */
export interface RejectedRow {
  row: number;
  column?: string;
  reason: string;
}
