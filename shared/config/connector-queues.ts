import * as z from 'zod';
import { jsonStringRecord } from './json-record.ts';

/**
 * CONNECTOR_QUEUE_URLS: `{"<connectorId>": "<queue url>"}` for every connector lane the stack
 * (or the local runner) created. A connector without a lane cannot be provisioned to. The
 * variable comes with the `queues` grant and is required: a function that reads it without the
 * grant fails at cold start rather than sending nowhere.
 */
export const ConnectorQueuesEnvSchema = z.object({
  CONNECTOR_QUEUE_URLS: jsonStringRecord('connector id to queue URL'),
  CONNECTORS_FILE: z.string().min(1).optional(),
  CONNECTORS_PARAMETER: z.string().min(1).optional(),
  /**
   * How often a worker container reads the connectors document again (an edited document needs
   * no deployment), and so how long a disabled connector's changes wait before they look at it
   * again: re-enabling a connector takes effect within about twice this.
   */
  CONNECTORS_REFRESH_SECONDS: z.coerce.number().int().min(1).max(900).default(60),
});

/** The DLQ of a lane: same name with `-dlq` before the `.fifo` suffix (see shared/topology/queue-names.ts). */
export const dlqUrlOf = (queueUrl: string): string => queueUrl.replace(/(\.fifo)?$/, (suffix) => `-dlq${suffix}`);
