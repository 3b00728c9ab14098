import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { hubTopology } from '#shared/topology/hub.topology.ts';
import { hubTable, type TableSpec } from '#shared/topology/table.spec.ts';
import type { FunctionSpec, Topology } from '#shared/topology/topology.types.ts';
import { type HubParameters, readHubParameters } from './hub.parameters.ts';
import { HubStack } from './hub.stack.ts';

/** The project root: where package.json, the lock file and the topology's entry files are. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface HubAppOptions {
  /** Defaults to THE topology (shared/topology/hub.topology.ts). */
  topology?: Topology;
  table?: TableSpec;
  resolveEntry?: (spec: FunctionSpec) => string;
}

/** The stack id for a stage: `cdk deploy ScimHub-prod`. */
export const hubStackId = (parameters: Pick<HubParameters, 'stageName'>): string => `ScimHub-${parameters.stageName}`;

/**
 * Adds the hub to an app as `cdk synth` builds it: the parameters from the app's context, the
 * stack from the topology, and cdk-nag's AWS Solutions checks, which fail synthesis on any
 * finding that is neither fixed nor acknowledged with a reason. Tests call this too, so what
 * they assert is what the CLI synthesizes.
 */
export const addHub = (app: App, options: HubAppOptions = {}): HubStack => {
  const parameters = readHubParameters(app.node);
  const stack = new HubStack(app, hubStackId(parameters), {
    topology: options.topology ?? hubTopology,
    table: options.table ?? hubTable,
    parameters,
    projectRoot,
    resolveEntry: options.resolveEntry,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
};
