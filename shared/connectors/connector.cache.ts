import { stableHash } from '../sync/stable-hash.ts';
import type { Connector } from './connector.port.ts';
import type { ConnectorConfig } from './connectors.schema.ts';

/**
 * Connectors built once per container and rebuilt when their document entry changes. A build
 * that failed (its secret unreadable, Secrets Manager throttling) is forgotten, so the next
 * batch builds it again rather than meeting the same rejected promise for the container's life.
 */
export const makeConnectorCache = (create: (config: ConnectorConfig) => Promise<Connector>) => {
  const built = new Map<string, { hash: string; connector: Promise<Connector> }>();
  return (config: ConnectorConfig): Promise<Connector> => {
    const hash = stableHash(config);
    const cached = built.get(config.id);
    if (cached && cached.hash === hash) return cached.connector;
    const entry = { hash, connector: create(config) };
    built.set(config.id, entry);
    entry.connector.catch(() => {
      if (built.get(config.id) === entry) built.delete(config.id);
    });
    return entry.connector;
  };
};
