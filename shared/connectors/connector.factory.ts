import { ConfigError } from '../errors.ts';
import type { Connector } from './connector.port.ts';
import type { ConnectorConfig } from './connectors.schema.ts';
import { resolveSecret } from './connectors.source.ts';
import { withResilience } from './resilience/resilient.connector.ts';
import { ScimConnector } from './scim/scim.connector.ts';

/** Builds the connector a document entry describes, wrapped in the shared resilience layer. */
export const createConnector = async (config: ConnectorConfig): Promise<Connector> => {
  const raw = await createRaw(config);
  return withResilience(raw, { requestsPerSecond: config.rateLimit?.requestsPerSecond });
};

const createRaw = async (config: ConnectorConfig): Promise<Connector> => {
  switch (config.type) {
    case 'scim':
      return new ScimConnector(config, await resolveSecret(config.bearerToken));
    case 'cognito':
      throw new ConfigError(`connector ${config.id}: the cognito connector type is not available in this build yet`);
  }
};
