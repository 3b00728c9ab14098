import type { QueueSpec } from './topology.types.ts';

/** Queue and DLQ names, the same locally and in AWS. FIFO names must end in `.fifo`. */
export const queueNames = (spec: QueueSpec, connectorId?: string): { queue: string; dlq: string } => {
  const base = connectorId ? `${spec.name}-${connectorId}` : spec.name;
  const suffix = spec.fifo ? '.fifo' : '';
  return { queue: `${base}${suffix}`, dlq: `${base}-dlq${suffix}` };
};
