import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local.ts';
import { INTEGRATION_WORKERS } from './workers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** One DynamoDB Local per integration worker, in the order of the workers' pool ids. */
    dynamodbEndpoints: string[];
  }
}

/**
 * One DynamoDB Local per integration worker for the whole test run (each takes about two
 * seconds to start); each test file isolates itself with tables of its own. DynamoDB Local runs
 * every SQLite statement on a single thread, and that thread, not the tests, was what a whole
 * run waited on: a second worker on the same instance would only queue behind the first.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const instances = await Promise.all(Array.from({ length: INTEGRATION_WORKERS }, () => startDynamoDbLocal()));
  project.provide(
    'dynamodbEndpoints',
    instances.map((instance) => instance.endpoint),
  );
  return async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
  };
}
