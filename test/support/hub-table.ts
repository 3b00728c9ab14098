import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import type { LocalHub } from '../../infra/local/runner.ts';
import { createDocumentClient } from '../../shared/store/dynamodb.client.ts';

/**
 * The table a test hub runs on, for what only the table can show (a password's stored form) or
 * set up (operator tokens). startTestHub exports TABLE_NAME to the handlers it loads in this
 * process, so that is the hub's table.
 */
export const hubTableOf = (hub: LocalHub) => {
  const tableName = process.env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set: start the hub first');
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb });
  return { tableName, documents: createDocumentClient(raw), close: () => raw.destroy() };
};
