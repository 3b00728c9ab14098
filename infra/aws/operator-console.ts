import { CfnOutput, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { operatorBasePath } from '#shared/topology/operator-routes.ts';
import type { Topology } from '#shared/topology/topology.types.ts';
import { ConsoleHosting } from './console-hosting.construct.ts';
import type { OperatorRouteAuth } from './hub-api.construct.ts';
import { OperatorPool } from './operator-pool.construct.ts';

export interface OperatorConsoleProps {
  namePrefix: string;
  projectRoot: string;
  removalPolicy: RemovalPolicy;
  logRetentionDays: number;
  /** Where the console's API calls go, under the API stage: the topology's `operator` route without its `{proxy+}`. */
  apiBasePath: string;
}

/**
 * The operators' console in AWS: its hosting (ConsoleHosting) and its sign-in (OperatorPool),
 * and what joins them to the API: the authorizer's pool and scope, the allowed origin, and
 * the `config.json` that tells the page where both are.
 */
export class OperatorConsole extends Construct {
  readonly hosting: ConsoleHosting;
  readonly operators: OperatorPool;
  /** What the API puts in front of `operator` routes. */
  readonly routeAuth: OperatorRouteAuth;
  private readonly apiBasePath: string;

  constructor(scope: Construct, id: string, props: OperatorConsoleProps) {
    super(scope, id);
    this.apiBasePath = props.apiBasePath;
    this.hosting = new ConsoleHosting(this, 'Hosting', {
      projectRoot: props.projectRoot,
      removalPolicy: props.removalPolicy,
      logRetentionDays: props.logRetentionDays,
    });
    this.operators = new OperatorPool(this, 'Operators', { namePrefix: props.namePrefix, consoleUrl: this.hosting.url, removalPolicy: props.removalPolicy });
    this.routeAuth = { userPool: this.operators.userPool, scope: this.operators.apiScope, consoleOrigin: this.hosting.origin };

    new CfnOutput(this, 'ConsoleUrl', { value: this.hosting.url, description: "The operators' console." });
    new CfnOutput(this, 'OperatorsUserPoolId', {
      value: this.operators.userPool.userPoolId,
      description: "The operators' Cognito user pool: create each operator here (aws cognito-idp admin-create-user).",
    });
  }

  /** Deploys the console with the API's address and the pool's sign-in settings, and lets the page call both. */
  deploy(api: apigateway.RestApi): void {
    const stack = Stack.of(this);
    // The API's origin from the API alone: not from the stage URL, so the headers policy does not wait for a deployment.
    this.hosting.allowConnectTo(`https://${api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`);
    const signInDomain = this.operators.domain.baseUrl();
    // The code exchange is a call from the page to the pool's /oauth2/token.
    this.hosting.allowConnectTo(signInDomain);
    this.hosting.deploy({
      apiBaseUrl: `${api.url}${this.apiBasePath.slice(1)}`,
      signIn: { kind: 'cognito', domain: signInDomain, clientId: this.operators.client.userPoolClientId, scope: `openid ${this.operators.apiScope}` },
    });
  }
}

/** The console for a topology with `operator` routes; undefined for one without. */
export const operatorConsoleOf = (scope: Construct, topology: Topology, props: Omit<OperatorConsoleProps, 'apiBasePath'>): OperatorConsole | undefined => {
  const apiBasePath = operatorBasePath(topology);
  return apiBasePath === undefined ? undefined : new OperatorConsole(scope, 'Console', { ...props, apiBasePath });
};
