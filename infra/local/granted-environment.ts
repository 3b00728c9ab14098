import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_AUDIT_RETENTION_DAYS, type EnvironmentResources, IMPORT_BUCKET_NAME } from '#shared/topology/function-environment.ts';
import type { BucketSpec } from '#shared/topology/topology.types.ts';
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
  /** The directories standing in for the topology's buckets, by bucket name. */
  bucketDirectories?: Record<string, string>;
}): EnvironmentResources => ({
  tableName: values.tableName,
  connectorQueueUrls: JSON.stringify(Object.fromEntries(values.queues.flatMap((q) => (q.connectorId ? [[q.connectorId, q.url]] : [])))),
  hubQueueUrls: JSON.stringify(Object.fromEntries(values.queues.flatMap((q) => (q.connectorId || !q.spec ? [] : [[q.spec.name, q.url]])))),
  connectorsDocument: { file: values.connectorsFile },
  auditRetentionDays: DEFAULT_AUDIT_RETENTION_DAYS,
  importBucket: pathToFileURL(values.bucketDirectories?.[IMPORT_BUCKET_NAME] ?? join(tmpdir(), 'scim-hub-no-import-bucket')).href,
  // The hub serves the console on its own origin: no other origin may call the operator routes.
  consoleOrigin: '',
});

/**
 * The directories that stand in for the topology's buckets: under DATA_DIR, so uploads and
 * exports outlive a restart as a bucket's do, or in a temporary directory removed at stop.
 */
export const localBucketDirectories = (buckets: BucketSpec[], dataDir: string | undefined): { directories: Record<string, string>; remove(): void } => {
  const base = dataDir ? join(dataDir, 'buckets') : mkdtempSync(join(tmpdir(), 'scim-hub-buckets-'));
  const directories = Object.fromEntries(buckets.map((bucket) => [bucket.name, join(base, bucket.name)]));
  for (const directory of Object.values(directories)) mkdirSync(directory, { recursive: true });
  return { directories, remove: () => (dataDir ? undefined : rmSync(base, { recursive: true, force: true })) };
};

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
