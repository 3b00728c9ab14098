import { describe, expect, it } from 'vitest';
import { hubTopology } from '../../../shared/topology/hub.topology.ts';
import type { Topology } from '../../../shared/topology/topology.types.ts';
import { functionProperties, json, resourcePath, resources, synthHub } from '../support/hub-synth.ts';

/** THE hub topology's operators' console: hosting, sign-in, and what joins them to the API. */
const { template } = synthHub({ topology: hubTopology });

/** The one resource of a type in the stack, or of the console's (the stack has other buckets and bucket policies). */
const only = (type: string, idPrefix = '') => {
  const found = Object.entries(resources(template, type)).filter(([id]) => id.startsWith(idPrefix));
  expect(found, type).toHaveLength(1);
  return found[0]!;
};

describe("the operators' console in the stack", () => {
  const [bucketId] = only('AWS::S3::Bucket', 'ConsoleHosting');
  const [distributionId, distribution] = only('AWS::CloudFront::Distribution');
  const [poolId, pool] = only('AWS::Cognito::UserPool');
  const [clientId, client] = only('AWS::Cognito::UserPoolClient');
  const [domainId, domain] = only('AWS::Cognito::UserPoolDomain');
  const distributionDomain = json({ 'Fn::GetAtt': [distributionId, 'DomainName'] });
  const config = () => distribution.Properties.DistributionConfig as Record<string, unknown>;

  it('keeps the built files in a private, encrypted bucket that refuses plain HTTP', () => {
    // Prepare
    const [, bucket] = only('AWS::S3::Bucket', 'ConsoleHosting');
    const [, policy] = only('AWS::S3::BucketPolicy', 'ConsoleHosting');
    // Assess
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    expect(policy.Properties.PolicyDocument).toMatchObject({
      Statement: expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    });
  });

  it('serves the bucket through CloudFront with origin access control, over HTTPS only', () => {
    // Prepare
    const [oacId] = only('AWS::CloudFront::OriginAccessControl');
    const [, policy] = only('AWS::S3::BucketPolicy', 'ConsoleHosting');
    const origins = config().Origins as Array<Record<string, unknown>>;
    // Assess
    template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    expect(origins).toHaveLength(1);
    expect(origins[0]).toMatchObject({ OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] }, S3OriginConfig: { OriginAccessIdentity: '' } });
    expect(config().DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'] });
    // Only this distribution may read the bucket, by its ARN.
    expect(json(policy.Properties.PolicyDocument)).toContain('"Service":"cloudfront.amazonaws.com"');
    expect(json(policy.Properties.PolicyDocument)).toContain(distributionId);
  });

  it('answers every console route with index.html and sends / to /console/, in a viewer-request function', () => {
    // Prepare
    const [functionId, fn] = only('AWS::CloudFront::Function');
    const code = String(fn.Properties.FunctionCode);
    // Assess
    expect(config().DefaultCacheBehavior).toMatchObject({
      FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } }],
    });
    expect(code).toContain("request.uri = '/console/index.html'");
    expect(code).toContain("location: { value: '/console/' }");
    expect(code).toContain("uri === '/console/config.json'");
  });

  it('sets the security headers: HSTS, a CSP allowing only itself, the API and the sign-in domain, nosniff, DENY, no referrer', () => {
    // Prepare
    const [headersId, headers] = only('AWS::CloudFront::ResponseHeadersPolicy');
    const security = (headers.Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, unknown> }).SecurityHeadersConfig;
    const csp = json((security.ContentSecurityPolicy as { ContentSecurityPolicy: unknown }).ContentSecurityPolicy);
    const [apiId] = only('AWS::ApiGateway::RestApi');
    // Assess
    expect(config().DefaultCacheBehavior).toMatchObject({ ResponseHeadersPolicyId: { Ref: headersId } });
    expect(security).toMatchObject({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
    });
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/connect-src 'self' https:\/\/.*execute-api/);
    expect(csp).toContain(`{"Ref":"${apiId}"}`);
    expect(csp).toContain(`{"Ref":"${domainId}"}`);
  });

  it('gives operators a pool of their own: no self sign-up, MFA required, a strong password policy, threat protection', () => {
    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: { MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });

  it('signs the console in with the authorization code and PKCE as a public client, returning to the console on the distribution', () => {
    // Prepare
    const [resourceServerId] = only('AWS::Cognito::UserPoolResourceServer');
    const consoleUrl = json({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/console/']] });
    // Assess
    expect(client.Properties).toMatchObject({
      UserPoolId: { Ref: poolId },
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
    });
    // The API scope names the resource server (identifier scim-hub), so the client follows it.
    expect(json(client.Properties.AllowedOAuthScopes)).toBe(json(['openid', { 'Fn::Join': ['', [{ Ref: resourceServerId }, '/console']] }]));
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', { Identifier: 'scim-hub', UserPoolId: { Ref: poolId } });
    expect(client.Properties.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
    expect((client.Properties.CallbackURLs as unknown[]).map(json)).toEqual([consoleUrl]);
    expect((client.Properties.LogoutURLs as unknown[]).map(json)).toEqual([consoleUrl]);
  });

  it('hosts the managed login on the pool domain, styled for the console client', () => {
    expect(domain.Properties).toMatchObject({ UserPoolId: { Ref: poolId }, ManagedLoginVersion: 2 });
    template.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', {
      UserPoolId: { Ref: poolId },
      ClientId: { Ref: clientId },
      UseCognitoProvidedValues: true,
    });
  });

  it("puts the operators' pool in front of the console's routes, and CORS for the distribution's origin only", () => {
    // Prepare
    const [authorizerId] = Object.entries(resources(template, 'AWS::ApiGateway::Authorizer')).find(([, a]) => a.Properties.Type === 'COGNITO_USER_POOLS')!;
    const methods = Object.values(resources(template, 'AWS::ApiGateway::Method')).map(
      (m): Record<string, unknown> => ({ path: resourcePath(template, (m.Properties.ResourceId as { Ref: string }).Ref), ...m.Properties }),
    );
    const preflight = methods.find((m) => m.path === '/operator/{proxy+}' && m.HttpMethod === 'OPTIONS');
    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: [{ 'Fn::GetAtt': [poolId, 'Arn'] }],
      IdentitySource: 'method.request.header.Authorization',
    });
    expect(methods.find((m) => m.path === '/operator/{proxy+}' && m.HttpMethod === 'ANY')).toMatchObject({
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: { Ref: authorizerId },
      AuthorizationScopes: ['scim-hub/console'],
    });
    expect(methods.find((m) => m.path === '/admin/{proxy+}')).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    expect(json(preflight?.Integration)).toContain(`'https://",{"Fn::GetAtt":["${distributionId}","DomainName"]}`);
    expect(json(preflight?.Integration)).not.toContain("'*'");
    // A refusal by the authorizer reaches the console readable, so it can sign the operator out.
    for (const type of ['UNAUTHORIZED', 'DEFAULT_4XX', 'DEFAULT_5XX']) {
      const response = Object.values(resources(template, 'AWS::ApiGateway::GatewayResponse')).find((r) => r.Properties.ResponseType === type);
      expect(json(response?.Properties.ResponseParameters), type).toContain(distributionDomain);
    }
  });

  it("tells the admin API the console's origin, the one its answers allow", () => {
    const variables = (functionProperties(template, 'admin-api').Environment as { Variables: Record<string, unknown> }).Variables;
    expect(json(variables.CONSOLE_ORIGIN)).toBe(json({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] }));
  });

  it('deploys the assets, then index.html with config.json naming the API stage, the pool domain and the client', () => {
    // Prepare
    const deployments = Object.entries(resources(template, 'Custom::CDKBucketDeployment'));
    const assets = deployments.find(([, d]) => json(d.Properties.Include).includes('assets/*'));
    const page = deployments.find(([, d]) => json(d.Properties.Exclude).includes('assets/*'));
    // Assess
    expect(deployments).toHaveLength(2);
    expect(assets?.[1].Properties).toMatchObject({
      DestinationBucketKeyPrefix: 'console/',
      Prune: false,
      SystemMetadata: { 'cache-control': expect.any(String) },
    });
    expect(json(assets?.[1].Properties.SystemMetadata)).toContain('immutable');
    expect(page?.[1].Properties).toMatchObject({ DestinationBucketKeyPrefix: 'console/', Prune: true, SystemMetadata: { 'cache-control': 'no-cache' } });
    expect(page?.[1].DependsOn).toEqual(expect.arrayContaining([assets?.[0]]));
    for (const d of [assets, page]) expect(json(d?.[1].Properties.DestinationBucketName)).toBe(json({ Ref: bucketId }));
    // config.json's values are deploy-time markers: the stage URL, the sign-in domain and the client id.
    const markers = json(page?.[1].Properties.SourceMarkers);
    const [apiId] = only('AWS::ApiGateway::RestApi');
    const [stageId] = only('AWS::ApiGateway::Stage');
    expect(markers).toContain(`{"Ref":"${apiId}"}`);
    expect(markers).toContain(`{"Ref":"${stageId}"}`);
    expect(markers).toContain(domainId);
    expect(markers).toContain(clientId);
  });

  it('outputs the console URL and the pool operators are created in', () => {
    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Value: unknown }>).map((o) => json(o.Value));
    expect(outputs).toEqual(expect.arrayContaining([json({ Ref: poolId })]));
    expect(outputs.some((o) => o.includes(distributionId) && o.includes('/console/'))).toBe(true);
  });

  it('leaves the console out of a topology without operator routes', () => {
    // Prepare
    const withoutConsole: Topology = {
      ...hubTopology,
      functions: hubTopology.functions.map((fn) => ({
        ...fn,
        triggers: fn.triggers.filter((t) => !(t.kind === 'http' && t.auth.type === 'operator')),
      })),
    };
    // Act
    const { template: plain } = synthHub({ topology: withoutConsole });
    // Assess
    for (const type of ['AWS::CloudFront::Distribution', 'AWS::Cognito::UserPool', 'Custom::CDKBucketDeployment']) plain.resourceCountIs(type, 0);
    expect(Object.keys(resources(plain)).filter((id) => id.startsWith('Console'))).toEqual([]);
    plain.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
  });
});
