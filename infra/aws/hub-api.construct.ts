import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { gatewayResponses, SCIM_CONTENT_TYPE } from '#shared/topology/gateway-responses.ts';
import type { AuthorizerTrigger, HttpRoute, HttpTrigger } from '#shared/topology/topology.types.ts';
import type { HubFunction } from './function-defaults.construct.ts';
import { acknowledge, nagRef } from './nag.ts';

export interface HubApiProps {
  restApiName: string;
  stageName: string;
  throttlingRateLimit: number;
  throttlingBurstLimit: number;
  logRetentionDays: number;
  removalPolicy: RemovalPolicy;
  /** Who may call the `operator` routes: the operators' pool, the scope their tokens carry, the console's origin (CORS). */
  operators?: OperatorRouteAuth;
}

export interface OperatorRouteAuth {
  userPool: cognito.IUserPool;
  /** The access token scope the routes require (`scim-hub/console`). */
  scope: string;
  /** The only origin allowed to call the routes from a browser: the console's distribution. */
  consoleOrigin: string;
}

/** The methods the console sends, and the headers its calls carry. */
const OPERATOR_CORS: Omit<apigateway.CorsOptions, 'allowOrigins'> = {
  allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowHeaders: ['Authorization', 'Content-Type'],
  maxAge: Duration.hours(1),
};

/** The access log line: who called what, how it ended, and where the time went. Never a header or a body. */
const ACCESS_LOG_FIELDS = {
  requestId: apigateway.AccessLogField.contextRequestId(),
  extendedRequestId: apigateway.AccessLogField.contextExtendedRequestId(),
  requestTime: apigateway.AccessLogField.contextRequestTime(),
  ip: apigateway.AccessLogField.contextIdentitySourceIp(),
  userAgent: apigateway.AccessLogField.contextIdentityUserAgent(),
  caller: apigateway.AccessLogField.contextIdentityCaller(),
  principalId: apigateway.AccessLogField.contextAuthorizerPrincipalId(),
  httpMethod: apigateway.AccessLogField.contextHttpMethod(),
  resourcePath: apigateway.AccessLogField.contextResourcePath(),
  path: apigateway.AccessLogField.contextPath(),
  status: apigateway.AccessLogField.contextStatus(),
  responseLength: apigateway.AccessLogField.contextResponseLength(),
  responseLatency: apigateway.AccessLogField.contextResponseLatency(),
  integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
  authorizerLatency: apigateway.AccessLogField.contextAuthorizerLatency(),
  authorizerError: apigateway.AccessLogField.contextAuthorizerError(),
  errorType: apigateway.AccessLogField.contextErrorResponseType(),
  errorMessage: apigateway.AccessLogField.contextErrorMessageString(),
  wafStatus: apigateway.AccessLogField.contextWafStatus(),
  xrayTraceId: apigateway.AccessLogField.contextXrayTraceId(),
};

/** `{name}` and `{proxy+}` segments as the wildcard an `execute-api` ARN takes. */
const arnPath = (path: string): string => path.replace(/\{[^}]+\}/g, '*');

/**
 * The hub's REST API: the topology's HTTP routes as Lambda proxy integrations, each behind the
 * Lambda authorizer, IAM auth or the operators' Cognito pool its trigger names, with access
 * logging, stage throttling and SCIM-shaped refusals.
 *
 * A REST API rather than an HTTP API: it has the features this needs and HTTP APIs lack:
 * WAF association, per-stage throttling with execution logs, and gateway responses, which
 * are how a refused bearer token still gets an RFC 7644 section 3.12 error body.
 */
export class HubApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly accessLogs: logs.LogGroup;
  /** The routes behind IAM auth, as `execute-api` ARNs, for the operators' invoke policy. */
  readonly iamRouteArns: string[] = [];
  private readonly iamRouteWildcards: string[] = [];
  private readonly stageName: string;
  private readonly authorizers = new Map<string, apigateway.RequestAuthorizer>();
  private readonly operators: OperatorRouteAuth | undefined;
  private operatorsAuthorizer: apigateway.CognitoUserPoolsAuthorizer | undefined;

  constructor(scope: Construct, id: string, props: HubApiProps) {
    super(scope, id);
    this.stageName = props.stageName;
    this.operators = props.operators;

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.restApiName,
      description: 'SCIM 2.0 service provider of the provisioning hub, and its admin routes.',
      // Regional: the WAF web ACL attaches to a regional stage, and IdPs call from many places
      // anyway; an edge distribution would add a hop without caching anything.
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Access and execution logs need API Gateway's account-wide CloudWatch role. It is kept
      // when the stack goes, so that other APIs of the account keep logging.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
        // Errors only, and never the request or response data: SCIM bodies hold personal data
        // and password values, and the Authorization header holds the bearer token.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
    });

    // API Gateway creates the execution log group on first use with no retention; create it
    // first so that it has one, and is removed with the stage when the stage is destroyed.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${props.stageName}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);

    // RFC 7644 section 3.12: a refused token gets a SCIM error, not API Gateway's {"message"}.
    // The console reads refusals too (an expired token signs it out): they carry its origin, as the function's answers do.
    const corsHeaders: Record<string, string> = props.operators
      ? { 'Access-Control-Allow-Origin': `'${props.operators.consoleOrigin}'`, Vary: "'Origin'" }
      : {};
    const scimHeaders = { 'Content-Type': `'${SCIM_CONTENT_TYPE}'`, ...corsHeaders };
    for (const [id, type, response] of [
      ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED, gatewayResponses.unauthorized],
      ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED, gatewayResponses.accessDenied],
    ] as const) {
      const body = JSON.stringify(response.body);
      this.api.addGatewayResponse(id, {
        type,
        statusCode: String(response.statusCode),
        responseHeaders: scimHeaders,
        // API Gateway picks the template by the request's content type; SCIM clients send both.
        templates: { 'application/json': body, [SCIM_CONTENT_TYPE]: body },
      });
    }

    if (props.operators) {
      for (const [id, type] of [
        ['Default4xx', apigateway.ResponseType.DEFAULT_4XX],
        ['Default5xx', apigateway.ResponseType.DEFAULT_5XX],
      ] as const) {
        this.api.addGatewayResponse(id, { type, responseHeaders: corsHeaders });
      }
    }

    acknowledge(
      this.api,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      "API Gateway's account-wide CloudWatch role uses the AWS managed policy made for it, which AWS keeps in step with the log actions API Gateway needs.",
    );
    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'Every body is validated by the function that owns the route (zod schemas of RFC 7643 resources); an API Gateway model would ' +
        'reject what SCIM clients are known to send and the handler accepts on purpose (capitalised PATCH ops, "False" strings, missing Content-Type).',
    );
    acknowledge(
      this.api,
      'AwsSolutions-COG4',
      'No route is for end users: IdPs call the SCIM routes with long-lived bearer tokens (RFC 7644 section 2), checked by the Lambda ' +
        "authorizer against hashed tokens; operators call the admin routes with IAM SigV4, and the console's routes with the operators' Cognito pool.",
    );
  }

  /** Adds a topology route with its function as a Lambda proxy integration behind the trigger's auth. */
  addRoute(route: HttpRoute, target: HubFunction, auth: HttpTrigger['auth'], authorizerFor: (name: string) => HubFunction): void {
    const resource = this.api.root.resourceForPath(route.path);
    const integration = new apigateway.LambdaIntegration(target.fn, {
      proxy: true,
      // The console's test-invoke needs a permission per method of its own; nobody uses it here.
      allowTestInvoke: false,
    });
    const method = resource.addMethod(route.method, integration, this.methodAuth(auth, authorizerFor));
    if (auth.type === 'iam') {
      const methodPart = route.method === 'ANY' ? '*' : route.method;
      const pathPart = arnPath(route.path);
      this.iamRouteArns.push(this.api.arnForExecuteApi(methodPart, pathPart, this.stageName));
      if (`${methodPart}${pathPart}`.includes('*')) {
        this.iamRouteWildcards.push(
          `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${nagRef(this.api.node.defaultChild!)}>/${this.stageName}/${methodPart}${pathPart}`,
        );
      }
    }
    if (auth.type === 'operator') {
      // The browser asks before each cross-origin call; the preflight carries no token, so it is answered without one.
      // cdk-nag passes a preflight that answers CORS without a function behind it (APIG4, COG4 skip OPTIONS).
      resource.addCorsPreflight({ ...OPERATOR_CORS, allowOrigins: [this.operatorAuth().consoleOrigin] });
    }
    if (auth.type === 'none') {
      acknowledge(
        method,
        'AwsSolutions-APIG4',
        `The topology declares ${route.method} ${route.path} public (auth "none"); the function answers it without a caller identity.`,
      );
    }
  }

  private methodAuth(auth: HttpTrigger['auth'], authorizerFor: (name: string) => HubFunction): apigateway.MethodOptions {
    switch (auth.type) {
      case 'none':
        return { authorizationType: apigateway.AuthorizationType.NONE };
      case 'iam':
        return { authorizationType: apigateway.AuthorizationType.IAM };
      case 'lambda':
        return { authorizationType: apigateway.AuthorizationType.CUSTOM, authorizer: this.authorizer(authorizerFor(auth.authorizer)) };
      case 'operator':
        return {
          authorizationType: apigateway.AuthorizationType.COGNITO,
          authorizer: this.cognitoAuthorizer(),
          // With scopes, API Gateway takes access tokens (not ID tokens) and requires one of them.
          authorizationScopes: [this.operatorAuth().scope],
        };
    }
  }

  private operatorAuth(): OperatorRouteAuth {
    if (!this.operators) throw new Error("the topology has routes with 'operator' auth, but the API was given no operators' pool");
    return this.operators;
  }

  /** The operators' pool in front of every `operator` route: one authorizer, its answers cached per token. */
  private cognitoAuthorizer(): apigateway.CognitoUserPoolsAuthorizer {
    this.operatorsAuthorizer ??= new apigateway.CognitoUserPoolsAuthorizer(this, 'OperatorsAuthorizer', {
      authorizerName: 'operators',
      cognitoUserPools: [this.operatorAuth().userPool],
      identitySource: apigateway.IdentitySource.header('Authorization'),
      resultsCacheTtl: Duration.minutes(5),
    });
    return this.operatorsAuthorizer;
  }

  /** One REQUEST authorizer per authorizer function, shared by every route that names it. */
  private authorizer(fn: HubFunction): apigateway.RequestAuthorizer {
    const existing = this.authorizers.get(fn.spec.name);
    if (existing) return existing;
    const trigger = fn.spec.triggers.find((t): t is AuthorizerTrigger => t.kind === 'lambda-authorizer');
    if (!trigger) throw new Error(`${fn.spec.name} is named as an authorizer but has no lambda-authorizer trigger`);
    const authorizer = new apigateway.RequestAuthorizer(this, `Authorizer-${fn.spec.name}`, {
      authorizerName: fn.spec.name,
      handler: fn.fn,
      identitySources: [apigateway.IdentitySource.header(trigger.identityHeader)],
      // Answers are cached per token: the authorizer runs once per token and TTL, not per request.
      resultsCacheTtl: Duration.seconds(trigger.resultsCacheTtlSeconds),
    });
    this.authorizers.set(fn.spec.name, authorizer);
    return authorizer;
  }

  /** A managed policy operators attach to call the IAM-authorized routes; undefined when there are none. */
  addIamRoutesPolicy(managedPolicyName: string): iam.ManagedPolicy | undefined {
    if (this.iamRouteArns.length === 0) return undefined;
    const policy = new iam.ManagedPolicy(this, 'IamRoutesInvokePolicy', {
      managedPolicyName,
      description: 'Allows calling the admin routes of the SCIM hub API (IAM auth).',
      statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: this.iamRouteArns })],
    });
    for (const wildcard of this.iamRouteWildcards) {
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::${wildcard}]`,
        'The wildcard is the route itself: an ANY method or a {proxy+} path of the topology covers every method and sub-path of that one IAM-authorized route, on this API and stage only.',
      );
    }
    return policy;
  }
}
