import './sdk-notices.ts';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CognitoIdentityProviderClient, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { fileURLToPath } from 'node:url';
import { hubTable } from '#shared/topology/table.spec.ts';
import { hubTopology } from '#shared/topology/hub.topology.ts';
import { readConnectorsFile } from '#shared/connectors/connectors-document.ts';
import { ConfigError } from '#shared/errors.ts';
import { demoCognitoConnector, ensureUserPool, startCognitoLocal } from './cognito-local.ts';
import { JavaMissingError } from './dynamodb-local.ts';
import { localAwsConfig } from './local-aws.ts';
import { readLocalConfig } from './local-config.ts';
import { reconcileSchedulesOf } from '#shared/topology/connector-schedules.ts';
import { startLocalHub } from './runner.ts';
import { buildConsole } from '../console/console.build.ts';

/**
 * `npm start`: the whole hub on local stand-ins, configured by the environment. Prints where
 * everything is and stops cleanly on Ctrl-C or SIGTERM, leaving no child process behind.
 */
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TABLE_NAME = 'scim-hub';

const main = async () => {
  const started = Date.now();
  const config = readLocalConfig();
  let connectorsFile = config.connectorsFile ? resolve(config.connectorsFile) : undefined;
  // A bad document stops start-up here, naming the field.
  let connectors = connectorsFile ? readConnectorsFile(connectorsFile) : { connectors: [] };
  // Without a connectors document, show the whole job: provision into a local Cognito user pool.
  const cognito = connectorsFile ? undefined : await startCognitoLocal({ port: config.cognitoLocalPort, dataDir: config.dataDir });
  let demoPool: string | undefined;
  if (cognito) {
    try {
      demoPool = await ensureUserPool(cognito.endpoint, 'demo');
      const directory = config.dataDir ? resolve(config.dataDir) : mkdtempSync(join(tmpdir(), 'scim-hub-'));
      mkdirSync(directory, { recursive: true });
      connectorsFile = join(directory, 'connectors.demo.json');
      writeFileSync(connectorsFile, JSON.stringify({ connectors: [demoCognitoConnector(cognito.endpoint, demoPool)] }, null, 2));
      connectors = readConnectorsFile(connectorsFile);
    } catch (error) {
      await cognito.stop();
      throw error;
    }
  }
  // The console is built from its sources at every start (a few hundred ms), so what is served is what is checked in.
  const consoleAssets = await buildConsole().catch(async (error: unknown) => {
    await cognito?.stop();
    throw error;
  });
  const cognitoClient = cognito ? new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint: cognito.endpoint }) : undefined;
  const hub = await startLocalHub({
    topology: hubTopology,
    table: hubTable,
    tableName: TABLE_NAME,
    projectRoot,
    port: config.port,
    dataDir: config.dataDir,
    connectorIds: connectors.connectors.map((connector) => connector.id),
    reconcileSchedules: reconcileSchedulesOf(connectors.connectors),
    scimBearerToken: config.scimBearerToken,
    adminToken: config.adminToken,
    connectorsFile,
    consoleAssets,
    laneContainers: true,
    environment: {
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    healthChecks: cognitoClient
      ? {
          cognito: async () => {
            await cognitoClient.send(new ListUserPoolsCommand({ MaxResults: 1 }));
          },
        }
      : {},
  }).catch(async (error: unknown) => {
    await cognito?.stop();
    throw error;
  });

  const handoff = config.dataDir ? join(config.dataDir, 'local-endpoints.json') : undefined;
  if (config.dataDir && handoff) {
    // Lets operator commands (npm run tokens, npm run ops) find the running hub; the operator
    // token is in the file so that `npm run ops` can call /admin, hence owner-only permissions.
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(
      handoff,
      JSON.stringify({ url: hub.url, adminToken: hub.adminToken, dynamodb: hub.endpoints.dynamodb, sqs: hub.endpoints.sqs, tableName: TABLE_NAME }, null, 2),
      { mode: 0o600 },
    );
    chmodSync(handoff, 0o600);
  }

  const lines = [
    `SCIM hub is up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  SCIM base URL   ${hub.url.replace('127.0.0.1', 'localhost')}/scim/v2`,
    `  bearer token    ${config.scimBearerToken}${config.tokenGenerated ? '   (generated; set SCIM_BEARER_TOKEN to choose one)' : ''}`,
    `  admin token     ${hub.adminToken}${config.adminTokenGenerated ? '   (generated; set ADMIN_TOKEN to choose one)' : ''}`,
    `  admin API       ${hub.url}/admin  (Authorization: Bearer <admin token>)`,
    `  console         ${hub.url.replace('127.0.0.1', 'localhost')}/console/  (sign in with the admin token)`,
    `  health          ${hub.url}/health`,
    `  DynamoDB Local  ${hub.endpoints.dynamodb}  table ${TABLE_NAME}${hub.dynamodbLoopbackOnly ? '' : '  (listening on every interface: no javac found to bind it to 127.0.0.1; install a JDK)'}`,
    `  SQS (fauxqs)    ${hub.endpoints.sqs}`,
    `  data            ${config.dataDir ? resolve(config.dataDir) : 'in memory (DATA_DIR=memory)'}`,
    ...(cognito ? [`  Cognito (local) ${cognito.endpoint}  user pool demo = ${demoPool}`] : []),
    `  connectors      ${connectors.connectors.length === 0 ? 'none' : connectors.connectors.map((c) => `${c.id} (${c.type}${c.enabled ? '' : ', disabled'})`).join(', ')}`,
    '  Ctrl-C stops everything.',
  ];
  console.log(lines.join('\n'));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    hub
      .stop()
      .then(() => cognito?.stop())
      .then(() => {
        if (handoff) rmSync(handoff, { force: true });
      })
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
};

main().catch((error: unknown) => {
  if (error instanceof JavaMissingError || error instanceof ConfigError) console.error(error.message);
  else console.error('The hub failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
