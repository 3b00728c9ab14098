import { DeleteTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { afterAll } from 'vitest';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import { namedTables } from './names.ts';
import { testDynamoDbEndpoint } from './dynamodb.ts';

/**
 * The integration files of one worker share one in-memory DynamoDB Local (global-setup.ts), and
 * each isolates itself with tables of its own. Each file's tables are dropped when it ends, after
 * the file's own afterAll hooks have stopped its hubs, so their items leave the JVM's heap. Their
 * stream records stay whatever is done (DynamoDB Local keeps those of dropped tables too), which
 * is why the pool renews an instance every few files (dynamodb-pool.ts). A table that lives
 * elsewhere (a hub with a DynamoDB Local of its own) is not found, and that is fine.
 */
afterAll(async () => {
  if (namedTables.size === 0) return;
  const client = new DynamoDBClient({ ...localAwsConfig, endpoint: testDynamoDbEndpoint() });
  try {
    for (const name of namedTables) {
      await client.send(new DeleteTableCommand({ TableName: name })).catch((error: unknown) => {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      });
    }
  } finally {
    namedTables.clear();
    client.destroy();
  }
});
