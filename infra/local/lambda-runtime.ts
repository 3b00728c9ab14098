import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from '#shared/topology/topology.types.ts';

// biome-ignore lint/suspicious/noExplicitAny: a Lambda handler takes any event type.
export type LambdaHandler = (event: any, context: Context) => Promise<unknown>;

export class LambdaTimeoutError extends Error {}

export interface LocalFunction {
  spec: FunctionSpec;
  invoke(event: unknown): Promise<unknown>;
}

const contextFor = (spec: FunctionSpec, deadline: number): Context => ({
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
 * Loads a function's handler from its entry file, exactly the module the stack bundles, and
 * invokes it the way Lambda does: one event, a context, and the function's timeout.
 */
export const loadFunction = async (spec: FunctionSpec, projectRoot: string): Promise<LocalFunction> => {
  const module = (await import(pathToFileURL(resolve(projectRoot, spec.entry)).href)) as { handler?: LambdaHandler };
  const handler = module.handler;
  if (typeof handler !== 'function') throw new Error(`${spec.entry} exports no handler`);
  return {
    spec,
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
