import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import { ensureTable } from '../../infra/local/table.ts';
import { createDocumentClient } from '../../shared/store/dynamodb.client.ts';
import { hubTable } from '../../shared/topology/table.spec.ts';
import { uniqueTableName } from './names.ts';

/** Where dynamodb-lease.setup.ts puts the endpoint it leased for this test file. */
export const LEASED_ENDPOINT = 'TEST_DYNAMODB_ENDPOINT';

/** The DynamoDB Local this test file leased from the run's pool (dynamodb-lease.setup.ts). */
export const testDynamoDbEndpoint = (): string => {
  const endpoint = process.env[LEASED_ENDPOINT];
  if (!endpoint) throw new Error('no DynamoDB Local leased: integration files run test/support/dynamodb-lease.setup.ts first');
  return endpoint;
};

/** A fresh hub table on the test run's DynamoDB Local, created exactly as the stack defines it. */
export const freshHubTable = async (purpose: string) => {
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint: testDynamoDbEndpoint() });
  const tableName = uniqueTableName(purpose);
  await ensureTable(raw, hubTable, tableName);
  return { raw, documents: createDocumentClient(raw), tableName };
};

/** Every item of a table, read consistently: what a test inspects for leftovers. */
export const scanTable = async (documents: DynamoDBDocumentClient, tableName: string): Promise<Array<Record<string, unknown>>> => {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};

/**
 * A client of the test run's DynamoDB Local whose requests pass `intercept` first: it answers
 * (a promise that rejects, or never settles) for the requests it takes, undefined lets one
 * through. For failures DynamoDB Local cannot be made to produce: a transaction conflict on a hot
 * item, a process that dies between two writes.
 */
export const interceptedClient = (intercept: (command: string, input: Record<string, unknown>) => Promise<never> | undefined) => {
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint: testDynamoDbEndpoint() });
  raw.middlewareStack.add((next, context) => async (args) => intercept(context.commandName ?? '', args.input as Record<string, unknown>) ?? next(args), {
    step: 'finalizeRequest',
    name: 'intercept',
  });
  return { raw, documents: createDocumentClient(raw) };
};
