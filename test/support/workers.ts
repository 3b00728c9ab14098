/**
 * How many integration test files run at once. Each worker gets a DynamoDB Local of its own
 * (global-setup.ts); two keep both cores of a small CI machine busy, where vitest's default (one
 * fewer than the cores) ran the integration files one after another.
 */
export const INTEGRATION_WORKERS = 2;
