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
