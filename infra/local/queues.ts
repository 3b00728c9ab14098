import { interceptLocalhostDns, startFauxqs } from 'fauxqs';
import type { QueueSpec } from '#shared/topology/topology.types.ts';
import { queueNames } from '#shared/topology/queue-names.ts';

export interface LocalQueue {
  spec: QueueSpec;
  connectorId: string | undefined;
  name: string;
  url: string;
  arn: string;
  dlqName: string;
  dlqUrl: string;
}

export interface LocalSqs {
  endpoint: string;
  queues: LocalQueue[];
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in this process and creates every queue the topology declares, each with its
 * DLQ and redrive policy; per-connector queues once for each connector id.
 */
export const startLocalSqs = async (specs: QueueSpec[], connectorIds: string[], options: { port?: number } = {}): Promise<LocalSqs> => {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false });
  // fauxqs names queues `http://sqs.<region>.localhost:<port>/...` and the SDK sends requests to
  // the queue URL's host; make `*.localhost` resolve to loopback in this process, as browsers do.
  const restoreDns = interceptLocalhostDns();
  const queues: LocalQueue[] = [];
  for (const spec of specs) {
    for (const connectorId of spec.perConnector ? connectorIds : [undefined]) {
      const names = queueNames(spec, connectorId);
      const fifoAttributes: Record<string, string> = spec.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {};
      const retention = String(spec.retentionDays * 86_400);
      const dlq = server.createQueue(names.dlq, { attributes: { ...fifoAttributes, MessageRetentionPeriod: String(14 * 86_400) } });
      const queue = server.createQueue(names.queue, {
        attributes: {
          ...fifoAttributes,
          VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
          MessageRetentionPeriod: retention,
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(spec.maxReceiveCount) }),
        },
      });
      queues.push({
        spec,
        connectorId,
        name: names.queue,
        url: queue.queueUrl,
        arn: queue.queueArn,
        dlqName: names.dlq,
        dlqUrl: dlq.queueUrl,
      });
    }
  }
  return {
    endpoint: server.address,
    queues,
    stop: async () => {
      restoreDns();
      await server.stop();
    },
  };
};
