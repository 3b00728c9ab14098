import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { CREATE_REQUIRE_BANNER, esbuildOptionsFor, lambdaBundleOptions } from '../../../infra/aws/bundling.options.ts';
import { bundlingFor, EsbuildBundling } from '../../../infra/aws/function-defaults.construct.ts';
import { fullTopology } from '../fixtures/full.topology.ts';
import { functionLogicalId, functionProperties, json, resources, roleActions, roleStatements, synthHub } from '../support/hub-synth.ts';

const { template } = synthHub({ topology: fullTopology });

describe('hub functions', () => {
  it.each(fullTopology.functions.map((spec) => [spec.name, spec] as const))(
    '%s runs on Node.js 22, arm64, with its memory, timeout, description, X-Ray and the ESM handler',
    (_name, spec) => {
      expect(functionProperties(template, spec.name)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        Description: spec.description,
        FunctionName: `scim-hub-prod-${spec.name}`,
        TracingConfig: { Mode: 'Active' },
      });
    },
  );

  it.each(fullTopology.functions.map((spec) => [spec.name, spec] as const))(
    '%s carries the Parameters and Secrets extension, with its cache off, exactly when it reads the connectors document or secrets',
    (_name, spec) => {
      const properties = functionProperties(template, spec.name);
      const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
      if (spec.grants.some((grant) => grant.resource === 'parameters' || grant.resource === 'secrets')) {
        expect(json(properties.Layers)).toContain('1x0x103xarm64');
        expect(variables).toMatchObject({ PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'false', PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773' });
      } else {
        expect(properties.Layers).toBeUndefined();
        expect(variables.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT).toBeUndefined();
      }
    },
  );

  it.each(fullTopology.functions.map((spec) => [spec.name, spec] as const))('%s has a log group of its own with the retention', (_name, spec) => {
    // Prepare
    const logGroupRef = (functionProperties(template, spec.name).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    // Assess
    expect(resources(template, 'AWS::Logs::LogGroup')[logGroupRef]?.Properties).toMatchObject({ RetentionInDays: 90 });
  });

  it('gives each function a log group of its own', () => {
    const groups = fullTopology.functions.map((spec) => (functionProperties(template, spec.name).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref);
    expect(new Set(groups).size).toBe(fullTopology.functions.length);
  });

  it.each(fullTopology.functions.map((spec) => [spec.name, spec] as const))(
    '%s has the Powertools settings in its environment, and no --enable-source-maps (stacks are mapped when logged)',
    (_name, spec) => {
      const environment = functionProperties(template, spec.name).Environment as { Variables: Record<string, unknown> };
      expect(environment).toMatchObject({
        Variables: {
          POWERTOOLS_SERVICE_NAME: spec.name,
          POWERTOOLS_METRICS_NAMESPACE: 'ScimHub',
          LOG_LEVEL: 'INFO',
        },
      });
      expect(environment.Variables.NODE_OPTIONS).toBeUndefined();
    },
  );

  it('passes the table name, audit retention, queue URLs and connectors parameter only to the functions whose grants use them', () => {
    // Prepare
    const variables = (name: string) => (functionProperties(template, name).Environment as { Variables: Record<string, unknown> }).Variables;
    const tableRef = Object.keys(resources(template, 'AWS::DynamoDB::Table'))[0]!;
    // Assess
    expect(variables('scim-authorizer').TABLE_NAME).toEqual({ Ref: tableRef });
    expect(variables('scim-authorizer')).not.toHaveProperty('AUDIT_RETENTION_DAYS');
    expect(variables('scim-api')).toMatchObject({ TABLE_NAME: { Ref: tableRef }, AUDIT_RETENTION_DAYS: '365' });
    expect(variables('scim-api')).not.toHaveProperty('CONNECTOR_QUEUE_URLS');
    expect(variables('connector-worker')).toMatchObject({ CONNECTORS_PARAMETER: '/scim-hub/prod/connectors' });
    expect(variables('on-demand')).not.toHaveProperty('CONNECTOR_QUEUE_URLS');
  });

  it('passes CONNECTOR_QUEUE_URLS as JSON {connectorId: queueUrl} over the lanes', () => {
    // Prepare
    const urls = json((functionProperties(template, 'fanout').Environment as { Variables: Record<string, unknown> }).Variables.CONNECTOR_QUEUE_URLS);
    const queueRef = (connector: string) =>
      Object.entries(resources(template, 'AWS::SQS::Queue')).find(([, q]) => q.Properties?.QueueName === `scim-hub-prod-connector-${connector}.fifo`)![0];
    // Assess: a Fn::Join that renders {"acme":<url>,"okta":<url>}
    expect(urls).toContain('{\\"acme\\":\\"');
    expect(urls).toContain(`{"Ref":"${queueRef('acme')}"}`);
    expect(urls).toContain('\\",\\"okta\\":\\"');
    expect(urls).toContain(`{"Ref":"${queueRef('okta')}"}`);
  });

  it('gives every function a role of its own with no managed policy, allowed to write its own log group only', () => {
    for (const spec of fullTopology.functions) {
      // Prepare
      const roleId = (functionProperties(template, spec.name).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const role = resources(template, 'AWS::IAM::Role')[roleId];
      const logGroupRef = (functionProperties(template, spec.name).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const logStatements = roleStatements(template, spec.name).filter((s) => json(s.Action).includes('logs:'));
      // Assess
      expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
      expect(logStatements).toHaveLength(1);
      expect(logStatements[0]).toMatchObject({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupRef, 'Arn'] },
      });
    }
  });

  it('lets the authorizer read token items only: GetItem, on partition keys TOKEN#*', () => {
    // Prepare
    const onTable = roleStatements(template, 'scim-authorizer').filter((s) => json(s.Action).includes('dynamodb:'));
    // Assess
    expect(onTable).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DataTable/), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TOKEN#*'] } },
      },
    ]);
  });

  it('denies every function that writes the table, except the IAM-authorized admin API, any write to token items', () => {
    for (const spec of fullTopology.functions) {
      // Prepare
      const admin = spec.triggers.some((t) => t.kind === 'http' && t.auth.type === 'iam');
      const writes = spec.grants.some((g) => g.resource === 'table' && g.access === 'readWrite');
      if (admin) {
        expect(roleStatements(template, spec.name).filter((s) => s.Effect === 'Deny')).toEqual([]);
        continue;
      }
      const denials = roleStatements(template, spec.name).filter((s) => s.Effect === 'Deny');
      // Assess
      if (!writes) {
        expect(roleActions(template, spec.name)).not.toContain('dynamodb:PutItem');
        continue;
      }
      expect(denials).toHaveLength(1);
      expect(denials[0]).toMatchObject({
        Action: expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']),
        Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['TOKEN#*'] } },
      });
    }
  });

  it('grants table read to readers and read-write to writers', () => {
    // Assess
    expect(roleActions(template, 'scim-api')).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ]),
    );
  });

  it('grants stream read to the stream consumer only', () => {
    // Prepare: the statements on the stream ARN (table read grants name GetRecords too, on the table ARN, where it does nothing)
    const onStream = (name: string) => roleStatements(template, name).filter((s) => json(s.Resource).includes('StreamArn'));
    // Assess
    expect(onStream('fanout').flatMap((s) => [s.Action].flat())).toEqual(
      expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream']),
    );
    for (const name of ['scim-api', 'scim-authorizer', 'connector-worker', 'on-demand', 'reconcile']) expect(onStream(name)).toEqual([]);
  });

  it('lets senders send to every lane and consumers consume, and nobody else touch the queues', () => {
    // Prepare
    const queueIds = Object.keys(resources(template, 'AWS::SQS::Queue'));
    const laneQueues = queueIds.filter((id) => id.startsWith('Laneconnector') && !id.includes('Dlq'));
    const laneDlqs = queueIds.filter((id) => id.startsWith('Laneconnector') && id.includes('Dlq'));
    const targetsOf = (name: string, action: string) =>
      roleStatements(template, name)
        .filter((s) => json(s.Action).includes(action))
        .flatMap((s) => [s.Resource].flat())
        .map((r) => (r as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]);
    const sendTargets = (name: string) => targetsOf(name, 'sqs:SendMessage');
    const receiveTargets = (name: string) => targetsOf(name, 'sqs:ReceiveMessage');
    const failureQueue = queueIds.find((id) => id.startsWith('FanoutStreamFailures'));
    // Assess: the fan-out also sends to its stream on-failure queue, as Lambda does on its behalf
    for (const sender of ['reconcile', 'admin-api']) expect(sendTargets(sender).sort()).toEqual(laneQueues.sort());
    expect(sendTargets('fanout').sort()).toEqual([...laneQueues, failureQueue].sort());
    expect(roleActions(template, 'connector-worker')).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
    // A consumer reads its lanes, and may move what it gives up on to their DLQs and send nowhere else.
    expect(receiveTargets('connector-worker').sort()).toEqual(laneQueues.sort());
    expect(sendTargets('connector-worker').sort()).toEqual(laneDlqs.sort());
    // A consumer without a queue trigger (the admin API's redrive) reads the dead letters only.
    expect(receiveTargets('admin-api').sort()).toEqual(laneDlqs.sort());
    for (const name of ['fanout', 'reconcile']) expect(receiveTargets(name)).toEqual([]);
    for (const name of ['scim-api', 'scim-authorizer', 'on-demand']) expect(json(roleActions(template, name))).not.toContain('sqs:');
  });

  it('lets secret readers read secrets under the stage prefix only', () => {
    // Prepare
    const secretStatements = (name: string) => roleStatements(template, name).filter((s) => json(s.Action).includes('secretsmanager:'));
    // Assess
    for (const name of ['connector-worker', 'reconcile', 'on-demand']) {
      expect(secretStatements(name)).toHaveLength(1);
      expect([secretStatements(name)[0]?.Action].flat().sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      expect(json(secretStatements(name)[0]?.Resource)).toContain(':secret:scim-hub/prod/*');
    }
    for (const name of ['scim-api', 'fanout', 'admin-api']) expect(secretStatements(name)).toEqual([]);
  });

  it('lets parameter readers read the connectors document parameter only', () => {
    // Prepare
    const ssmStatements = (name: string) => roleStatements(template, name).filter((s) => json(s.Action).includes('ssm:'));
    // Assess
    for (const name of ['connector-worker', 'reconcile', 'on-demand', 'admin-api']) {
      const [statement] = ssmStatements(name);
      expect(statement?.Action).toEqual(expect.arrayContaining(['ssm:GetParameter']));
      expect(json(statement?.Resource)).toContain(':parameter/scim-hub/prod/connectors');
    }
    for (const name of ['scim-api', 'fanout']) expect(ssmStatements(name)).toEqual([]);
  });

  it('can move the connectors document and the secrets prefix by parameter', () => {
    // Act
    const { template: moved } = synthHub({
      topology: fullTopology,
      context: { connectorsParameterName: '/acme/hub/connectors', secretsNamePrefix: 'acme/hub/' },
    });
    // Assess
    expect(json(roleStatements(moved, 'connector-worker'))).toContain(':parameter/acme/hub/connectors');
    expect(json(roleStatements(moved, 'connector-worker'))).toContain(':secret:acme/hub/*');
  });

  it('tags every function with its topology name', () => {
    for (const spec of fullTopology.functions) expect(() => functionLogicalId(template, spec.name)).not.toThrow();
  });
});

describe('bundling options', () => {
  it('bundles each entry with the shared esbuild options: ESM, minified, split into chunks, source maps, nothing external, the createRequire banner', () => {
    const bundling = bundlingFor('/project/functions/f/handler.ts', lambda.Runtime.NODEJS_22_X);
    expect(bundling.local).toBeInstanceOf(EsbuildBundling);
    expect((bundling.local as EsbuildBundling).entry).toBe('/project/functions/f/handler.ts');
    expect(esbuildOptionsFor('/project/functions/f/handler.ts', '/asset-output')).toMatchObject({
      entryPoints: ['/project/functions/f/handler.ts'],
      outdir: '/asset-output',
      entryNames: 'index',
      outExtension: { '.js': '.mjs' },
      splitting: true,
      bundle: true,
      format: 'esm',
      minify: true,
      sourcemap: true,
      target: 'node22',
      external: [],
      banner: { js: CREATE_REQUIRE_BANNER },
      mainFields: ['module', 'main'],
      alias: lambdaBundleOptions.alias,
    });
  });
});
