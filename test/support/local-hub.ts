import { resolve } from 'node:path';
import { type LocalHub, type LocalHubOptions, startLocalHub } from '../../infra/local/runner.ts';
import { hubTable } from '../../shared/topology/table.spec.ts';
import { hubTopology } from '../../shared/topology/hub.topology.ts';
import type { RunRecord } from '../../shared/sync/reconcile-run.ports.ts';
import { eventually } from './eventually.ts';
import { uniqueTableName } from './names.ts';
import { testDynamoDbEndpoint } from './dynamodb.ts';

export const projectRoot = resolve(import.meta.dirname, '../..');
export const TEST_TOKEN = 'test-token-0123456789abcdef';

/**
 * The real hub topology on the test run's DynamoDB Local, with a table of its own, served on a
 * free port: the same handlers and the same API Gateway adapter as `npm start`.
 */
export const startTestHub = async (
  purpose: string,
  options: { ownDynamoDb?: boolean; connectorIds?: string[]; environment?: Record<string, string>; consoleAssets?: LocalHubOptions['consoleAssets'] } = {},
): Promise<LocalHub & { scim: string }> => {
  const hub = await startLocalHub({
    topology: hubTopology,
    table: hubTable,
    tableName: uniqueTableName(purpose),
    projectRoot,
    port: 0,
    dataDir: undefined,
    connectorIds: options.connectorIds ?? [],
    environment: { SCIM_BEARER_TOKEN: TEST_TOKEN, LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true', ...options.environment },
    // The conformance run starts a DynamoDB Local of its own, in memory, as `npm start` does.
    endpoints: options.ownDynamoDb ? undefined : { dynamodb: testDynamoDbEndpoint() },
    streamIdleMs: 50,
    consoleAssets: options.consoleAssets,
  });
  return Object.assign(hub, { scim: `${hub.url}/scim/v2` });
};

/** A small SCIM client for tests: JSON in, status, headers and JSON out. */
export const scimClient = (base: string, token = TEST_TOKEN) => {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined || typeof body === 'string' ? {} : { 'content-type': 'application/scim+json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected freely.
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json, text };
  };
  return {
    call,
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    put: (path: string, body: unknown, headers?: Record<string, string>) => call('PUT', path, body, headers),
    patch: (path: string, body: unknown, headers?: Record<string, string>) => call('PATCH', path, body, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
  };
};

/** The local hub's admin API with the operator token: status and JSON out. */
export const adminClient = (hub: Pick<LocalHub, 'url' | 'adminToken'>) => async (method: string, path: string) => {
  const response = await fetch(`${hub.url}/admin${path}`, { method, headers: { authorization: `Bearer ${hub.adminToken}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
};

/** A reconciliation run once it stops (done, failed, awaiting approval or cancelled), read through the admin API. */
export const runStopped = (admin: ReturnType<typeof adminClient>, runId: string) =>
  eventually(async () => {
    const run = (await admin('GET', `/runs/${runId}`)).json.run as RunRecord;
    if (!['done', 'failed', 'awaiting-approval', 'cancelled'].includes(run.state)) throw new Error(`run is ${run.state}`);
    return run;
  }, 30_000);
