import * as z from 'zod';
import { jsonStringRecord } from './json-record.ts';

/**
 * CONNECTOR_QUEUE_URLS: `{"<connectorId>": "<queue url>"}` for every connector lane the stack
 * (or the local runner) created. A connector without a lane cannot be provisioned to.
 */
export const ConnectorQueuesEnvSchema = z.object({
  CONNECTOR_QUEUE_URLS: jsonStringRecord('connector id to queue URL'),
  CONNECTORS_FILE: z.string().min(1).optional(),
  CONNECTORS_PARAMETER: z.string().min(1).optional(),
});

/** The DLQ of a lane: same name with `-dlq` before the `.fifo` suffix (see shared/topology/queue-names.ts). */
export const dlqUrlOf = (queueUrl: string): string => queueUrl.replace(/(\.fifo)?$/, (suffix) => `-dlq${suffix}`);
