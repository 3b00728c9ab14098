import { hubTopology } from '#shared/topology/hub.topology.ts';
import { queueNames } from '#shared/topology/queue-names.ts';
import { namePrefix } from '../aws/hub.parameters.ts';

/**
 * A connector lane's physical queue names in a deployed stage, as the stack names them
 * (infra/aws/connector-lane.construct.ts): `scim-hub-<stage>-connector-<id>.fifo` and its DLQ.
 */
export const stageQueueNames = (stageName: string, connectorId: string): { queue: string; dlq: string } => {
  const lane = hubTopology.queues.find((queue) => queue.perConnector);
  if (!lane) throw new Error('the topology has no per-connector queue');
  const names = queueNames(lane, connectorId);
  const prefix = namePrefix({ stageName });
  return { queue: `${prefix}-${names.queue}`, dlq: `${prefix}-${names.dlq}` };
};

/** A queue shared by all connectors (`import`, `reconcile`) in a deployed stage: `scim-hub-<stage>-<name>`. */
export const stageHubQueueName = (stageName: string, name: string): string => {
  const spec = hubTopology.queues.find((queue) => queue.name === name && !queue.perConnector);
  if (!spec) throw new Error(`the topology has no shared queue ${name}`);
  return `${namePrefix({ stageName })}-${queueNames(spec, undefined).queue}`;
};
