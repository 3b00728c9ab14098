import { describe, expect, it } from 'vitest';
import { localEnvironmentResources } from '../../infra/local/granted-environment.ts';
import { environmentOf } from '../../shared/topology/function-environment.ts';
import { hubTopology } from '../../shared/topology/hub.topology.ts';
import type { Topology } from '../../shared/topology/topology.types.ts';
import { fullTopology } from './fixtures/full.topology.ts';
import { functionProperties, synthHub } from './support/hub-synth.ts';

/** What every deployed function gets whatever its grants: the local runner's shared environment. */
const FUNCTION_DEFAULTS = ['LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];

/** The Parameters and Secrets extension's own settings, set by the stack with its layer: no extension runs locally. */
const EXTENSION_SETTINGS = /^(PARAMETERS_SECRETS_EXTENSION_|SSM_PARAMETER_STORE_|SECRETS_MANAGER_)/;

/** The connectors document is an SSM parameter in AWS and a file locally; every other name is the same. */
const asDeployed = (name: string) => (name === 'CONNECTORS_FILE' ? 'CONNECTORS_PARAMETER' : name);

/** The names the local runner gives a function (infra/local/runner.ts builds them this way). */
const localNames = (topology: Topology, name: string): string[] => {
  const spec = topology.functions.find((fn) => fn.name === name)!;
  const resources = localEnvironmentResources({
    tableName: 'scim-hub',
    queues: [{ connectorId: 'acme', url: 'http://sqs.us-east-1.localhost:1/000000000000/connector-acme.fifo' }],
    connectorsFile: 'connectors.json',
  });
  return Object.keys(environmentOf(spec, resources)).map(asDeployed).sort();
};

describe.each([
  ['the hub topology', hubTopology],
  ['a topology with every trigger kind', fullTopology],
])('the environment contract of %s', (_name, topology) => {
  const { template } = synthHub({ topology });

  it.each(topology.functions.map((fn) => [fn.name]))('gives %s the same variable names in AWS as locally', (name) => {
    // Prepare
    const variables = (functionProperties(template, name).Environment as { Variables: Record<string, unknown> }).Variables;
    // Act
    const deployed = Object.keys(variables)
      .filter((variable) => !FUNCTION_DEFAULTS.includes(variable) && !EXTENSION_SETTINGS.test(variable))
      .sort();
    // Assess
    expect(deployed).toEqual(localNames(topology, name));
  });
});
