import { defineConfig } from 'vitest/config';
import { INTEGRATION_WORKERS } from './test/support/workers.ts';

/**
 * Two projects. `unit` needs no Java and no service: pure logic and the use cases on in-memory
 * ports (`npm run test:unit`, seconds). `integration` runs on the local stand-ins (DynamoDB Local,
 * fauxqs, cognito-local, peer SCIM servers) and synthesises the stack. `npm test` runs both, on
 * INTEGRATION_WORKERS workers whatever the machine's core count, each on a DynamoDB Local of its
 * own, renewed every few files (test/support/dynamodb-pool.ts).
 */
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: INTEGRATION_WORKERS,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', 'test/conformance/**', 'node_modules/**'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/dynamodb-lease.setup.ts', 'test/support/drop-tables.setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
