import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GRANTED_VARIABLES } from '#shared/topology/function-environment.ts';
import type { FunctionSpec } from '#shared/topology/topology.types.ts';
import { LambdaTimeoutError, type LocalFunction } from './lambda-runtime.ts';

/** What a container is started with (its workerData). */
export interface ContainerSetup {
  /** The container module (lambda-container.ts), which the bootstrap imports. */
  container: string;
  /** The handler's entry file, as a file URL. */
  entry: string;
  spec: FunctionSpec;
}

export interface ContainerRequest {
  id: number;
  event: unknown;
  deadline: number;
}

type ErrorShape = { name: string; message: string; stack?: string };

export type ContainerReply =
  | { type: 'ready' }
  | { type: 'failed'; error: ErrorShape }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: ErrorShape };

const BOOTSTRAP = resolve(import.meta.dirname, 'lambda-container.bootstrap.mjs');
const CONTAINER = pathToFileURL(resolve(import.meta.dirname, 'lambda-container.ts')).href;

const revive = (shape: ErrorShape): Error => {
  const error = new Error(shape.message);
  error.name = shape.name;
  if (shape.stack) error.stack = shape.stack;
  return error;
};

interface Container {
  worker: Worker;
  busy: boolean;
}

/**
 * Runs a function the way Lambda scales it: in up to `maxContainers` containers side by side,
 * each a worker thread with its own module state and its own environment (the function's
 * grants, and no other function's), each running one event at a time. A container is started
 * when every running one is busy and the cap allows another; otherwise the event waits for one
 * to be free. A container whose event timed out is discarded, as Lambda discards it.
 *
 * In one thread, every lane's worker shared the event loop with the API, the stream and the
 * queues: a hub under load spent its time waiting for that one thread while the machine's other
 * cores had room.
 */
export const loadFunctionInContainers = async (
  spec: FunctionSpec,
  projectRoot: string,
  environment: Record<string, string>,
  maxContainers: number,
): Promise<LocalFunction> => {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(GRANTED_VARIABLES)) delete env[name];
  Object.assign(env, environment);
  const setup: ContainerSetup = { container: CONTAINER, entry: pathToFileURL(resolve(projectRoot, spec.entry)).href, spec };

  const containers: Container[] = [];
  const waiting: Array<{ take: (container: Container) => void; fail: (error: Error) => void }> = [];
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; container: Container }>();
  let nextId = 1;
  let stopped = false;

  const discard = (container: Container, reason: Error) => {
    const index = containers.indexOf(container);
    if (index >= 0) containers.splice(index, 1);
    for (const [id, call] of pending) {
      if (call.container !== container) continue;
      pending.delete(id);
      call.reject(reason);
    }
    void container.worker.terminate();
  };

  /** Starts one container and waits for its cold start: a handler that fails to load fails here. */
  const startContainer = async (): Promise<Container> => {
    const worker = new Worker(BOOTSTRAP, { workerData: setup, env, stdout: false, stderr: false });
    const container: Container = { worker, busy: true };
    containers.push(container);
    let onMessage: ((reply: ContainerReply) => void) | undefined;
    let onError: ((error: Error) => void) | undefined;
    let onExit: ((code: number) => void) | undefined;
    await new Promise<void>((ready, fail) => {
      onMessage = (reply) => {
        if (reply.type === 'ready') ready();
        if (reply.type === 'failed') fail(revive(reply.error));
      };
      onError = fail;
      onExit = (code) => fail(new Error(`${spec.name}: its container exited with code ${code} during its cold start`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    })
      .catch((error: unknown) => {
        discard(container, error as Error);
        throw error;
      })
      .finally(() => {
        // Only these: removing every listener would stop the worker's own message port.
        if (onMessage) worker.off('message', onMessage);
        if (onError) worker.off('error', onError);
        if (onExit) worker.off('exit', onExit);
      });
    worker.on('message', (reply: ContainerReply) => {
      if (reply.type !== 'result' && reply.type !== 'error') return;
      const call = pending.get(reply.id);
      if (!call) return;
      pending.delete(reply.id);
      if (reply.type === 'result') call.resolve(reply.value);
      else call.reject(revive(reply.error));
    });
    // An exception nothing caught ends the container, and with it the event it was running.
    worker.on('error', (error) => discard(container, error));
    worker.on('exit', (code) => discard(container, new Error(`${spec.name}: its container exited with code ${code}`)));
    return container;
  };

  const acquire = async (): Promise<Container> => {
    const idle = containers.find((c) => !c.busy);
    if (idle) {
      idle.busy = true;
      return idle;
    }
    if (containers.length < maxContainers) return startContainer();
    return new Promise((take, fail) => waiting.push({ take, fail }));
  };

  const release = (container: Container) => {
    const next = waiting.shift();
    if (!containers.includes(container)) {
      // Discarded (it timed out or crashed): a waiting event gets a fresh container instead.
      // One that cannot start fails its event, which comes back from its queue as Lambda's would.
      if (next) void startContainer().then(next.take, next.fail);
      return;
    }
    if (next) next.take(container);
    else container.busy = false;
  };

  // The first container starts with the hub, so a function that cannot load fails the start.
  release(await startContainer());

  return {
    spec,
    environment,
    invoke: async (event) => {
      if (stopped) throw new Error(`${spec.name} is stopped`);
      const container = await acquire();
      const timeoutMs = spec.timeoutSeconds * 1000;
      const id = nextId++;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await new Promise<unknown>((resolveCall, rejectCall) => {
          pending.set(id, { resolve: resolveCall, reject: rejectCall, container });
          timer = setTimeout(() => discard(container, new LambdaTimeoutError(`${spec.name} timed out after ${spec.timeoutSeconds} s`)), timeoutMs);
          container.worker.postMessage({ id, event, deadline: Date.now() + timeoutMs } satisfies ContainerRequest);
        });
      } finally {
        clearTimeout(timer);
        release(container);
      }
    },
    stop: async () => {
      stopped = true;
      for (const waiter of waiting.splice(0)) waiter.fail(new Error(`${spec.name} is stopped`));
      await Promise.all(containers.splice(0).map((c) => c.worker.terminate()));
    },
  };
};
