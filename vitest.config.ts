import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit` needs no Java and no service: pure logic and the use cases on in-memory
 * ports (`npm run test:unit`, seconds). `integration` runs on the local stand-ins (DynamoDB Local,
 * fauxqs, cognito-local, peer SCIM servers) and synthesises the stack. `npm test` runs both.
 */
export default defineConfig({
  test: {
    pool: 'forks',
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
          setupFiles: ['test/support/drop-tables.setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
