import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptionsFor, lambdaBundleOptions } from '../../infra/aws/bundling.options.ts';
import { localAwsConfig, localAwsEnvironment } from '../../infra/local/local-aws.ts';
import { localEnvironmentResources } from '../../infra/local/granted-environment.ts';
import { type LocalSqs, startLocalSqs } from '../../infra/local/queues.ts';
import { issueToken } from '../../shared/auth/bearer-token.ts';
import { DynamoAuditLog } from '../../shared/store/audit.repository.ts';
import { TokenRepository } from '../../shared/store/token.repository.ts';
import { type EnvironmentResources, environmentOf } from '../../shared/topology/function-environment.ts';
import { hubTopology } from '../../shared/topology/hub.topology.ts';
import { freshHubTable, testDynamoDbEndpoint } from '../support/dynamodb.ts';
import { projectRoot } from '../support/local-hub.ts';

/**
 * Every function of the topology, bundled with the stack's own esbuild options (the bundling
 * test proves that these give the stack's asset byte for byte), imported in a fresh Node process
 * with nothing but a Lambda-like environment, and asked to answer one representative event
 * against DynamoDB Local and fauxqs. A bundle that builds but cannot start, cannot reach its
 * table or queues, or misreads its environment fails here rather than after a deploy.
 */

const CONNECTOR_ID = 'acme';
const workDir = mkdtempSync(join(tmpdir(), 'scim-hub-bundles-'));
const bundles = new Map<string, string>();
let sqs: LocalSqs;
let table: Awaited<ReturnType<typeof freshHubTable>>;
let environment: Record<string, string>;
/** The values behind the variables each function's grants give it (shared/topology/function-environment.ts). */
let granted: EnvironmentResources;

/**
 * fauxqs names its queues `sqs.<region>.localhost`, and the SQS client sends to the queue URL's
 * host. `*.localhost` is loopback by RFC 6761, but this machine's resolver does not say so: the
 * fresh process gets that one rule preloaded, and nothing else. The bundle itself is untouched.
 */
const LOCALHOST_DNS_PRELOAD = `data:text/javascript,${encodeURIComponent(`
import dns from 'node:dns';
const lookup = dns.lookup;
dns.lookup = (name, options, callback) => {
  const done = typeof options === 'function' ? options : callback;
  const all = typeof options === 'object' && options !== null && options.all;
  if (typeof name === 'string' && name.endsWith('.localhost')) return all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4);
  return lookup(name, options, callback);
};`)}`;

interface Invocation {
  result?: unknown;
  error?: string;
}

/** Imports the bundle in a fresh Node process, as Lambda does at cold start, and invokes its handler once. */
const specOf = (name: string) => {
  const spec = hubTopology.functions.find((fn) => fn.name === name);
  if (!spec) throw new Error(`no function ${name} in the topology`);
  return spec;
};

/** Imports one module of a bundle in a fresh Node process, with a Lambda-like Region: `loaded`, or why not. */
const importCold = (module: string): Promise<string> =>
  new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(module).href)}); process.stdout.write('loaded');`],
      { env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' }, encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => (error ? fail(new Error(`${module} did not load: ${stderr || error.message}`)) : done(stdout)),
    );
  });

const invokeBundle = (name: string, event: unknown): Promise<Invocation> => {
  const bundle = bundles.get(name);
  if (!bundle) throw new Error(`no bundle for ${name}`);
  const script = [
    `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
    `const context = { awsRequestId: 'request-1', functionName: ${JSON.stringify(name)}, functionVersion: '$LATEST', memoryLimitInMB: '512', getRemainingTimeInMillis: () => 10000 };`,
    'let answer;',
    `try { answer = { result: await handler(${JSON.stringify(event)}, context) }; } catch (error) { answer = { error: error instanceof Error ? error.message : String(error) }; }`,
    'process.stdout.write(JSON.stringify(answer));',
  ].join('\n');
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', LOCALHOST_DNS_PRELOAD, '--input-type=module', '-e', script],
      {
        env: {
          PATH: process.env.PATH,
          ...environment,
          ...environmentOf(specOf(name), granted),
          AWS_LAMBDA_FUNCTION_NAME: name,
          POWERTOOLS_SERVICE_NAME: name,
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        if (error) return fail(new Error(`${name} bundle crashed: ${stderr || error.message}`));
        try {
          done(JSON.parse(stdout) as Invocation);
        } catch {
          fail(new Error(`${name} bundle wrote no answer: ${stdout}\n${stderr}`));
        }
      },
    );
  });
};

const queue = () => {
  const found = sqs.queues.find((q) => q.connectorId === CONNECTOR_ID);
  if (!found) throw new Error('no lane for the connector');
  return found;
};

beforeAll(async () => {
  const built = hubTopology.functions.map(async (spec) => {
    const outdir = join(workDir, spec.name);
    await build({ ...esbuildOptionsFor(resolve(projectRoot, spec.entry), outdir), logLevel: 'error' });
    bundles.set(spec.name, join(outdir, lambdaBundleOptions.outputFile));
  });
  [table, sqs] = await Promise.all([freshHubTable('bundles'), startLocalSqs(hubTopology.queues, [CONNECTOR_ID]), ...built] as const);
  const connectorsFile = join(workDir, 'connectors.json');
  writeFileSync(
    connectorsFile,
    JSON.stringify({
      connectors: [{ id: CONNECTOR_ID, type: 'scim', enabled: true, baseUrl: 'http://127.0.0.1:9/scim/v2', bearerToken: 'target-token-0123456789' }],
    }),
  );
  environment = {
    ...localAwsEnvironment({ dynamodb: testDynamoDbEndpoint(), sqs: sqs.endpoint }),
    AWS_EC2_METADATA_DISABLED: 'true',
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  granted = localEnvironmentResources({ tableName: table.tableName, queues: [queue()], connectorsFile });
}, 120_000);

afterAll(async () => {
  await sqs?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe('each deployed bundle, started cold in its own Node process', () => {
  const methodArn = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/scim/v2/Users';
  const authorizerEvent = (authorization: string) => ({
    type: 'REQUEST',
    methodArn,
    resource: '/scim/v2/{proxy+}',
    path: '/scim/v2/Users',
    httpMethod: 'GET',
    headers: { Authorization: authorization },
    queryStringParameters: {},
    pathParameters: { proxy: 'Users' },
    stageVariables: {},
    requestContext: { requestId: 'request-1', stage: 'prod', path: '/prod/scim/v2/Users' },
  });

  it('scim-authorizer denies a token the table does not hold', async () => {
    // Act
    const answer = await invokeBundle('scim-authorizer', authorizerEvent('Bearer unknown-token-0123456789abcdef'));
    // Assess: throwing `Unauthorized` is the authorizer's deny (API Gateway answers 401)
    expect(answer).toEqual({ error: 'Unauthorized' });
  });

  it('scim-authorizer allows a token stored in the table, so the deny above came from a lookup that worked', async () => {
    // Prepare
    const issued = issueToken();
    await new TokenRepository(table.documents, table.tableName).put({
      id: issued.id,
      hash: issued.hash,
      name: 'bundle',
      created: new Date().toISOString(),
      strictUnknownAttributes: false,
    });
    // Act
    const answer = await invokeBundle('scim-authorizer', authorizerEvent(`Bearer ${issued.token}`));
    // Assess
    expect(answer.result).toEqual({
      principalId: issued.id,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*' }],
      },
      context: { tokenId: issued.id, strictUnknownAttributes: false },
    });
  });

  it('scim-api answers GET /ServiceProviderConfig with 200 and the document', async () => {
    // Act
    const answer = await invokeBundle('scim-api', {
      resource: '/scim/v2/{proxy+}',
      path: '/scim/v2/ServiceProviderConfig',
      httpMethod: 'GET',
      headers: { Accept: 'application/scim+json', Host: 'api.example.com' },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: { proxy: 'ServiceProviderConfig' },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        requestId: 'request-2',
        stage: 'prod',
        path: '/prod/scim/v2/ServiceProviderConfig',
        authorizer: { tokenId: 'environment', strictUnknownAttributes: 'false' },
      },
    });
    // Assess
    const response = answer.result as { statusCode: number; body: string };
    expect(answer.error).toBeUndefined();
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      filter: { supported: true },
    });
  });

  it('admin-api answers GET /admin/connectors with 200, the breaker from the table and the DLQ depth from SQS', async () => {
    // Prepare: one message on the lane's dead-letter queue, so the depth read is seen to be real
    const client = new SQSClient({ ...localAwsConfig, endpoint: sqs.endpoint });
    await client.send(new SendMessageCommand({ QueueUrl: queue().dlqUrl, MessageBody: '{}', MessageGroupId: 'g', MessageDeduplicationId: 'dead-1' }));
    // Act
    const answer = await invokeBundle('admin-api', {
      resource: '/admin/{proxy+}',
      path: '/admin/connectors',
      httpMethod: 'GET',
      headers: {},
      queryStringParameters: null,
      pathParameters: { proxy: 'connectors' },
      body: null,
      isBase64Encoded: false,
      requestContext: { requestId: 'request-3', stage: 'prod', path: '/prod/admin/connectors' },
    });
    // Assess
    const response = answer.result as { statusCode: number; body: string };
    expect(answer.error).toBeUndefined();
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ connectors: [{ id: CONNECTOR_ID, breaker: { state: 'closed' }, deadLetters: 1 }] });
  });

  it('fanout turns a small stream batch into messages on the lane, with no batch item failure', async () => {
    // Prepare
    const record = (id: string, sequence: string) => ({
      eventID: `event-${sequence}`,
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        Keys: { pk: { S: `USER#${id}` }, sk: { S: 'USER' } },
        NewImage: { pk: { S: `USER#${id}` }, sk: { S: 'USER' }, version: { N: '1' }, lastModified: { S: '2026-01-01T00:00:00.000Z' } },
        SequenceNumber: sequence,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    // Act
    const answer = await invokeBundle('fanout', { Records: [record('user-1', '100'), record('user-2', '101')] });
    // Assess
    expect(answer).toEqual({ result: { batchItemFailures: [] } });
    const client = new SQSClient({ ...localAwsConfig, endpoint: sqs.endpoint });
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl: queue().url, MaxNumberOfMessages: 10 }));
    expect((received.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}')).sort((a, b) => String(a.id).localeCompare(String(b.id)))).toEqual([
      { kind: 'user', id: 'user-1', connectorId: CONNECTOR_ID, trigger: 'realtime', changedAt: Date.parse('2026-01-01T00:00:00.000Z') },
      { kind: 'user', id: 'user-2', connectorId: CONNECTOR_ID, trigger: 'realtime', changedAt: Date.parse('2026-01-01T00:00:00.000Z') },
    ]);
  });

  it('connector-worker skips a change for a user the hub does not hold: no failure, a skipped audit record', async () => {
    // Act
    const answer = await invokeBundle('connector-worker', {
      Records: [
        {
          messageId: 'message-1',
          receiptHandle: 'receipt-1',
          body: JSON.stringify({ kind: 'user', connectorId: CONNECTOR_ID, id: 'no-such-user', trigger: 'realtime' }),
          attributes: {
            ApproximateReceiveCount: '1',
            SentTimestamp: '0',
            SenderId: 'x',
            ApproximateFirstReceiveTimestamp: '0',
            MessageGroupId: 'no-such-user',
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: queue().arn,
          awsRegion: 'us-east-1',
        },
      ],
    });
    // Assess
    expect(answer).toEqual({ result: { batchItemFailures: [] } });
    const audit = await new DynamoAuditLog(table.documents, table.tableName, 90).query({ connectorId: CONNECTOR_ID, resourceId: 'no-such-user', limit: 10 });
    expect(audit.items).toMatchObject([{ connectorId: CONNECTOR_ID, status: 'skipped', action: 'none', resourceType: 'User' }]);
  });

  it("connector-worker keeps each vendor's connector in a chunk that only its import() reads, and each chunk loads cold", async () => {
    // Prepare
    const bundle = bundles.get('connector-worker') as string;
    const chunkDirectory = join(dirname(bundle), lambdaBundleOptions.chunkDirectory);
    const index = readFileSync(bundle, 'utf8');
    for (const vendor of ['cognito', 'okta', 'entra', 'salesforce']) {
      const chunk = readdirSync(chunkDirectory).find((file) => file.startsWith(`${vendor}.connector-`) && file.endsWith('.mjs'));
      // Assess: the index reaches it by import() alone
      expect(chunk, vendor).toBeDefined();
      expect(index).toContain(`import("./${lambdaBundleOptions.chunkDirectory}/${chunk}")`);
      expect(index).not.toMatch(new RegExp(`from\\s*"\\./${lambdaBundleOptions.chunkDirectory}/${vendor}\\.connector-`));
      // Act, Assess: it and the chunks it imports load in a fresh process
      await expect(importCold(join(chunkDirectory, chunk as string))).resolves.toBe('loaded');
    }
  });
});
