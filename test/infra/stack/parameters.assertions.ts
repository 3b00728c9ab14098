import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { parseHubParameters, readHubParameters } from '../../../infra/aws/hub.parameters.ts';
import { fullTopology } from '../fixtures/full.topology.ts';
import { functionProperties, resources, synthHub } from '../support/hub-synth.ts';

describe('hub parameters', () => {
  it('has a default for everything, so that a bare cdk synth works', () => {
    expect(parseHubParameters({})).toEqual({
      stageName: 'prod',
      connectorIds: [],
      reconcileSchedules: {},
      connectorsParameterName: '/scim-hub/prod/connectors',
      secretsNamePrefix: 'scim-hub/prod/',
      alarmEmail: undefined,
      operatorsRoleName: undefined,
      logRetentionDays: 90,
      auditRetentionDays: 365,
      enableWaf: true,
      wafRateLimit: 3000,
      throttlingRateLimit: 100,
      throttlingBurstLimit: 200,
      logLevel: 'INFO',
      removalPolicy: 'retain',
    });
  });

  it('reads -c strings from the command line', () => {
    // Act
    const parameters = parseHubParameters({
      stageName: 'staging',
      connectorIds: ' acme, okta ,,entra ',
      logRetentionDays: '30',
      auditRetentionDays: '730',
      enableWaf: 'false',
      alarmEmail: 'ops@example.com',
      removalPolicy: 'destroy',
    });
    // Assess
    expect(parameters).toMatchObject({
      stageName: 'staging',
      connectorIds: ['acme', 'okta', 'entra'],
      connectorsParameterName: '/scim-hub/staging/connectors',
      secretsNamePrefix: 'scim-hub/staging/',
      logRetentionDays: 30,
      auditRetentionDays: 730,
      enableWaf: false,
      alarmEmail: 'ops@example.com',
      removalPolicy: 'destroy',
    });
  });

  it('reads reconciliation schedules as a command-line list or a cdk.json object, for known connectors only', () => {
    expect(parseHubParameters({ connectorIds: 'acme,okta', reconcileSchedules: 'acme=cron(0 2 * * ? *); okta=rate(6 hours)' }).reconcileSchedules).toEqual({
      acme: 'cron(0 2 * * ? *)',
      okta: 'rate(6 hours)',
    });
    expect(parseHubParameters({ connectorIds: ['acme'], reconcileSchedules: { acme: 'rate(1 day)' } }).reconcileSchedules).toEqual({ acme: 'rate(1 day)' });
    expect(() => parseHubParameters({ connectorIds: 'acme', reconcileSchedules: 'okta=rate(1 day)' })).toThrowError(/reconcileSchedules: every connector/);
    expect(() => parseHubParameters({ connectorIds: 'acme', reconcileSchedules: 'acme=daily' })).toThrowError(/reconcileSchedules\.acme/);
  });

  it('reads JSON values from cdk.json context', () => {
    expect(parseHubParameters({ connectorIds: ['acme'], logRetentionDays: 14, enableWaf: false })).toMatchObject({
      connectorIds: ['acme'],
      logRetentionDays: 14,
      enableWaf: false,
    });
  });

  it('reads the app context', () => {
    const app = new App({ context: { stageName: 'dev', connectorIds: 'acme' } });
    expect(readHubParameters(app.node)).toMatchObject({ stageName: 'dev', connectorIds: ['acme'] });
  });

  it.each([
    [{ stageName: 'Prod' }, /stageName/],
    [{ connectorIds: 'acme,ACME!' }, /connectorIds/],
    [{ connectorIds: 'acme,acme' }, /connector ids must be unique/],
    [{ connectorIds: Array.from({ length: 31 }, (_, i) => `c${i}`).join(',') }, /at most 30 connectors/],
    [{ logRetentionDays: '45' }, /logRetentionDays: one of 1, 3, 5/],
    [{ enableWaf: 'yes' }, /enableWaf/],
    [{ removalPolicy: 'snapshot' }, /removalPolicy/],
    [{ alarmEmail: 'not-an-address' }, /alarmEmail/],
    [{ connectorsParameterName: 'no-leading-slash' }, /connectorsParameterName/],
  ])('refuses %j with a message naming the parameter', (context, message) => {
    expect(() => parseHubParameters(context)).toThrow(message);
  });
});

describe('parameters in the template', () => {
  const { template, stack } = synthHub({
    topology: fullTopology,
    context: { stageName: 'staging', logRetentionDays: 30, auditRetentionDays: 730, logLevel: 'DEBUG', removalPolicy: 'destroy' },
  });

  it('names the stack after the stage', () => {
    expect(stack.stackName).toBe('ScimHub-staging');
  });

  it('prefixes the names the stack chooses with the stage', () => {
    expect(functionProperties(template, 'scim-api').FunctionName).toBe('scim-hub-staging-scim-api');
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'scim-hub-staging-connector-acme.fifo' });
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'staging' });
  });

  it('sets the log retention of every log group', () => {
    for (const group of Object.values(resources(template, 'AWS::Logs::LogGroup'))) expect(group.Properties?.RetentionInDays).toBe(30);
  });

  it('passes the audit retention and the log level to the functions', () => {
    expect(functionProperties(template, 'scim-api').Environment).toMatchObject({
      Variables: { AUDIT_RETENTION_DAYS: '730', LOG_LEVEL: 'DEBUG' },
    });
  });

  it('with removalPolicy=destroy deletes the state with the stack and drops termination protection', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::Logs::LogGroup']) {
      for (const resource of Object.values(resources(template, type))) expect(resource.DeletionPolicy, type).toBe('Delete');
    }
    expect(stack.terminationProtection).toBe(false);
    expect(synthHub({ topology: fullTopology }).stack.terminationProtection).toBe(true);
  });
});

describe('hub parameters from a connectors document', () => {
  // Prepare: the document operators upload to SSM, as a file beside the CDK app.
  const dir = mkdtempSync(join(tmpdir(), 'connectors-context-'));
  const write = (name: string, document: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, typeof document === 'string' ? document : JSON.stringify(document));
    return file;
  };
  const scim = { type: 'scim', baseUrl: 'https://app.example.com/scim/v2', bearerToken: { secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' } };
  const connectorsFile = write('connectors.json', {
    connectors: [
      { ...scim, id: 'acme', reconcile: { schedule: 'cron(0 2 * * ? *)' } },
      { ...scim, id: 'crm', reconcile: { schedule: 'rate(6 hours)' } },
      { ...scim, id: 'paused', enabled: false, reconcile: { schedule: 'rate(1 hour)' } },
      { ...scim, id: 'manual' },
    ],
  });

  it('derives a lane per connector and a schedule per enabled connector that sets one', () => {
    expect(parseHubParameters({ connectorsFile })).toMatchObject({
      connectorIds: ['acme', 'crm', 'paused', 'manual'],
      reconcileSchedules: { acme: 'cron(0 2 * * ? *)', crm: 'rate(6 hours)' },
    });
  });

  it('refuses connectorIds or reconcileSchedules beside it, and a document that is not valid, naming the file', () => {
    expect(() => parseHubParameters({ connectorsFile, connectorIds: 'acme' })).toThrowError(/connectorsFile derives connectorIds from the document/);
    expect(() => parseHubParameters({ connectorsFile, reconcileSchedules: 'acme=rate(1 day)' })).toThrowError(/derives reconcileSchedules/);
    const bad = write('bad.json', { connectors: [{ ...scim, id: 'acme', reconcile: { schedule: 'daily' } }] });
    expect(() => parseHubParameters({ connectorsFile: bad })).toThrowError(/bad\.json is not a valid connectors document: connectors\.0\.reconcile\.schedule/);
    expect(() => parseHubParameters({ connectorsFile: join(dir, 'missing.json') })).toThrowError(/missing\.json cannot be read/);
  });

  it("synthesises one EventBridge rule per scheduled connector, on the document's expression, naming the connector", () => {
    // Act
    const { template } = synthHub({ context: { connectorsFile } });
    // Assess
    const rules = Object.values(resources(template, 'AWS::Events::Rule')).map((rule): [string, string] => {
      const [target] = rule.Properties.Targets as Array<{ InputTransformer: { InputTemplate: string } }>;
      return [String(rule.Properties.ScheduleExpression), String(/"detail":(\{[^}]*\})/.exec(target?.InputTransformer.InputTemplate ?? '')?.[1])];
    });
    expect(rules).toEqual(
      expect.arrayContaining([
        ['cron(0 2 * * ? *)', '{"connectorId":"acme"}'],
        ['rate(6 hours)', '{"connectorId":"crm"}'],
      ]),
    );
    expect(rules.filter(([, detail]) => detail.includes('connectorId'))).toHaveLength(2);
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'scim-hub-prod-connector-manual.fifo' });
  });
});
