import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localEnvironmentResources } from '../../../infra/local/granted-environment.ts';
import { loadFunction } from '../../../infra/local/lambda-runtime.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { environmentOf, GRANTED_VARIABLES } from '../../../shared/topology/function-environment.ts';
import { hubTopology } from '../../../shared/topology/hub.topology.ts';
import type { FunctionSpec, Grant } from '../../../shared/topology/topology.types.ts';

const projectRoot = resolve(import.meta.dirname, '../../..');
const resources = localEnvironmentResources({
  tableName: 'hub-table',
  queues: [
    { connectorId: 'acme', url: 'http://sqs.us-east-1.localhost:1/000000000000/connector-acme.fifo' },
    { connectorId: undefined, url: 'http://sqs.us-east-1.localhost:1/000000000000/reconcile.fifo', spec: { name: 'reconcile' } },
  ],
  connectorsFile: '/tmp/connectors.json',
});
const specOf = (name: string): FunctionSpec => {
  const spec = hubTopology.functions.find((fn) => fn.name === name);
  if (!spec) throw new Error(`no function ${name} in the topology`);
  return spec;
};
const grantedInProcess = () => Object.keys(GRANTED_VARIABLES).filter((name) => process.env[name] !== undefined);

describe('environmentOf', () => {
  it.each<[string, Grant[], Record<string, string>]>([
    ['nothing without grants', [], {}],
    ['the table name for a table read', [{ resource: 'table', access: 'read' }], { TABLE_NAME: 'hub-table' }],
    [
      'the table name and audit retention for a table write',
      [{ resource: 'table', access: 'readWrite' }],
      { TABLE_NAME: 'hub-table', AUDIT_RETENTION_DAYS: '365' },
    ],
    ['the table name for a stream read', [{ resource: 'stream', access: 'read' }], { TABLE_NAME: 'hub-table' }],
    [
      'the lanes by connector for queues',
      [{ resource: 'queues', access: 'send' }],
      {
        CONNECTOR_QUEUE_URLS: JSON.stringify({ acme: 'http://sqs.us-east-1.localhost:1/000000000000/connector-acme.fifo' }),
        HUB_QUEUE_URLS: JSON.stringify({ reconcile: 'http://sqs.us-east-1.localhost:1/000000000000/reconcile.fifo' }),
      },
    ],
    ['the connectors document for parameters', [{ resource: 'parameters', access: 'read' }], { CONNECTORS_FILE: '/tmp/connectors.json' }],
    ['no variable for secrets (the document names them by ARN)', [{ resource: 'secrets', access: 'read' }], {}],
  ])('gives %s', (_case, grants, expected) => {
    expect(environmentOf({ grants }, resources)).toEqual(expected);
  });

  it('names the SSM parameter, not a file, where the document is a parameter', () => {
    expect(
      environmentOf({ grants: [{ resource: 'parameters', access: 'read' }] }, { ...resources, connectorsDocument: { parameterName: '/hub/connectors' } }),
    ).toEqual({
      CONNECTORS_PARAMETER: '/hub/connectors',
    });
  });
});

describe('loadFunction with the environment of its grants', () => {
  afterEach(() => {
    for (const name of Object.keys(GRANTED_VARIABLES)) delete process.env[name];
  });

  it('fails a function that reads the table name without a table grant, naming the variable and the grant', async () => {
    // Prepare: the authorizer as if its topology entry had lost its grant
    const spec = { ...specOf('scim-authorizer'), grants: [] };
    process.env.TABLE_NAME = 'shared-by-accident';
    // Act
    const loading = loadFunction(spec, projectRoot, environmentOf(spec, resources));
    // Assess
    await expect(loading).rejects.toThrowError(ConfigError);
    await expect(loading).rejects.toThrowError(/TABLE_NAME is not set: the function needs a 'table' or 'stream' grant/);
  });

  it('fails a function that reads the connectors document without a parameters grant', async () => {
    // Prepare
    const spec = { ...specOf('admin-api'), grants: specOf('admin-api').grants.filter((grant) => grant.resource !== 'parameters') };
    // Act
    const loading = loadFunction(spec, projectRoot, environmentOf(spec, resources));
    // Assess
    await expect(loading).rejects.toThrowError(/needs a 'parameters' grant/);
  });

  it("loads a function with its grants' variables, and leaves none of them in the process", async () => {
    // Prepare
    const spec = specOf('fanout');
    // Act
    const fn = await loadFunction(spec, projectRoot, environmentOf(spec, resources));
    // Assess
    expect(Object.keys(fn.environment).sort()).toEqual(['CONNECTORS_FILE', 'CONNECTOR_QUEUE_URLS', 'HUB_QUEUE_URLS', 'TABLE_NAME']);
    expect(grantedInProcess()).toEqual([]);
  });
});
