import '../infra/local/sdk-notices.ts';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ensureDemoPool, startCognitoLocal } from '../infra/local/cognito-local.ts';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { localAwsConfig } from '../infra/local/local-aws.ts';
import { freePort } from '../infra/local/net.ts';
import { startLocalHub } from '../infra/local/runner.ts';
import { CognitoConnectorSchema } from '../shared/connectors/connectors.schema.ts';
import { containerShare, laneMaxConcurrency } from '../shared/connectors/resilience/lane-concurrency.ts';
import { DynamoAuditLog } from '../shared/store/audit.repository.ts';
import { createDocumentClient } from '../shared/store/dynamodb.client.ts';
import { hubTable } from '../shared/topology/table.spec.ts';
import { hubTopology } from '../shared/topology/hub.topology.ts';

/**
 * The initial load of a Cognito user pool: N users already in the hub (written while the
 * connector was disabled, so the figure is the lane's and not the hub's intake on a loaded
 * machine) reach the pool once it is enabled, through the real lane (FIFO queue, worker, the
 * Cognito connector with the rate limits it derives from Cognito's published quotas) into
 * cognito-local. The figure is the achieved rate next to the rate Cognito's quotas allow:
 *
 * - AdminCreateUser (UserCreation) 50/s: N / 50 s is the least any client can take;
 * - each new user is also looked up first (matching by username, metered at the UserList rate of
 *   30/s), so the quotas in use bound the load at 30 users/s;
 * - a lane's containers share those rates (lane-concurrency.ts); locally every batch runs in one
 *   process, which holds one container's share.
 *
 * `tsx bench/cognito-load.bench.ts [N]` (default 1 000).
 */
const root = resolve(import.meta.dirname, '..');
const HUB_TOKEN = 'bench-cognito-token-0123456789';
const CREATE_QUOTA = 50;
const LOOKUP_QUOTA = 30;
const BULK_SIZE = 100;

export const runCognitoLoadBench = async (users = 1000): Promise<void> => {
  const cognito = await startCognitoLocal({ port: await freePort() });
  const dynamodb = await startDynamoDbLocal().catch(async (error: unknown) => {
    await cognito.stop();
    throw error;
  });
  const poolId = await ensureDemoPool(cognito.endpoint, 'bench-load');
  const connector = CognitoConnectorSchema.parse({
    id: 'pool',
    type: 'cognito',
    userPoolId: poolId,
    region: localAwsConfig.region,
    endpoint: cognito.endpoint,
  });
  const connectorsFile = join(tmpdir(), `bench-cognito-${Date.now()}.json`);
  const writeConnector = (enabled: boolean) => writeFileSync(connectorsFile, JSON.stringify({ connectors: [{ ...connector, enabled }] }));
  writeConnector(false);
  const hub = await startLocalHub({
    topology: hubTopology,
    table: hubTable,
    tableName: 'bench-cognito-load',
    projectRoot: root,
    port: 0,
    dataDir: undefined,
    connectorIds: ['pool'],
    environment: {
      SCIM_BEARER_TOKEN: HUB_TOKEN,
      LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
      CONNECTORS_FILE: connectorsFile,
      CONNECTORS_REFRESH_SECONDS: '1',
    },
    endpoints: { dynamodb: dynamodb.endpoint },
    streamIdleMs: 20,
  }).catch(async (error: unknown) => {
    await dynamodb.stop();
    await cognito.stop();
    throw error;
  });
  const audit = new DynamoAuditLog(createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: dynamodb.endpoint })), 'bench-cognito-load', 1);
  const created = async () => {
    let count = 0;
    let last = 0;
    let cursor: string | undefined;
    do {
      const page = await audit.query({ connectorId: 'pool', action: 'create', status: 'success', limit: 500, cursor });
      count += page.items.length;
      for (const item of page.items) last = Math.max(last, Date.parse(item.time));
      cursor = page.next;
    } while (cursor);
    return { count, last };
  };

  try {
    console.log(`\n## Initial load of a Cognito user pool (${users} users through the lane into cognito-local)`);
    const start = Date.now();
    for (let batch = 0; batch * BULK_SIZE < users; batch++) {
      const size = Math.min(BULK_SIZE, users - batch * BULK_SIZE);
      for (let attempt = 1; ; attempt++) {
        const response = await fetch(`${hub.url}/scim/v2/Bulk`, {
          method: 'POST',
          headers: { authorization: `Bearer ${HUB_TOKEN}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({
            schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
            Operations: Array.from({ length: size }, (_, i) => ({
              method: 'POST',
              bulkId: `u${i}`,
              path: '/Users',
              data: {
                schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
                userName: `load-${batch}-${i}`,
                emails: [{ value: `load-${batch}-${i}@example.com`, primary: true }],
              },
            })),
          }),
        });
        if (response.status === 200) break;
        // A bulk request that outlasted API Gateway on a loaded machine is sent again, as an IdP would.
        if (response.status < 500 || attempt === 3) throw new Error(`bulk answered ${response.status}`);
      }
    }
    const written = Date.now();
    // Every change waits on the lane of the disabled connector; then it is enabled.
    const sqs = new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs });
    const lane = hub.queues.find((q) => q.connectorId === 'pool');
    for (;;) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: lane?.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      if (Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) >= users) break;
      if (Date.now() - written > 600_000) throw new Error('the fanout did not put every change on the lane in 10 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
    sqs.destroy();
    const enabled = Date.now();
    writeConnector(true);
    let done = await created();
    while (done.count < users) {
      if (Date.now() - enabled > 1_800_000) throw new Error(`only ${done.count} of ${users} users reached the pool in 30 minutes`);
      await new Promise((r) => setTimeout(r, 1000));
      done = await created();
    }
    const seconds = (done.last - enabled) / 1000;
    const achieved = users / seconds;
    const containers = laneMaxConcurrency();
    const quotaBound = Math.min(CREATE_QUOTA, LOOKUP_QUOTA);
    const localShare = containerShare(quotaBound, containers);
    console.log(
      `written to the hub in ${((written - start) / 1000).toFixed(1)} s (connector disabled); all ${users} in the pool ${seconds.toFixed(1)} s after it was enabled = ${achieved.toFixed(1)} users/s`,
    );
    console.log(
      `vs AdminCreateUser's quota alone (${CREATE_QUOTA}/s, the least any client needs: ${(users / CREATE_QUOTA).toFixed(0)} s)   ratio ${(achieved / CREATE_QUOTA).toFixed(2)}`,
    );
    console.log(
      `vs the quotas a new user uses (create ${CREATE_QUOTA}/s + lookup ${LOOKUP_QUOTA}/s: ${quotaBound}/s)       ratio ${(achieved / quotaBound).toFixed(2)}`,
    );
    console.log(
      `vs what one local process holds (1 of the lane's ${containers} containers: ${localShare}/s)         ratio ${(achieved / localShare).toFixed(2)}`,
    );
    console.log(
      `10 000 users: quota-bound in AWS (${containers} containers) ${(10_000 / quotaBound / 60).toFixed(1)} min; at this run's ratio to its bound, ${(10_000 / ((achieved / localShare) * quotaBound) / 60).toFixed(1)} min`,
    );
  } finally {
    await hub.stop();
    await dynamodb.stop();
    await cognito.stop();
  }
};

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const n = Number(process.argv[2] ?? 1000);
  await runCognitoLoadBench(Number.isInteger(n) && n > 0 ? n : 1000);
}
