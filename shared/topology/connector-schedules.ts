import type { ScheduleTrigger } from './topology.types.ts';

/**
 * The schedule triggers a `connector-schedule` trigger stands for: one per connector with a
 * reconciliation schedule, its detail naming the connector. The stack makes an EventBridge
 * rule of each and the local scheduler fires each, so both run the same expressions.
 */
export const connectorScheduleTriggers = (schedules: Readonly<Record<string, string>>): ScheduleTrigger[] =>
  Object.entries(schedules)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([connectorId, expression]) => ({ kind: 'schedule', expression, detail: { connectorId } }));

/** The reconciliation schedules of a connectors document: connector id to expression. */
export const reconcileSchedulesOf = (
  connectors: ReadonlyArray<{ id: string; enabled: boolean; reconcile?: { schedule?: string | undefined } | undefined }>,
): Record<string, string> => Object.fromEntries(connectors.flatMap((c) => (c.enabled && c.reconcile?.schedule ? [[c.id, c.reconcile.schedule]] : [])));
