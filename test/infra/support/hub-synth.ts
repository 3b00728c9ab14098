import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FUNCTION_TAG } from '../../../infra/aws/function-defaults.construct.ts';
import { addHub, projectRoot } from '../../../infra/aws/hub.app.ts';
import type { HubStack } from '../../../infra/aws/hub.stack.ts';
import type { FunctionSpec, Topology } from '../../../shared/topology/topology.types.ts';

/** The context of cdk.json (feature flags, telemetry off): tests synthesize what the CLI does. */
export const cdkJsonContext = (): Record<string, unknown> =>
  (JSON.parse(readFileSync(resolve(projectRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** The stand-in handler for entries not written yet (only its existence matters without bundling). */
export const STAND_IN_ENTRY = resolve(projectRoot, 'test/infra/fixtures/functions/echo/handler.ts');

export interface HubSynthOptions {
  /** Defaults to THE topology. */
  topology?: Topology;
  /** CDK context beyond cdk.json's; `connectorIds` defaults to `acme,okta`. */
  context?: Record<string, string | number | boolean>;
  /**
   * Run esbuild for every function. Off by default: most tests look at the template only, and
   * CDK then skips bundling (`aws:cdk:bundling-stacks: []`), which keeps each synthesis well
   * under a second.
   */
  bundle?: boolean;
  /**
   * CDK's built-in CloudFormation schema validation, which `cdk synth` runs. Off by default:
   * it takes several seconds per synthesis; the CLI-equivalence test turns it on.
   */
  cloudFormationValidation?: boolean;
  /** An output directory to keep (bundling tests read the assets); a temporary one otherwise. */
  outdir?: string;
}

export interface SynthesizedHub {
  app: App;
  stack: HubStack;
  template: Template;
  /** Functions whose entry does not exist yet and were given the stand-in (never when bundling). */
  standIns: string[];
}

const cache = new Map<string, SynthesizedHub>();

/**
 * Synthesizes the hub as `cdk synth` would (same context, same `addHub`, cdk-nag included:
 * synthesis fails on an unacknowledged finding), once per distinct options in a test file.
 */
export const synthHub = (options: HubSynthOptions = {}): SynthesizedHub => {
  const key = JSON.stringify(options);
  const cached = cache.get(key);
  if (cached) return cached;

  const bundle = options.bundle ?? false;
  const app = new App({
    context: {
      ...cdkJsonContext(),
      // Connectors with schedules by default; a case naming its own connectors (or its connectors document) names its own schedules.
      ...(options.context?.connectorsFile === undefined ? { connectorIds: 'acme,okta' } : {}),
      ...(options.context?.connectorIds === undefined && options.context?.connectorsFile === undefined
        ? { reconcileSchedules: 'acme=cron(0 2 * * ? *);okta=rate(6 hours)' }
        : {}),
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const standIns: string[] = [];
  const resolveEntry = (spec: FunctionSpec): string => {
    const entry = resolve(projectRoot, spec.entry);
    if (bundle || existsSync(entry)) return entry;
    standIns.push(spec.name);
    return STAND_IN_ENTRY;
  };
  const stack = addHub(app, { topology: options.topology, resolveEntry });
  const synthesized = { app, stack, template: Template.fromStack(stack), standIns };
  cache.set(key, synthesized);
  return synthesized;
};

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; DependsOn?: string[] };

/** The template's resources by logical id, of one type when given; `Properties` is `{}` when absent. */
export const resources = (template: Template, type?: string): Record<string, Resource> => {
  const all = template.toJSON().Resources as Record<string, Resource>;
  return Object.fromEntries(
    Object.entries(all)
      .filter(([, r]) => !type || r.Type === type)
      .map(([id, r]) => [id, { ...r, Properties: r.Properties ?? {} }]),
  );
};

/** The path of an API Gateway resource, rebuilt from its parent chain. */
export const resourcePath = (template: Template, resourceId: string): string => {
  const all = resources(template, 'AWS::ApiGateway::Resource');
  const segments: string[] = [];
  let current: string | undefined = resourceId;
  while (current && all[current]) {
    segments.unshift(all[current]!.Properties.PathPart as string);
    current = (all[current]!.Properties.ParentId as { Ref?: string }).Ref;
  }
  return `/${segments.join('/')}`;
};

/** The logical id of a topology function's Lambda function, found by its tag. */
export const functionLogicalId = (template: Template, name: string): string => {
  const found = Object.entries(resources(template, 'AWS::Lambda::Function')).filter(([, r]) =>
    ((r.Properties?.Tags as Array<{ Key: string; Value: string }>) ?? []).some((tag) => tag.Key === FUNCTION_TAG && tag.Value === name),
  );
  if (found.length !== 1) throw new Error(`expected one Lambda function tagged ${name}, found ${found.length}`);
  return found[0]![0];
};

export const functionProperties = (template: Template, name: string): Record<string, unknown> =>
  resources(template)[functionLogicalId(template, name)]!.Properties;

/** The statements of the inline policy attached to a function's role. */
export const roleStatements = (template: Template, name: string): Array<Record<string, unknown>> => {
  const roleArn = functionProperties(template, name).Role as { 'Fn::GetAtt': [string, string] };
  const roleId = roleArn['Fn::GetAtt'][0];
  return Object.values(resources(template, 'AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement);
};

/** Every action a function's role allows, flattened. */
export const roleActions = (template: Template, name: string): string[] =>
  roleStatements(template, name).flatMap((statement) => [statement.Action as string | string[]].flat());

/** A JSON rendering of a value, for "does this template part mention X" checks on intrinsics. */
export const json = (value: unknown): string => JSON.stringify(value) ?? 'undefined';
