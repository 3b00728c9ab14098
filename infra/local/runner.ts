import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { hashToken } from '#shared/auth/bearer-token.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { TokenRepository } from '#shared/store/token.repository.ts';
import { environmentOf, GRANTED_VARIABLES, isGrantedVariable } from '#shared/topology/function-environment.ts';
import { operatorBasePath } from '#shared/topology/operator-routes.ts';
import type { TableSpec } from '#shared/topology/table.spec.ts';
import type { AuthorizerTrigger, Topology } from '#shared/topology/topology.types.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { LocalBucketTrigger } from './bucket-trigger.ts';
import { localBucketDirectories, localEnvironmentResources, writeEmptyConnectorsFile } from './granted-environment.ts';
import { type BoundRoute, HttpAdapter } from './http-adapter.ts';
import { loadFunctionInContainers } from './lambda-containers.ts';
import { type LocalFunction, loadFunction } from './lambda-runtime.ts';
import { localAwsConfig, localAwsEnvironment } from './local-aws.ts';
import { connectorScheduleTriggers } from '#shared/topology/connector-schedules.ts';
import { DEFAULT_LANE_CONCURRENCY, QueuePoller } from './queue-poller.ts';
import { type LocalQueue, startLocalSqs } from './queues.ts';
import { LocalScheduler } from './scheduler.ts';
import { type StreamFailure, StreamPoller } from './stream-poller.ts';
import { ensureTable } from './table.ts';
import type { ConsoleAsset } from '../console/console.build.ts';
import { CONSOLE_PREFIX, serveConsole } from './console-site.ts';

export interface LocalHubOptions {
  topology: Topology;
  table: TableSpec;
  tableName: string;
  projectRoot: string;
  port: number;
  /** A directory for DynamoDB Local's files; undefined keeps everything in memory. */
  dataDir: string | undefined;
  connectorIds: string[];
  /** Reconciliation schedules of the connectors document: connector id to expression. */
  reconcileSchedules?: Record<string, string>;
  /**
   * Environment every handler sees, beyond the AWS endpoints and the variables its grants give
   * (shared/topology/function-environment.ts), which this may not set. A `SCIM_BEARER_TOKEN`
   * here is not passed on: it is stored as scimBearerToken is; a `CONNECTORS_FILE` here is
   * taken as connectorsFile.
   */
  environment: Record<string, string>;
  /**
   * The connectors document the functions with a `parameters` grant read (as CONNECTORS_FILE);
   * without one they read an empty document.
   */
  connectorsFile?: string;
  /**
   * A SCIM bearer token to accept (`SCIM_BEARER_TOKEN`): stored hashed in the table at start,
   * as `npm run tokens -- create` stores one, so the authorizer is the one AWS runs.
   */
  scimBearerToken?: string;
  /** The operator token the /admin routes take (`ADMIN_TOKEN`); generated when not given. */
  adminToken?: string;
  /** Extra parts to report in /health (e.g. cognito-local). */
  healthChecks?: Record<string, () => Promise<void>>;
  /** Already running stand-ins to use instead of starting new ones (the test suite shares them). */
  endpoints?: { dynamodb: string };
  /** How often idle stream shards are read again. */
  streamIdleMs?: number;
  /**
   * The most batches of one connector lane in flight at once, as the lane's event source
   * mapping's MaximumConcurrency caps Lambda (default DEFAULT_LANE_CONCURRENCY).
   */
  laneConcurrency?: number;
  /**
   * Runs the consumers of connector lanes in containers of their own (worker threads, up to the
   * lane concurrency for each lane), as Lambda runs them, rather than in the runner's thread
   * (`npm start` does; with no connector there is no lane, and nothing to start).
   */
  laneContainers?: boolean;
  /** The built operators' console (infra/console/console.build.ts), served under `/console/`. */
  consoleAssets?: Map<string, ConsoleAsset>;
}

export interface LocalHub {
  url: string;
  tableName: string;
  port: number;
  /** The operator token of the /admin routes. */
  adminToken: string;
  /** False when DynamoDB Local listens on every interface (no JDK to bind it to 127.0.0.1). */
  dynamodbLoopbackOnly: boolean;
  endpoints: { dynamodb: string; sqs: string };
  streamArn: string;
  queues: LocalQueue[];
  functions: Map<string, LocalFunction>;
  schedulers: LocalScheduler[];
  /** The SQS pollers, one per lane and consumer. */
  queuePollers: QueuePoller[];
  /** Records the stream pollers gave up on (the on-failure destination). */
  streamFailures: StreamFailure[];
  /** The directories standing in for the topology's buckets, by bucket name. */
  bucketDirectories: Record<string, string>;
  health(): Promise<{ ok: boolean; parts: Record<string, string> }>;
  stop(): Promise<void>;
}

/**
 * Runs a topology on local stand-ins: DynamoDB Local for the table and its stream, fauxqs for
 * the queues, and in-process pollers, an API Gateway adapter and a scheduler for the triggers.
 * The handlers are the very modules the stack deploys.
 */
export const startLocalHub = async (options: LocalHubOptions): Promise<LocalHub> => {
  const stops: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of stops.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error('stopping a local part failed:', error);
      }
    }
    stops.length = 0;
  };
  try {
    return await start(options, stops, stop);
  } catch (error) {
    await stop();
    throw error;
  }
};

const start = async (options: LocalHubOptions, stops: Array<() => Promise<void> | void>, stop: () => Promise<void>): Promise<LocalHub> => {
  let dynamodbEndpoint = options.endpoints?.dynamodb;
  let dynamodbLoopbackOnly = true;
  if (!dynamodbEndpoint) {
    const dynamodb = await startDynamoDbLocal({ dataDir: options.dataDir });
    stops.push(() => dynamodb.stop());
    dynamodbEndpoint = dynamodb.endpoint;
    dynamodbLoopbackOnly = dynamodb.loopbackOnly;
  }
  const sqs = await startLocalSqs(options.topology.queues, options.connectorIds);
  stops.push(() => sqs.stop());

  const dynamodbClient = new DynamoDBClient({ ...localAwsConfig, endpoint: dynamodbEndpoint });
  const streamsClient = new DynamoDBStreamsClient({ ...localAwsConfig, endpoint: dynamodbEndpoint });
  const sqsClient = new SQSClient({ ...localAwsConfig, endpoint: sqs.endpoint });
  stops.push(() => {
    dynamodbClient.destroy();
    streamsClient.destroy();
    sqsClient.destroy();
  });

  const existed = await tableExists(dynamodbClient, options.tableName);
  const streamArn = await ensureTable(dynamodbClient, options.table, options.tableName);

  const { SCIM_BEARER_TOKEN: environmentToken, CONNECTORS_FILE: environmentConnectorsFile, ...environment } = options.environment;
  const scimBearerToken = options.scimBearerToken ?? environmentToken;
  if (scimBearerToken) await storeStartToken(dynamodbClient, options.tableName, scimBearerToken);
  const adminToken = options.adminToken ?? `admin_${randomBytes(24).toString('base64url')}`;

  // Every function gets the variables of its own grants, from the contract the stack uses, and
  // no other's: the process itself holds none of them, so a function that was not granted one
  // fails here as it would in AWS (see loadFunction).
  const granted = Object.keys(environment).filter(isGrantedVariable);
  if (granted.length > 0) {
    throw new Error(`${granted.join(', ')} come from the functions' grants (shared/topology/function-environment.ts), not from the shared environment`);
  }
  let connectorsFile = options.connectorsFile ?? environmentConnectorsFile;
  if (!connectorsFile) {
    const empty = writeEmptyConnectorsFile();
    stops.push(() => empty.remove());
    connectorsFile = empty.path;
  }
  for (const name of Object.keys(GRANTED_VARIABLES)) delete process.env[name];
  Object.assign(process.env, localAwsEnvironment({ dynamodb: dynamodbEndpoint, sqs: sqs.endpoint }), environment);
  const buckets = localBucketDirectories(options.topology.buckets ?? [], options.dataDir);
  stops.push(() => buckets.remove());
  const resources = localEnvironmentResources({ tableName: options.tableName, queues: sqs.queues, connectorsFile, bucketDirectories: buckets.directories });

  const functions = new Map<string, LocalFunction>();
  const laneQueues = new Set(options.topology.queues.filter((q) => q.perConnector).map((q) => q.name));
  for (const spec of options.topology.functions) {
    const consumesLanes = spec.triggers.some((t) => t.kind === 'queue' && laneQueues.has(t.queue));
    const fn =
      options.laneContainers && consumesLanes && options.connectorIds.length > 0
        ? await loadFunctionInContainers(
            spec,
            options.projectRoot,
            environmentOf(spec, resources),
            (options.laneConcurrency ?? DEFAULT_LANE_CONCURRENCY) * Math.max(1, options.connectorIds.length),
          )
        : await loadFunction(spec, options.projectRoot, environmentOf(spec, resources));
    functions.set(spec.name, fn);
    if (fn.stop) stops.push(() => fn.stop?.());
  }

  const streamFailures: StreamFailure[] = [];
  const streamPollers: StreamPoller[] = [];
  const queuePollers: QueuePoller[] = [];
  const schedulers: LocalScheduler[] = [];
  const routes: BoundRoute[] = [];
  const authorizers = new Map<string, { trigger: AuthorizerTrigger; fn: LocalFunction }>();
  const invokable: LocalFunction[] = [];
  const bucketTriggers: LocalBucketTrigger[] = [];

  for (const fn of functions.values()) {
    for (const trigger of fn.spec.triggers) {
      switch (trigger.kind) {
        case 'http':
          for (const route of trigger.routes) routes.push({ route, auth: trigger.auth, target: fn });
          break;
        case 'lambda-authorizer':
          authorizers.set(fn.spec.name, { trigger, fn });
          break;
        case 'stream': {
          // A table that outlived the last run (DATA_DIR) has a stream history that was handled
          // then: start from the latest record rather than replaying it.
          const startingPosition = existed ? 'LATEST' : trigger.startingPosition;
          const poller = new StreamPoller(
            streamsClient,
            streamArn,
            trigger,
            fn,
            (failure) => {
              streamFailures.push(failure);
              console.error(`${failure.function} gave up on ${failure.records.length} stream record(s): ${failure.reason}`);
            },
            { startingPosition, idleMs: options.streamIdleMs },
          );
          streamPollers.push(poller);
          break;
        }
        case 'queue':
          for (const queue of sqs.queues.filter((q) => q.spec.name === trigger.queue)) {
            queuePollers.push(new QueuePoller(sqsClient, queue, trigger, fn, { maxConcurrency: options.laneConcurrency }));
          }
          break;
        case 'schedule':
          schedulers.push(new LocalScheduler(trigger, fn));
          break;
        case 'connector-schedule':
          for (const scheduled of connectorScheduleTriggers(options.reconcileSchedules ?? {})) schedulers.push(new LocalScheduler(scheduled, fn));
          break;
        case 'invoke':
          invokable.push(fn);
          break;
        case 'object-created': {
          const directory = buckets.directories[trigger.bucket];
          if (!directory) throw new Error(`${fn.spec.name} is triggered by bucket ${trigger.bucket}, which the topology does not declare`);
          bucketTriggers.push(new LocalBucketTrigger(directory, trigger.bucket, trigger, fn));
          break;
        }
      }
    }
  }

  for (const poller of [...streamPollers, ...queuePollers]) {
    poller.start();
    stops.push(() => poller.stop());
  }
  for (const trigger of bucketTriggers) {
    await trigger.start();
    stops.push(() => trigger.stop());
  }
  for (const scheduler of schedulers) {
    scheduler.start();
    stops.push(() => scheduler.stop());
  }

  const health = async () => {
    const parts: Record<string, string> = {};
    const check = async (name: string, probe: () => Promise<void>) => {
      try {
        await probe();
        parts[name] = 'ok';
      } catch (error) {
        parts[name] = error instanceof Error ? error.message : String(error);
      }
    };
    await Promise.all([
      check('dynamodb', async () => {
        await dynamodbClient.send(new DescribeTableCommand({ TableName: options.tableName }));
      }),
      check('sqs', async () => {
        await sqsClient.send(new ListQueuesCommand({}));
      }),
      check('stream', async () => {
        const failing = streamPollers.find((p) => !p.healthy);
        if (failing) throw new Error(`stream poller: ${failing.problem ?? 'stopped'}`);
      }),
      check('queues', async () => {
        const failing = queuePollers.find((p) => !p.healthy);
        if (failing) throw new Error(`queue poller: ${failing.problem ?? 'stopped'}`);
      }),
      ...Object.entries(options.healthChecks ?? {}).map(([name, probe]) => check(name, probe)),
    ]);
    return { ok: Object.values(parts).every((v) => v === 'ok'), parts };
  };

  const http = new HttpAdapter(routes, authorizers, adminToken);
  for (const fn of invokable) http.addInvokeTarget(fn);
  http.addLocalRoute('/health', async (response: ServerResponse) => {
    const result = await health();
    const failing = Object.entries(result.parts).filter(([, v]) => v !== 'ok');
    response.writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(
        result.ok
          ? { status: 'ok', parts: result.parts }
          : { status: 'unavailable', failing: failing.map(([name, why]) => `${name}: ${why}`), parts: result.parts },
      ),
    );
  });
  if (options.consoleAssets) {
    // Locally operators sign in with the operator token, and call the operator routes on the hub's own origin.
    const config = { apiBaseUrl: operatorBasePath(options.topology) ?? '/admin', signIn: { kind: 'token' as const } };
    http.addLocalSite(CONSOLE_PREFIX, serveConsole(options.consoleAssets, config));
  }
  const port = await http.listen(options.port);
  stops.push(() => http.close());

  return {
    url: `http://127.0.0.1:${port}`,
    tableName: options.tableName,
    port,
    adminToken,
    dynamodbLoopbackOnly,
    endpoints: { dynamodb: dynamodbEndpoint, sqs: sqs.endpoint },
    streamArn,
    queues: sqs.queues,
    functions,
    schedulers,
    queuePollers,
    streamFailures,
    bucketDirectories: buckets.directories,
    health,
    stop,
  };
};

const tableExists = async (client: DynamoDBClient, tableName: string): Promise<boolean> => {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch {
    return false;
  }
};

/**
 * Stores the start-up SCIM token hashed, as an operator-issued token: the same item
 * `npm run tokens -- create` writes. A token kept from an earlier start (DATA_DIR) is left as it
 * is, revocation included.
 */
const storeStartToken = async (client: DynamoDBClient, tableName: string, token: string): Promise<void> => {
  const tokens = new TokenRepository(createDocumentClient(client), tableName);
  const hash = hashToken(token);
  if (await tokens.findByHash(hash)) return;
  await tokens.put({
    id: `start${hash.slice(0, 12)}`,
    hash,
    name: 'SCIM_BEARER_TOKEN (npm start)',
    created: new Date().toISOString(),
    strictUnknownAttributes: false,
  });
};
