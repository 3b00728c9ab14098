import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { GRANTED_VARIABLES } from '#shared/topology/function-environment.ts';
import type { FunctionSpec } from '#shared/topology/topology.types.ts';

// biome-ignore lint/suspicious/noExplicitAny: a Lambda handler takes any event type.
export type LambdaHandler = (event: any, context: Context) => Promise<unknown>;

export class LambdaTimeoutError extends Error {}

export interface LocalFunction {
  spec: FunctionSpec;
  /** The variables its grants gave it (shared/topology/function-environment.ts). */
  environment: Record<string, string>;
  invoke(event: unknown): Promise<unknown>;
  /** Ends what the function runs on (its containers), when it runs on more than this process. */
  stop?(): Promise<void>;
}

/** The context Lambda hands a handler, with `deadline` as its end. */
export const contextFor = (spec: FunctionSpec, deadline: number): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: spec.name,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${spec.name}`,
  memoryLimitInMB: String(spec.memoryMb),
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${spec.name}`,
  logStreamName: 'local',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/**
 * Runs `load` with exactly `environment` in place of the variables grants give, then puts the
 * process's own values back. Every function of the local hub shares one process, so its
 * grants' variables are in place only while its module graph is evaluated: its cold start, where
 * handlers read their configuration (shared/config/env.ts). One missing there fails the load
 * with the configuration error Lambda would log at cold start.
 */
const withGrantedEnvironment = async <T>(environment: Record<string, string>, load: () => Promise<T>): Promise<T> => {
  const names = Object.keys(GRANTED_VARIABLES);
  const saved = new Map(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, environment);
  try {
    return await load();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
};

/**
 * Loads a function's handler from its entry file, exactly the module the stack bundles, with
 * the environment its grants give (and no other function's), and invokes it the way Lambda
 * does: one event, a context, and the function's timeout.
 */
export const loadFunction = async (spec: FunctionSpec, projectRoot: string, environment: Record<string, string> = {}): Promise<LocalFunction> => {
  const module = await withGrantedEnvironment(
    environment,
    () => import(pathToFileURL(resolve(projectRoot, spec.entry)).href) as Promise<{ handler?: LambdaHandler }>,
  );
  const handler = module.handler;
  if (typeof handler !== 'function') throw new Error(`${spec.entry} exports no handler`);
  return {
    spec,
    environment,
    invoke: async (event) => {
      const timeoutMs = spec.timeoutSeconds * 1000;
      const context = contextFor(spec, Date.now() + timeoutMs);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LambdaTimeoutError(`${spec.name} timed out after ${spec.timeoutSeconds} s`)), timeoutMs);
      });
      try {
        return await Promise.race([handler(event, context), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
};
