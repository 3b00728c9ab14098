import type { Connector } from './connector.port.ts';
import type { ConnectorConfig } from './connectors.schema.ts';

/**
 * Connectors built once per container and rebuilt when their document entry changes. A build
 * that failed (its secret unreadable, Secrets Manager throttling) is forgotten, so the next
 * batch builds it again rather than meeting the same rejected promise for the container's life.
 */
export const makeConnectorCache = (create: (config: ConnectorConfig) => Promise<Connector>) => {
  const built = new Map<string, { entry: string; connector: Promise<Connector> }>();
  return (config: ConnectorConfig): Promise<Connector> => {
    // The validated entry serialises alike while it is unchanged (the schema fixes the key order).
    const entry = JSON.stringify(config);
    const cached = built.get(config.id);
    if (cached && cached.entry === entry) return cached.connector;
    const building = { entry, connector: create(config) };
    built.set(config.id, building);
    building.connector.catch(() => {
      if (built.get(config.id) === building) built.delete(config.id);
    });
    return building.connector;
  };
};
