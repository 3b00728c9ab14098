import { AssetHashType, type BundlingOptions, Duration, type ILocalBundling, type RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import type { FunctionSpec } from '#shared/topology/topology.types.ts';
import { esbuildOptionsFor, lambdaBundleOptions, NODE_MAJOR } from './bundling.options.ts';
import { acknowledge, acknowledgeUnscopableActions } from './nag.ts';

/** The namespace of the hub's embedded-metric-format metrics (Powertools Metrics). */
export const METRICS_NAMESPACE = 'ScimHub';

/** The tag that names a function's topology entry on its resources; tests and operators find functions by it. */
export const FUNCTION_TAG = 'scim-hub:function';

export interface HubFunctionProps {
  spec: FunctionSpec;
  /** Absolute path of the handler module. */
  entry: string;
  /** The directory holding package.json and package-lock.json. */
  projectRoot: string;
  functionName: string;
  /** Variables beyond the defaults every function gets (resource names, retention). */
  environment: Record<string, string>;
  logLevel: string;
  logRetentionDays: number;
  removalPolicy: RemovalPolicy;
}

const runtimeFor = (major: number): lambda.Runtime => {
  const runtimes: Record<number, lambda.Runtime> = { 20: lambda.Runtime.NODEJS_20_X, 22: lambda.Runtime.NODEJS_22_X };
  const runtime = runtimes[major];
  if (!runtime) throw new Error(`no Lambda runtime mapped for Node.js ${major}`);
  return runtime;
};

/**
 * Bundles one entry with esbuild, in the synthesizing process, with the options the bench uses
 * (bundling.options.ts). `NodejsFunction` is not used because it writes a single `--outfile`,
 * which rules out code splitting, and the split is what keeps each vendor's code out of a
 * function's cold start. esbuild is a dependency of the project, so bundling never falls back
 * to Docker; a failed build fails the synthesis with esbuild's errors.
 */
export class EsbuildBundling implements ILocalBundling {
  /** Public so that CDK's bundling cache key (a JSON of the bundling options) differs per entry. */
  constructor(readonly entry: string) {}

  tryBundle(outputDir: string): boolean {
    buildSync({ ...esbuildOptionsFor(this.entry, outputDir), logLevel: 'error' });
    return true;
  }
}

/** The asset bundling of one function: local esbuild; the image is required by CDK and never run. */
export const bundlingFor = (entry: string, runtime: lambda.Runtime): BundlingOptions => ({
  image: runtime.bundlingImage,
  local: new EsbuildBundling(entry),
});

/**
 * The AWS Parameters and Secrets Lambda Extension, for the functions that read the connectors
 * document or connector secrets (shared/connectors/parameters-extension.client.ts): they read
 * through it rather than with the SSM and Secrets Manager SDK clients, which no bundle loads at
 * start. Its cache is off, since the callers cache with their own expiry and read past it after
 * a target refused a secret.
 */
export const parametersAndSecretsExtension = (): lambda.ParamsAndSecretsLayerVersion =>
  lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103, {
    cacheEnabled: false,
    logLevel: lambda.ParamsAndSecretsLogLevel.WARN,
  });

const readsParametersOrSecrets = (spec: FunctionSpec): boolean => spec.grants.some((grant) => grant.resource === 'parameters' || grant.resource === 'secrets');

/**
 * One function of the topology as the hub deploys every function: bundled by esbuild (ESM,
 * minified, split into chunks loaded on demand, source maps, the AWS SDK v3 bundled and
 * tree-shaken), arm64 on Node.js 22, X-Ray
 * tracing, Powertools settings in the environment, and a log group of its own with a retention.
 *
 * The role starts empty: it may write to its own log group and nothing else, and the stack
 * adds the topology's grants to it. (The default role would carry the AWS managed
 * `AWSLambdaBasicExecutionRole`, which may create log groups and write to any of them.)
 */
export class HubFunction extends Construct {
  readonly spec: FunctionSpec;
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HubFunctionProps) {
    super(scope, id);
    this.spec = props.spec;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.spec.name} function of the SCIM hub.`,
    });
    this.logGroup.grantWrite(this.role);

    const runtime = runtimeFor(NODE_MAJOR);
    this.fn = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: props.spec.description,
      // The project root is the asset's source only in name: the bundle is what is hashed and shipped.
      code: lambda.Code.fromAsset(props.projectRoot, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: bundlingFor(props.entry, runtime),
      }),
      handler: `${lambdaBundleOptions.outputFile.replace(/\.mjs$/, '')}.handler`,
      runtime,
      // Graviton: cheaper per GB-second and at least as fast for this I/O-bound code.
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.spec.memoryMb,
      timeout: Duration.seconds(props.spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(readsParametersOrSecrets(props.spec) ? { paramsAndSecrets: parametersAndSecretsExtension() } : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.spec.name,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        LOG_LEVEL: props.logLevel,
        ...props.environment,
      },
    });
    Tags.of(this).add(FUNCTION_TAG, props.spec.name);

    acknowledgeUnscopableActions(this.role);
    if (NODE_MAJOR < 24) {
      acknowledge(
        this,
        'AwsSolutions-L1',
        `Pinned to Node.js ${NODE_MAJOR}: the bundles are built for node${NODE_MAJOR} (infra/aws/bundling.options.ts), so the ` +
          'runtime and the bundle target move together, in one reviewed change with the bench rerun, rather than whenever a newer runtime appears.',
      );
    }
  }
}
