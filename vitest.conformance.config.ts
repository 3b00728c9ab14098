import { defineConfig } from 'vitest/config';

/** `npm run test:conformance`: Microsoft's and Okta's SCIM test suites against a fresh local hub. */
export default defineConfig({
  test: {
    include: ['test/conformance/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
