import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import type { LocalHub } from '../../infra/local/runner.ts';
import { createDocumentClient } from '../../shared/store/dynamodb.client.ts';

/**
 * The table a test hub runs on, for what only the table can show (a password's stored form) or
 * set up (operator tokens).
 */
export const hubTableOf = (hub: LocalHub) => {
  const { tableName } = hub;
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb });
  return { tableName, documents: createDocumentClient(raw), close: () => raw.destroy() };
};
