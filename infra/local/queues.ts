import { Server } from 'node:net';
import { type FauxqsServer, interceptLocalhostDns, startFauxqs } from 'fauxqs';
import type { QueueSpec } from '#shared/topology/topology.types.ts';
import { queueNames } from '#shared/topology/queue-names.ts';
import { receiveFifoGroupsInBatches } from './fauxqs-fifo-batches.ts';

const REGION = 'us-east-1';

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
  /**
   * `http://sqs.<region>.localhost:<port>`: the origin of fauxqs's queue URLs. The SDK sends a
   * queue's requests to its URL's host and warns, on every call, when the client's endpoint
   * differs; with this one it never does.
   */
  endpoint: string;
  queues: LocalQueue[];
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in this process and creates every queue the topology declares, each with its
 * DLQ and redrive policy; per-connector queues once for each connector id.
 */
export const startLocalSqs = async (specs: QueueSpec[], connectorIds: string[], options: { port?: number } = {}): Promise<LocalSqs> => {
  // A FIFO receive takes up to ten messages of one group, as SQS does (fauxqs takes one).
  await receiveFifoGroupsInBatches();
  const server = await startFauxqsOnLoopback(options.port ?? 0);
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
    endpoint: `http://sqs.${REGION}.localhost:${server.port}`,
    queues,
    stop: async () => {
      restoreDns();
      await server.stop();
    },
  };
};

/**
 * fauxqs 1.9 listens on 0.0.0.0 whatever it is told (its `host` option only names the host in
 * queue URLs). While it starts, and only then, a listen on 0.0.0.0 in this process is made a
 * listen on 127.0.0.1, so the queues are reachable from this machine alone.
 */
const startFauxqsOnLoopback = async (port: number): Promise<FauxqsServer> => {
  const listen = Server.prototype.listen;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const [first] = args;
    if (first && typeof first === 'object' && (first as { host?: string }).host === '0.0.0.0') {
      args[0] = { ...first, host: '127.0.0.1' };
    } else if (typeof args[1] === 'string' && args[1] === '0.0.0.0') {
      args[1] = '127.0.0.1';
    }
    return (listen as (...a: unknown[]) => Server).apply(this, args);
  } as typeof Server.prototype.listen;
  try {
    return await startFauxqs({ port, logger: false });
  } finally {
    Server.prototype.listen = listen;
  }
};
