import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AUDIT_RETENTION_DAYS, type EnvironmentResources } from '#shared/topology/function-environment.ts';
import type { LocalQueue } from './queues.ts';

/**
 * The local values behind the variables grants give (shared/topology/function-environment.ts):
 * the local table, the fauxqs lane URLs in the shape the stack passes, and the connectors
 * document as a file, since no SSM stand-in runs.
 */
export const localEnvironmentResources = (values: {
  tableName: string;
  queues: Array<Pick<LocalQueue, 'connectorId' | 'url'> & { spec?: Pick<LocalQueue['spec'], 'name'> }>;
  connectorsFile: string;
}): EnvironmentResources => ({
  tableName: values.tableName,
  connectorQueueUrls: JSON.stringify(Object.fromEntries(values.queues.flatMap((q) => (q.connectorId ? [[q.connectorId, q.url]] : [])))),
  hubQueueUrls: JSON.stringify(Object.fromEntries(values.queues.flatMap((q) => (q.connectorId || !q.spec ? [] : [[q.spec.name, q.url]])))),
  connectorsDocument: { file: values.connectorsFile },
  auditRetentionDays: DEFAULT_AUDIT_RETENTION_DAYS,
  // The hub serves the console on its own origin: no other origin may call the operator routes.
  consoleOrigin: '',
});

/**
 * A connectors document with no connectors, for a hub started without one: in AWS the
 * parameter always exists, so a function granted it always finds a document.
 */
export const writeEmptyConnectorsFile = (): { path: string; remove(): void } => {
  const directory = mkdtempSync(join(tmpdir(), 'scim-hub-connectors-'));
  const path = join(directory, 'connectors.none.json');
  writeFileSync(path, JSON.stringify({ connectors: [] }));
  return { path, remove: () => rmSync(directory, { recursive: true, force: true }) };
};
