import type { Topology } from './topology.types.ts';

/**
 * The base path of the topology's `operator` routes (`/operator` for `/operator/{proxy+}`):
 * where the console sends its calls, under the API stage in AWS and on the hub's origin
 * locally. Undefined for a topology without any.
 */
export const operatorBasePath = (topology: Topology): string | undefined => {
  const paths = topology.functions.flatMap((fn) =>
    fn.triggers.flatMap((trigger) => (trigger.kind === 'http' && trigger.auth.type === 'operator' ? trigger.routes.map((route) => route.path) : [])),
  );
  if (paths.length === 0) return undefined;
  const bases = new Set(paths.map((path) => path.replace(/\/\{proxy\+\}$/, '')));
  if (bases.size !== 1) throw new Error(`the console calls one base path, but the topology's operator routes have several: ${[...bases].join(', ')}`);
  return [...bases][0];
};
