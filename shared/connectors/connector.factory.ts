import type { Connector } from './connector.port.ts';
import type { ConnectorConfig } from './connectors.schema.ts';
import { secretSourceOf } from './connectors.source.ts';
import { laneMaxConcurrency } from './resilience/lane-concurrency.ts';
import { withResilience } from './resilience/resilient.connector.ts';
import { ScimConnector } from './scim/scim.connector.ts';

/**
 * Builds the connector a document entry describes, wrapped in the shared resilience layer. Its
 * rates are this container's share of the lane's: see lane-concurrency.ts.
 */
export const createConnector = async (config: ConnectorConfig): Promise<Connector> => {
  const raw = await createRaw(config);
  const requestsPerSecond = config.rateLimit?.requestsPerSecond;
  return withResilience(raw, { requestsPerSecond, containers: laneMaxConcurrency(requestsPerSecond) });
};

const createRaw = async (config: ConnectorConfig): Promise<Connector> => {
  switch (config.type) {
    case 'scim': {
      // Read once now, so a secret that cannot be read fails the connector's construction.
      const token = secretSourceOf(config.bearerToken);
      await token.get();
      return new ScimConnector(config, token);
    }
    case 'cognito': {
      // Loaded on demand: functions that never meet a Cognito connector do not pay for its SDK at start.
      const { createCognitoConnector } = await import('./cognito/cognito.connector.ts');
      return createCognitoConnector(config);
    }
    case 'okta': {
      const { createOktaConnector } = await import('./okta/okta.connector.ts');
      return createOktaConnector(config);
    }
    case 'entra': {
      // Loaded on demand, like Cognito: only a function that meets an Entra connector evaluates the Graph client.
      const { createEntraConnector } = await import('./entra/entra.connector.ts');
      return createEntraConnector(config);
    }
    case 'salesforce': {
      const { createSalesforceConnector } = await import('./salesforce/salesforce.connector.ts');
      return createSalesforceConnector(config);
    }
  }
};
