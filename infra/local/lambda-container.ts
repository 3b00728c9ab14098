import { parentPort, workerData } from 'node:worker_threads';
import { interceptLocalhostDns } from 'fauxqs';
import './sdk-notices.ts';
import { contextFor, type LambdaHandler } from './lambda-runtime.ts';
import type { ContainerReply, ContainerRequest, ContainerSetup } from './lambda-containers.ts';

/**
 * One local Lambda container: a worker thread that loads one function's handler with its own
 * environment and runs one event at a time, as a Lambda execution environment does. The
 * parent (lambda-containers.ts) hands it events and takes the results back.
 */
const setup = workerData as ContainerSetup;
const port = parentPort;
if (!port) throw new Error('lambda-container.ts runs only as a worker thread');

// fauxqs's queue URLs name hosts under `.localhost`, which this thread must resolve as well.
interceptLocalhostDns();

const describe = (error: unknown) =>
  error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { name: 'Error', message: String(error) };

let handler: LambdaHandler;
try {
  const module = (await import(setup.entry)) as { handler?: LambdaHandler };
  if (typeof module.handler !== 'function') throw new Error(`${setup.spec.entry} exports no handler`);
  handler = module.handler;
  port.postMessage({ type: 'ready' } satisfies ContainerReply);
} catch (error) {
  port.postMessage({ type: 'failed', error: describe(error) } satisfies ContainerReply);
  throw error;
}

port.on('message', (request: ContainerRequest) => {
  void (async () => {
    try {
      const value = await handler(request.event, contextFor(setup.spec, request.deadline));
      port.postMessage({ type: 'result', id: request.id, value } satisfies ContainerReply);
    } catch (error) {
      port.postMessage({ type: 'error', id: request.id, error: describe(error) } satisfies ContainerReply);
    }
  })();
});
