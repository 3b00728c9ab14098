import '../infra/local/sdk-notices.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { localAwsConfig } from '../infra/local/local-aws.ts';
import { startLocalHub } from '../infra/local/runner.ts';
import { DynamoAuditLog } from '../shared/store/audit.repository.ts';
import { createDocumentClient } from '../shared/store/dynamodb.client.ts';
import { hubTable } from '../shared/topology/table.spec.ts';
import { hubTopology } from '../shared/topology/hub.topology.ts';
import { startScimmyServer } from '../test/support/scimmy-server.ts';

/**
 * What delivering 1 000 000 user changes to one connector costs on AWS (us-east-1 list prices),
 * from figures measured on the local hub running the deployed handlers: each new user goes
 * through the SCIM API, the table's stream, the fan-out, the connector's FIFO lane and the
 * worker, into a SCIM target (scimmy). Measured per change:
 *
 * - DynamoDB capacity units: every call a handler makes asks for ReturnConsumedCapacity (DynamoDB
 *   Local reports it as on-demand bills it), attributed to the function making it;
 * - Lambda GB-seconds: each invocation's duration (rounded up to the millisecond, as billed)
 *   times the memory the topology gives the function;
 * - SQS requests: the fan-out's sends and the worker's own calls, plus the event source mapping's
 *   receives that returned messages and its deletes;
 * - stream read requests: made by Lambda's DynamoDB trigger, which AWS does not bill.
 *
 * Durations are those of this machine, under whatever else runs on it: an upper bound for an
 * arm64 Lambda, whose CPU at 512 MB is comparable and which does nothing else.
 */
const root = resolve(import.meta.dirname, '..');
const HUB_TOKEN = 'bench-cost-token-0123456789';
const TARGET_TOKEN = 'bench-cost-target-0123456789';
const USERS = Number(process.env.COST_BENCH_USERS ?? 300);
const CHANGES = 1_000_000;

/** us-east-1 list prices (USD). */
const PRICE = {
  writeRequestUnit: 0.625 / 1_000_000,
  readRequestUnit: 0.125 / 1_000_000,
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1_000_000,
  sqsFifoRequest: 0.5 / 1_000_000,
  apiGatewayRestRequest: 3.5 / 1_000_000,
};

interface Meter {
  read: number;
  write: number;
  invocations: number;
  billedMs: number;
  sqs: number;
}

const meters = new Map<string, Meter>();
const meterOf = (name: string): Meter => {
  let meter = meters.get(name);
  if (!meter) {
    meter = { read: 0, write: 0, invocations: 0, billedMs: 0, sqs: 0 };
    meters.set(name, meter);
  }
  return meter;
};
const current = new AsyncLocalStorage<string>();
/** Calls made outside any function: the event source mapping polling the lane. */
const POLLER = 'lane polling (ESM)';
/** Calls the bench makes itself (reading the audit trail to see when the users arrived). */
const BENCH = 'bench (not billed)';

const READS = new Set([
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'TransactGetItemsCommand',
  'GetCommand',
  'BatchGetCommand',
  'TransactGetCommand',
]);
const CAPACITY = new Set([
  ...READS,
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'PutCommand',
  'UpdateCommand',
  'DeleteCommand',
  'BatchWriteCommand',
  'TransactWriteCommand',
]);

type Send = (command: { input: Record<string, unknown>; constructor: { name: string } }, ...rest: unknown[]) => Promise<Record<string, unknown>>;

/**
 * Meters every DynamoDB and SQS call made in this process: the handlers build their own clients
 * at load, so the clients' classes are wrapped, not instances. A document client's command runs
 * through its own send only (not the plain client's), so nothing is counted twice.
 */
const installMeters = () => {
  for (const Client of [DynamoDBClient, DynamoDBDocumentClient] as unknown as Array<{ prototype: { send: Send } }>) {
    const original = Client.prototype.send;
    Client.prototype.send = async function (this: unknown, command, ...rest) {
      const name = command.constructor.name;
      if (CAPACITY.has(name)) command.input.ReturnConsumedCapacity = 'TOTAL';
      const output = await original.call(this, command, ...rest);
      const meter = meterOf(current.getStore() ?? BENCH);
      for (const entry of [output.ConsumedCapacity].flat() as Array<{ CapacityUnits?: number } | undefined>) {
        if (!entry) continue;
        if (READS.has(name)) meter.read += entry.CapacityUnits ?? 0;
        else meter.write += entry.CapacityUnits ?? 0;
      }
      return output;
    };
  }
  const sqsSend = (SQSClient as unknown as { prototype: { send: Send } }).prototype.send;
  (SQSClient as unknown as { prototype: { send: Send } }).prototype.send = async function (this: unknown, command, ...rest) {
    const output = await sqsSend.call(this, command, ...rest);
    const fn = current.getStore();
    const name = command.constructor.name;
    if (fn) meterOf(fn).sqs += 1;
    // The mapping's long polls that found nothing are left out: Lambda's last 20 s each, ours 1 s.
    else if (name !== 'ReceiveMessageCommand' || ((output.Messages as unknown[] | undefined)?.length ?? 0) > 0) meterOf(POLLER).sqs += 1;
    return output;
  };
};

const user = (i: number) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: `cost-${i}@example.com`,
  name: { givenName: 'Cost', familyName: `User ${i}` },
  emails: [{ value: `cost-${i}@example.com`, type: 'work', primary: true }],
  active: true,
});

const usd = (value: number) => `$${value.toFixed(2)}`;

export const runCostBench = async (): Promise<void> => {
  installMeters();
  const target = await startScimmyServer(TARGET_TOKEN);
  const dynamodb = await startDynamoDbLocal();
  const connectorsFile = join(tmpdir(), `bench-cost-connectors-${Date.now()}.json`);
  writeFileSync(connectorsFile, JSON.stringify({ connectors: [{ id: 'target', type: 'scim', baseUrl: target.url, bearerToken: TARGET_TOKEN }] }));
  const hub = await startLocalHub({
    topology: hubTopology,
    table: hubTable,
    tableName: 'bench-cost',
    projectRoot: root,
    port: 0,
    dataDir: undefined,
    connectorIds: ['target'],
    scimBearerToken: HUB_TOKEN,
    environment: { LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true', CONNECTORS_FILE: connectorsFile },
    endpoints: { dynamodb: dynamodb.endpoint },
    streamIdleMs: 50,
  });
  // Each invocation runs in its function's context, as a Lambda would, and is timed.
  for (const fn of hub.functions.values()) {
    const invoke = fn.invoke.bind(fn);
    fn.invoke = (event) => {
      const started = performance.now();
      return current.run(fn.spec.name, async () => {
        try {
          return await invoke(event);
        } finally {
          const meter = meterOf(fn.spec.name);
          meter.invocations += 1;
          meter.billedMs += Math.ceil(performance.now() - started);
        }
      });
    };
  }
  const audit = new DynamoAuditLog(createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: dynamodb.endpoint })), 'bench-cost', 1);
  try {
    // Warm every function once (a cold start is paid once per container, not per change).
    const warm = await fetch(`${hub.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HUB_TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(user(-1)),
    });
    if (warm.status !== 201) throw new Error(`warm-up create answered ${warm.status}`);
    const applied = async () => (await audit.query({ connectorId: 'target', action: 'create', status: 'success', limit: 500 })).items.length;
    for (let waited = 0; (await applied()) < 1; waited += 200) {
      if (waited > 60_000) throw new Error('the warm-up user never reached the target');
      await new Promise((r) => setTimeout(r, 200));
    }
    meters.clear();

    // Act: USERS new users, 10 at a time, then wait until every one is on the target.
    for (let i = 0; i < USERS; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, USERS - i) }, (_, k) =>
          fetch(`${hub.url}/scim/v2/Users`, {
            method: 'POST',
            headers: { authorization: `Bearer ${HUB_TOKEN}`, 'content-type': 'application/scim+json' },
            body: JSON.stringify(user(i + k)),
          }).then((r) => {
            if (r.status !== 201) throw new Error(`create answered ${r.status}`);
          }),
        ),
      );
    }
    const deadline = Date.now() + 300_000;
    let count = 0;
    do {
      await new Promise((r) => setTimeout(r, 500));
      let cursor: string | undefined;
      count = 0;
      do {
        const page = await audit.query({ connectorId: 'target', action: 'create', status: 'success', limit: 500, cursor });
        count += page.items.length;
        cursor = page.next;
      } while (cursor);
    } while (count < USERS + 1 && Date.now() < deadline);
    if (count < USERS + 1) throw new Error(`only ${count - 1} of ${USERS} users reached the target`);
    // Let the lane's last deletes land.
    await new Promise((r) => setTimeout(r, 2_000));
  } finally {
    await hub.stop();
    await dynamodb.stop();
    await target.stop();
  }

  const memoryOf = (name: string) => hubTopology.functions.find((f) => f.name === name)?.memoryMb ?? 0;
  const perChange = (value: number) => value / USERS;
  const rows: Array<{ part: string; read: number; write: number; gbSeconds: number; invocations: number; sqs: number }> = [];
  for (const [part, meter] of meters) {
    rows.push({
      part,
      read: perChange(meter.read),
      write: perChange(meter.write),
      gbSeconds: perChange((meter.billedMs / 1000) * (memoryOf(part) / 1024)),
      invocations: perChange(meter.invocations),
      sqs: perChange(meter.sqs),
    });
  }
  const delivery = rows.filter((r) => r.part !== 'scim-api' && r.part !== 'scim-authorizer' && r.part !== BENCH);
  const ingress = rows.filter((r) => r.part === 'scim-api' || r.part === 'scim-authorizer');
  const cost = (subset: typeof rows) => {
    const ddbWrite = subset.reduce((sum, r) => sum + r.write, 0) * CHANGES * PRICE.writeRequestUnit;
    const ddbRead = subset.reduce((sum, r) => sum + r.read, 0) * CHANGES * PRICE.readRequestUnit;
    const lambdaDuration = subset.reduce((sum, r) => sum + r.gbSeconds, 0) * CHANGES * PRICE.lambdaGbSecondArm;
    const lambdaRequests = subset.reduce((sum, r) => sum + r.invocations, 0) * CHANGES * PRICE.lambdaRequest;
    const sqs = subset.reduce((sum, r) => sum + r.sqs, 0) * CHANGES * PRICE.sqsFifoRequest;
    return { ddbWrite, ddbRead, lambdaDuration, lambdaRequests, sqs, total: ddbWrite + ddbRead + lambdaDuration + lambdaRequests + sqs };
  };

  console.log(
    `\n## Cost of delivering ${CHANGES.toLocaleString('en-US')} user changes to one connector (us-east-1 list prices; measured over ${USERS} new users)`,
  );
  console.log('per change             WRU     RRU   invocations   GB-s        SQS requests');
  for (const r of rows.sort((a, b) => a.part.localeCompare(b.part))) {
    console.log(
      `${r.part.padEnd(22)} ${r.write.toFixed(2).padStart(5)}  ${r.read.toFixed(2).padStart(6)}   ${r.invocations.toFixed(3).padStart(9)}   ${r.gbSeconds.toFixed(5).padStart(8)}   ${r.sqs.toFixed(3).padStart(8)}`,
    );
  }
  const d = cost(delivery);
  console.log('\ndelivery (stream -> fanout -> FIFO lane -> worker -> target), per 1 000 000 changes:');
  console.log(`  DynamoDB writes       ${usd(d.ddbWrite).padStart(8)}   ($0.625 per million write request units)`);
  console.log(`  DynamoDB reads        ${usd(d.ddbRead).padStart(8)}   ($0.125 per million read request units)`);
  console.log(`  Lambda duration       ${usd(d.lambdaDuration).padStart(8)}   (arm64, $0.0000133334 per GB-s)`);
  console.log(`  Lambda requests       ${usd(d.lambdaRequests).padStart(8)}   ($0.20 per million)`);
  console.log(`  SQS requests          ${usd(d.sqs).padStart(8)}   (FIFO, $0.50 per million)`);
  console.log(`  stream reads          ${usd(0).padStart(8)}   (GetRecords by a Lambda trigger is not billed)`);
  console.log(`  total                 ${usd(d.total).padStart(8)}   aim: under $10`);
  const i = cost(ingress);
  const api = CHANGES * PRICE.apiGatewayRestRequest;
  console.log(
    `\nfor comparison, the IdP's SCIM writes themselves: ${usd(i.total)} in DynamoDB and Lambda, ${usd(api)} in API Gateway REST requests ($3.50 per million)`,
  );
};

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) await runCostBench();
