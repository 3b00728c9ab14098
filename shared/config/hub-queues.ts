import * as z from 'zod';
import { jsonStringRecord } from './json-record.ts';

/**
 * HUB_QUEUE_URLS: `{"<queue name>": "<queue url>"}` for the topology's queues that are not per
 * connector (the reconcile queue of run pages), as the stack or the local runner created them.
 */
export const HubQueuesEnvSchema = z.object({ HUB_QUEUE_URLS: jsonStringRecord('queue name to queue URL') });
