import { inject } from 'vitest';
import { LEASED_ENDPOINT } from './dynamodb.ts';

/**
 * Before an integration file runs: the DynamoDB Local of its worker (vitest numbers workers
 * from 1 in VITEST_POOL_ID), leased from the run's pool, which may have just renewed it.
 */
const response = await fetch(`${inject('dynamodbLeaseUrl')}?pool=${process.env.VITEST_POOL_ID ?? '1'}`);
if (!response.ok) throw new Error(`no DynamoDB Local for this test file: ${await response.text()}`);
process.env[LEASED_ENDPOINT] = await response.text();
