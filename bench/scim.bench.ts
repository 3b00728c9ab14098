import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { localAwsConfig } from '../infra/local/local-aws.ts';
import { startLocalHub } from '../infra/local/runner.ts';
import { ensureTable } from '../infra/local/table.ts';
import { makeDirectory } from '../shared/directory/directory.service.ts';
import { DynamoDirectoryStore } from '../shared/store/directory.repository.ts';
import { createDocumentClient } from '../shared/store/dynamodb.client.ts';
import { membershipIndexKey, membershipKey, resourceKey } from '../shared/store/hub-table.layout.ts';
import { hubTable } from '../shared/topology/table.spec.ts';
import { hubTopology } from '../shared/topology/hub.topology.ts';
import { routeScimRequest } from '../functions/scim-api/scim-router.ts';
import { InMemoryDirectoryStore } from '../test/builders/in-memory-directory.store.ts';

/**
 * The SCIM server's cost and speed: DynamoDB capacity units per operation (what an AWS bill
 * is made of), requests per second through the local stack next to the raw DynamoDB Local rate
 * for the same writes and reads (this machine's ceiling), and the handler's own CPU time per
 * request with the store taken out.
 */
const root = resolve(import.meta.dirname, '..');
const TOKEN = 'bench-scim-token-0123456789';
const ctx = { baseUrl: 'https://hub.example/scim/v2', strictUnknownAttributes: false };
const user = (userName: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  name: { givenName: 'Bench', familyName: 'User' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
});
const PATCH = (value: string) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value }] });

/** A DynamoDB client that asks for and adds up the capacity every call consumed. */
const meteredClient = (endpoint: string) => {
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint });
  const meter = { read: 0, write: 0, emptyQueries: 0 };
  const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      for (const entry of [consumed].flat() as Array<{ ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number } | undefined>) {
        if (!entry) continue;
        // DynamoDB Local reports only the total: the command says whether it read or wrote.
        if (READS.has(context.commandName ?? '')) meter.read += entry.CapacityUnits ?? 0;
        else meter.write += entry.CapacityUnits ?? 0;
        // DynamoDB Local reports 0 for a Query that reads nothing; DynamoDB bills it 0.5 or 1 RCU.
        if (context.commandName === 'QueryCommand' && !entry.CapacityUnits) meter.emptyQueries++;
      }
      return result;
    },
    { step: 'initialize', name: 'consumedCapacityMeter' },
  );
  return { raw, meter };
};

const capacity = async (endpoint: string) => {
  const tableName = `bench-capacity-${randomUUID().slice(0, 6)}`;
  const { raw, meter } = meteredClient(endpoint);
  await ensureTable(raw, hubTable, tableName);
  const documents = createDocumentClient(raw);
  const directory = makeDirectory({
    store: new DynamoDirectoryStore(documents, tableName),
    clock: () => new Date(),
    newId: randomUUID,
    onUnknownAttributes: () => undefined,
  });
  const rows: Array<[string, number, number, number]> = [];
  const measure = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    meter.read = 0;
    meter.write = 0;
    meter.emptyQueries = 0;
    const result = await run();
    rows.push([name, meter.read, meter.write, meter.emptyQueries]);
    return result;
  };
  const ada = await measure('create user', () => directory.create('User', user('ada@example.com'), ctx));
  // Entra ID and Okta send an externalId with every user.
  await measure('create user with externalId', () => directory.create('User', { ...user('grace@example.com'), externalId: 'ext-grace' }, ctx));
  await measure('get user', () => directory.get('User', String(ada.resource.id), {}, ctx));
  await measure('filter userName eq', () => directory.list('User', { filter: 'userName eq "ADA@example.com"' }, ctx));
  await measure('PATCH one attribute', () => directory.patch('User', String(ada.resource.id), PATCH('Countess'), undefined, ctx));

  const members: string[] = [];
  for (let i = 0; i < 11; i++) members.push(String((await directory.create('User', user(`m${i}@example.com`), ctx)).resource.id));
  const small = await directory.create(
    'Group',
    { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Ten', members: members.slice(0, 10).map((value) => ({ value })) },
    ctx,
  );
  const big = await directory.create('Group', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Hundred thousand' }, ctx);
  // Seeded straight into the table (not through the API): 100 000 membership items and the count.
  const bigId = String(big.resource.id);
  const seed = Array.from({ length: 100_000 }, (_, i) => `seed-${i}`);
  const seedClient = createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint }));
  for (let start = 0; start < seed.length; start += 25 * 8) {
    await Promise.all(
      Array.from({ length: 8 }, (_, k) => seed.slice(start + k * 25, start + (k + 1) * 25))
        .filter((part) => part.length > 0)
        .map((part) =>
          seedClient.send(
            new BatchWriteCommand({
              RequestItems: {
                [tableName]: part.map((id) => ({
                  PutRequest: { Item: { ...membershipKey(bigId, id), ...membershipIndexKey(bigId, id), groupId: bigId, value: id, type: 'User' } },
                })),
              },
            }),
          ),
        ),
    );
  }
  await seedClient.send(
    new UpdateCommand({
      TableName: tableName,
      Key: resourceKey('Group', bigId),
      UpdateExpression: 'SET memberCount = :n',
      ExpressionAttributeValues: { ':n': seed.length },
    }),
  );
  const addOne = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: members[10] }] }] };
  await measure('add 1 member, group of 10', () =>
    directory.patch('Group', String(small.resource.id), addOne, undefined, ctx, { excludedAttributes: ['members'] }),
  );
  await measure('add 1 member, group of 100 000', () => directory.patch('Group', bigId, addOne, undefined, ctx, { excludedAttributes: ['members'] }));
  await measure('GET group of 100 000, excludedAttributes=members', () => directory.get('Group', bigId, { excludedAttributes: ['members'] }, ctx));
  const check = await seedClient.send(new GetCommand({ TableName: tableName, Key: resourceKey('Group', bigId) }));

  console.log('\n## DynamoDB capacity units per SCIM operation (DynamoDB Local, on-demand accounting)');
  console.log(`${'operation'.padEnd(50)} ${'RCU'.padStart(6)} ${'WCU'.padStart(6)} ${'empty Query'.padStart(12)}`);
  for (const [name, read, write, empty] of rows) {
    console.log(`${name.padEnd(50)} ${read.toFixed(1).padStart(6)} ${write.toFixed(1).padStart(6)} ${String(empty).padStart(12)}`);
  }
  console.log(
    '(DynamoDB Local reports 0 RCU for a Query that reads nothing, e.g. the groups of a user in none; DynamoDB bills each 0.5 RCU, so add 0.5 per empty Query for AWS)',
  );
  console.log(`(the 100 000-member group was seeded with BatchWrite, bypassing the API; its memberCount is now ${check.Item?.memberCount})`);
  raw.destroy();
  seedClient.destroy();
};

const pool = async (count: number, concurrency: number, run: (i: number) => Promise<void>): Promise<number> => {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await run(next++);
    }),
  );
  return count / ((performance.now() - started) / 1000);
};

/**
 * A keep-alive HTTP/1.1 client for the rate runs. Node 20's fetch (undici, web streams) spends
 * about half a millisecond of CPU per request, in the same process and on the same two cores
 * as the hub and DynamoDB Local: that is the load generator's cost, not the hub's.
 */
const httpClient = (base: string, concurrency: number) => {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const call = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; text: string }>((resolveCall, reject) => {
      const outgoing = request(
        `${base}${path}`,
        { method, agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => resolveCall({ status: incoming.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  return { call, close: () => agent.destroy() };
};

const throughput = async (endpoint: string) => {
  const ROUNDS = 6;
  const PER_ROUND = 250;
  const CONCURRENCY = 16;
  const hub = await startLocalHub({
    topology: { functions: hubTopology.functions.filter((f) => f.name.startsWith('scim-')), queues: [] },
    table: hubTable,
    tableName: `bench-rps-${randomUUID().slice(0, 6)}`,
    projectRoot: root,
    port: 0,
    dataDir: undefined,
    connectorIds: [],
    environment: { SCIM_BEARER_TOKEN: TOKEN, LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
    endpoints: { dynamodb: endpoint },
  });
  // The same work made directly: the store's create transaction, and a GET's two reads.
  const rawTable = `bench-raw-${randomUUID().slice(0, 6)}`;
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint });
  await ensureTable(raw, hubTable, rawTable);
  const store = new DynamoDirectoryStore(createDocumentClient(raw), rawTable);
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };
  const http = httpClient(hub.url, CONCURRENCY);
  const hubIds: string[] = [];
  const rawIds: string[] = [];
  const seconds = { hubCreate: 0, rawCreate: 0, hubGet: 0, rawGet: 0 };
  const timed = async (key: keyof typeof seconds, run: () => Promise<unknown>) => {
    const started = performance.now();
    await run();
    seconds[key] += (performance.now() - started) / 1000;
  };
  // Rounds alternate between the hub and the direct calls, so DynamoDB Local slowing down as
  // its database grows (or a busy neighbour) weighs on both sides alike.
  for (let round = 0; round < ROUNDS; round++) {
    const offset = round * PER_ROUND;
    await timed('rawCreate', () =>
      pool(PER_ROUND, CONCURRENCY, async (i) => {
        const id = randomUUID();
        const now = new Date().toISOString();
        const name = `raw-${offset + i}@example.com`;
        await store.create(
          { id, resourceType: 'User', version: 1, created: now, lastModified: now, data: user(name) },
          { uniques: [{ attribute: 'userName', value: name }], emails: [name] },
        );
        rawIds.push(id);
      }),
    );
    await timed('hubCreate', () =>
      pool(PER_ROUND, CONCURRENCY, async (i) => {
        const response = await http.call('POST', '/scim/v2/Users', headers, JSON.stringify(user(`rps-${offset + i}@example.com`)));
        if (response.status !== 201) throw new Error(`create answered ${response.status}: ${response.text}`);
        hubIds.push(String((JSON.parse(response.text) as { id: string }).id));
      }),
    );
  }
  for (let round = 0; round < ROUNDS; round++) {
    const offset = round * PER_ROUND;
    await timed('rawGet', () =>
      pool(PER_ROUND, CONCURRENCY, async (i) => {
        await store.get('User', rawIds[offset + i] ?? '');
        await store.groupIdsOf(rawIds[offset + i] ?? '');
      }),
    );
    await timed('hubGet', () =>
      pool(PER_ROUND, CONCURRENCY, async (i) => {
        const response = await http.call('GET', `/scim/v2/Users/${hubIds[offset + i]}`, headers);
        if (response.status !== 200) throw new Error(`get answered ${response.status}: ${response.text}`);
      }),
    );
  }
  http.close();
  await hub.stop();
  raw.destroy();
  const n = ROUNDS * PER_ROUND;
  const rate = (key: keyof typeof seconds) => n / seconds[key];
  console.log(
    `\n## Requests per second, ${n} each at concurrency ${CONCURRENCY}, in ${ROUNDS} alternating rounds (local stack over HTTP vs the same DynamoDB calls made directly)`,
  );
  console.log(`${'operation'.padEnd(12)} ${'hub (req/s)'.padStart(12)} ${'raw DynamoDB Local (/s)'.padStart(24)} ${'ratio'.padStart(7)}`);
  console.log(
    `${'create'.padEnd(12)} ${rate('hubCreate').toFixed(0).padStart(12)} ${rate('rawCreate').toFixed(0).padStart(24)} ${`${((rate('hubCreate') / rate('rawCreate')) * 100).toFixed(0)}%`.padStart(7)}`,
  );
  console.log(
    `${'get'.padEnd(12)} ${rate('hubGet').toFixed(0).padStart(12)} ${rate('rawGet').toFixed(0).padStart(24)} ${`${((rate('hubGet') / rate('rawGet')) * 100).toFixed(0)}%`.padStart(7)}`,
  );
  console.log("(raw create = the store's TransactWriteItems; raw get = the user read plus its groups query, as a GET does)");
};

const handlerCpu = async () => {
  const directory = makeDirectory({ store: new InMemoryDirectoryStore(), clock: () => new Date(), newId: randomUUID, onUnknownAttributes: () => undefined });
  const event = (method: string, path: string, body?: unknown, query?: Record<string, string>): APIGatewayProxyEvent =>
    ({
      httpMethod: method,
      path: `/scim/v2${path}`,
      headers: { host: 'hub.example', 'content-type': 'application/scim+json' },
      queryStringParameters: query ?? null,
      body: body === undefined ? null : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { path: `/scim/v2${path}` },
    }) as unknown as APIGatewayProxyEvent;
  const deps = { directory, baseUrl: 'https://hub.example/scim/v2' };
  const N = 2000;
  const rows: Array<[string, number]> = [];
  const cpu = async (name: string, run: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await run(i + N); // warm up
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) await run(i);
    const used = process.cpuUsage(before);
    rows.push([name, (used.user + used.system) / N]);
  };
  const ids: string[] = [];
  await cpu('create', async (i) => {
    const result = await routeScimRequest(event('POST', '/Users', user(`cpu-${i}@example.com`)), deps);
    if (i < N) ids.push(String(JSON.parse(result.body).id));
  });
  await cpu('get', (i) => routeScimRequest(event('GET', `/Users/${ids[i % ids.length]}`), deps));
  await cpu('PATCH', (i) => routeScimRequest(event('PATCH', `/Users/${ids[i % ids.length]}`, PATCH(`t${i}`)), deps));
  await cpu('filter userName eq', (i) => routeScimRequest(event('GET', '/Users', undefined, { filter: `userName eq "cpu-${i % N}@example.com"` }), deps));
  console.log(`\n## Handler CPU time per request, store excluded (in-memory store, ${N} requests each)`);
  for (const [name, micros] of rows) console.log(`${name.padEnd(22)} ${micros.toFixed(0).padStart(6)} µs`);
};

/** Each part gets a fresh in-memory DynamoDB Local: the 100 000 seeded items would slow the rate runs down. */
const withDynamoDb = async (run: (endpoint: string) => Promise<void>) => {
  const dynamodb = await startDynamoDbLocal();
  try {
    await run(dynamodb.endpoint);
  } finally {
    await dynamodb.stop();
  }
};

export const runScimBench = async (parts: string[] = ['capacity', 'throughput', 'cpu']): Promise<void> => {
  if (parts.includes('capacity')) await withDynamoDb(capacity);
  if (parts.includes('throughput')) await withDynamoDb(throughput);
  if (parts.includes('cpu')) await handlerCpu();
};

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url)
  await runScimBench(process.argv.slice(2).length ? process.argv.slice(2) : undefined);
