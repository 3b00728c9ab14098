import type { TestProject } from 'vitest/node';
import { startDynamoDbPool } from './dynamodb-pool.ts';
import { INTEGRATION_WORKERS } from './workers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where an integration file leases its worker's DynamoDB Local (dynamodb-lease.setup.ts). */
    dynamodbLeaseUrl: string;
  }
}

/**
 * DynamoDB Local for the test run: one per integration worker, renewed every few files
 * (dynamodb-pool.ts); each test file isolates itself with tables of its own. DynamoDB Local
 * runs every SQLite statement on a single thread, and that thread, not the tests, was what a
 * whole run waited on: a second worker on the same instance would only queue behind the first.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pool = await startDynamoDbPool(INTEGRATION_WORKERS);
  project.provide('dynamodbLeaseUrl', pool.leaseUrl);
  return () => pool.stop();
}
