import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { gatewayResponses, SCIM_CONTENT_TYPE } from '../../../shared/topology/gateway-responses.ts';
import { fullTopology } from '../fixtures/full.topology.ts';
import { functionLogicalId, json, resourcePath, resources, synthHub } from '../support/hub-synth.ts';

const { template } = synthHub({ topology: fullTopology });

const methods = () =>
  Object.values(resources(template, 'AWS::ApiGateway::Method')).map((m) => ({
    path: resourcePath(template, (m.Properties.ResourceId as { Ref: string }).Ref),
    method: m.Properties.HttpMethod as string,
    properties: m.Properties,
  }));

describe('hub REST API', () => {
  it('is one regional REST API', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'scim-hub-prod-api', EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  it('has a method for every route of the topology, as a Lambda proxy integration of its function', () => {
    for (const spec of fullTopology.functions) {
      for (const trigger of spec.triggers) {
        if (trigger.kind !== 'http') continue;
        for (const route of trigger.routes) {
          // Prepare
          const found = methods().filter((m) => m.path === route.path && m.method === route.method);
          // Assess
          expect(found, `${route.method} ${route.path}`).toHaveLength(1);
          expect(found[0]?.properties.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
          expect(json(found[0]?.properties.Integration)).toContain(functionLogicalId(template, spec.name));
        }
      }
    }
    // Four routes, and the CORS preflight of the console's.
    expect(methods()).toHaveLength(6);
    expect(methods().filter((m) => m.method === 'OPTIONS')).toEqual([expect.objectContaining({ path: '/operator/{proxy+}' })]);
  });

  it("puts the SCIM routes behind the REQUEST authorizer, the console's behind the operators' pool and the admin routes behind IAM", () => {
    // Prepare
    const authorizers = Object.entries(resources(template, 'AWS::ApiGateway::Authorizer'));
    const [requestId] = authorizers.find(([, a]) => a.Properties.Type === 'REQUEST')!;
    const [poolId] = authorizers.find(([, a]) => a.Properties.Type === 'COGNITO_USER_POOLS')!;
    // Assess
    for (const m of methods()) {
      if (m.path.startsWith('/scim/v2')) expect(m.properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: requestId } });
      else if (m.method === 'OPTIONS') expect(m.properties).toMatchObject({ AuthorizationType: 'NONE', Integration: { Type: 'MOCK' } });
      else if (m.path.startsWith('/operator'))
        expect(m.properties).toMatchObject({
          AuthorizationType: 'COGNITO_USER_POOLS',
          AuthorizerId: { Ref: poolId },
          AuthorizationScopes: ['scim-hub/console'],
        });
      else expect(m.properties).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    }
  });

  it('builds the authorizer from the lambda-authorizer trigger: REQUEST type, identity header, results cache TTL', () => {
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 2);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      Name: 'scim-authorizer',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
    const authorizer = Object.values(resources(template, 'AWS::ApiGateway::Authorizer')).find((a) => a.Properties.Type === 'REQUEST');
    expect(json(authorizer?.Properties?.AuthorizerUri)).toContain(functionLogicalId(template, 'scim-authorizer'));
  });

  it('lets API Gateway invoke the authorizer and the route functions, and nothing else', () => {
    // Prepare
    const permissions = Object.values(resources(template, 'AWS::Lambda::Permission')).filter((p) => p.Properties?.Principal === 'apigateway.amazonaws.com');
    const invoked = new Set(permissions.map((p) => json(p.Properties?.FunctionName)));
    // Assess
    expect([...invoked].sort()).toEqual(
      ['scim-authorizer', 'scim-api', 'admin-api'].map((name) => json({ 'Fn::GetAtt': [functionLogicalId(template, name), 'Arn'] })).sort(),
    );
  });

  it.each([
    ['UNAUTHORIZED', gatewayResponses.unauthorized],
    ['ACCESS_DENIED', gatewayResponses.accessDenied],
  ] as const)('renders %s as the SCIM error of gateway-responses.ts', (type, response) => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: String(response.statusCode),
      ResponseParameters: { 'gatewayresponse.header.Content-Type': `'${SCIM_CONTENT_TYPE}'` },
      ResponseTemplates: {
        'application/json': JSON.stringify(response.body),
        [SCIM_CONTENT_TYPE]: JSON.stringify(response.body),
      },
    });
  });

  it('logs access as JSON lines to a log group with retention, and never request data', () => {
    // Prepare
    const [stage] = Object.values(resources(template, 'AWS::ApiGateway::Stage'));
    const settings = stage?.Properties?.AccessLogSetting as { DestinationArn: unknown; Format: string };
    const accessLogGroup = Object.entries(resources(template, 'AWS::Logs::LogGroup')).find(([id]) => id.startsWith('ApiAccessLogs'));
    // Assess
    expect(json(settings.DestinationArn)).toContain(accessLogGroup![0]);
    expect(accessLogGroup![1].Properties).toMatchObject({ RetentionInDays: 90 });
    expect(Object.keys(JSON.parse(settings.Format))).toEqual(
      expect.arrayContaining(['requestId', 'ip', 'httpMethod', 'resourcePath', 'status', 'authorizerError', 'integrationLatency']),
    );
    expect(stage?.Properties?.MethodSettings).toEqual([
      expect.objectContaining({ DataTraceEnabled: false, LoggingLevel: 'ERROR', MetricsEnabled: true, HttpMethod: '*', ResourcePath: '/*' }),
    ]);
  });

  it('throttles the stage with the limits of the parameters', () => {
    // Prepare
    const stageOf = (t: typeof template) => Object.values(resources(t, 'AWS::ApiGateway::Stage'))[0]?.Properties;
    const { template: tuned } = synthHub({ topology: fullTopology, context: { throttlingRateLimit: 25, throttlingBurstLimit: 50, stageName: 'staging' } });
    // Assess
    expect(stageOf(template)).toMatchObject({
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: [expect.objectContaining({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })],
    });
    expect(stageOf(tuned)).toMatchObject({
      StageName: 'staging',
      MethodSettings: [expect.objectContaining({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 })],
    });
  });

  it('creates the execution log group itself, with retention, before the stage', () => {
    // Prepare
    const [id, group] = Object.entries(resources(template, 'AWS::Logs::LogGroup')).find(([key]) => key.startsWith('ApiExecutionLogs'))!;
    const [, stage] = Object.entries(resources(template, 'AWS::ApiGateway::Stage'))[0]!;
    // Assess
    expect(json(group.Properties?.LogGroupName)).toContain('API-Gateway-Execution-Logs_');
    expect(group.Properties?.RetentionInDays).toBe(90);
    expect(stage.DependsOn).toContain(id);
  });

  it('offers operators a managed policy to call the IAM routes of this stage', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'scim-hub-prod-admin-api-invoke',
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'execute-api:Invoke' })] },
    });
    const policy = Object.values(resources(template, 'AWS::IAM::ManagedPolicy')).find(
      (p) => p.Properties?.ManagedPolicyName === 'scim-hub-prod-admin-api-invoke',
    );
    expect(json(policy)).toContain('/prod/GET/admin/reports');
    expect(json(policy)).toContain('/prod/*/admin/*');
    expect(json(policy)).not.toContain('/scim/');
  });

  describe('WAF', () => {
    it('protects the stage by default with the AWS common rule set and a per-IP rate rule', () => {
      // Prepare
      const [aclId, acl] = Object.entries(resources(template, 'AWS::WAFv2::WebACL'))[0]!;
      const [stageId] = Object.keys(resources(template, 'AWS::ApiGateway::Stage'));
      // Assess
      expect(acl.Properties).toMatchObject({
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        Rules: [
          expect.objectContaining({
            Name: 'aws-common-rule-set',
            OverrideAction: { None: {} },
            Statement: {
              ManagedRuleGroupStatement: expect.objectContaining({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' }),
            },
          }),
          expect.objectContaining({
            Name: 'rate-per-ip',
            Action: { Block: {} },
            Statement: { RateBasedStatement: { Limit: 3000, AggregateKeyType: 'IP' } },
          }),
        ],
      });
      template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] } });
      const [association] = Object.values(resources(template, 'AWS::WAFv2::WebACLAssociation'));
      expect(json(association?.Properties?.ResourceArn)).toContain(`{"Ref":"${stageId}"}`);
    });

    it('only counts the common rule set body size rule, since SCIM bodies exceed 8 KB by design', () => {
      const [acl] = Object.values(resources(template, 'AWS::WAFv2::WebACL'));
      const [common] = acl!.Properties.Rules as Array<{ Statement: { ManagedRuleGroupStatement: { RuleActionOverrides: unknown } } }>;
      expect(common?.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual([{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }]);
    });

    it('takes the rate limit from the parameters, and is left out with enableWaf=false', () => {
      // Act
      const { template: tuned } = synthHub({ topology: fullTopology, context: { wafRateLimit: 500 } });
      const { template: without } = synthHub({ topology: fullTopology, context: { enableWaf: 'false' } });
      // Assess
      expect(json(resources(tuned, 'AWS::WAFv2::WebACL'))).toContain('"Limit":500');
      without.resourceCountIs('AWS::WAFv2::WebACL', 0);
      without.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    });
  });
});
