import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import { ensureTable } from '../../infra/local/table.ts';
import { createDocumentClient } from '../../shared/store/dynamodb.client.ts';
import { hubTable } from '../../shared/topology/table.spec.ts';
import { uniqueTableName } from './names.ts';

/** A fresh hub table on the test run's DynamoDB Local, created exactly as the stack defines it. */
export const freshHubTable = async (purpose: string) => {
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint: inject('dynamodbEndpoint') });
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
