import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { fullTopology } from '../fixtures/full.topology.ts';
import { addHub } from '../../../infra/aws/hub.app.ts';
import { UNSCOPABLE_ACTIONS } from '../../../infra/aws/nag.ts';
import { cdkJsonContext, type HubSynthOptions, STAND_IN_ENTRY, synthHub } from '../support/hub-synth.ts';

/** The findings of a pack over an app, one line each, for readable failures. */
const findings = (pack: AwsSolutionsChecks, root: IConstruct): string[] =>
  pack
    .validateScope(root)
    .violations.flatMap((violation) => violation.violatingResources.map((r) => `${violation.ruleName} (${violation.severity}) at ${r.constructPath}`));

/**
 * The same pack with every acknowledgement ignored: what the stack would be blamed for if
 * nothing were explained. cdk-nag 3 looks acknowledgements up in `isAcknowledged`.
 */
const rawPack = (): AwsSolutionsChecks => {
  const pack = new AwsSolutionsChecks();
  Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  return pack;
};

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

const acknowledgements = (root: IConstruct): Acknowledgement[] =>
  root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
}

/** Every IAM statement of a template whose resource is `"*"`, with where it is: inline, role, managed policies. */
const wildcardStatements = (template: Template): Array<{ policy: string; statement: Statement }> => {
  const documents: Array<{ policy: string; document: { Statement?: Statement[] } }> = [];
  for (const [id, resource] of Object.entries(template.findResources('AWS::IAM::Policy')))
    documents.push({ policy: id, document: resource.Properties.PolicyDocument });
  for (const [id, resource] of Object.entries(template.findResources('AWS::IAM::ManagedPolicy')))
    documents.push({ policy: id, document: resource.Properties.PolicyDocument });
  for (const [id, resource] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const inline of (resource.Properties.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: { Statement?: Statement[] } }>) {
      documents.push({ policy: `${id}/${inline.PolicyName}`, document: inline.PolicyDocument });
    }
  }
  return documents.flatMap(({ policy, document }) =>
    (document.Statement ?? [])
      .filter((statement) => [statement.Resource].flat().includes('*') || statement.NotResource !== undefined)
      .map((statement) => ({ policy, statement })),
  );
};

/** What a template grants on `"*"` beyond UNSCOPABLE_ACTIONS, one line each: empty when the stack is right. */
const excessWildcardGrants = (template: Template): string[] =>
  wildcardStatements(template).flatMap(({ policy, statement }) => {
    if (statement.Effect !== 'Allow') return [];
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) return [`${policy}: NotAction or NotResource on "*"`];
    return [statement.Action ?? []]
      .flat()
      .filter((action) => !UNSCOPABLE_ACTIONS.includes(action))
      .map((action) => `${policy}: ${action} on "*"`);
  });

const configurations: Array<[string, HubSynthOptions]> = [
  ['the hub topology, defaults', {}],
  ['the hub topology, no WAF, destroyable, alarm email', { context: { enableWaf: 'false', removalPolicy: 'destroy', alarmEmail: 'ops@example.com' } }],
  ['every trigger kind, defaults', { topology: fullTopology }],
  ['every trigger kind, no WAF, destroyable', { topology: fullTopology, context: { enableWaf: 'false', removalPolicy: 'destroy' } }],
  ['every trigger kind, no connectors', { topology: fullTopology, context: { connectorIds: '' } }],
];

describe.each(configurations)('cdk-nag AwsSolutions on %s', (_name, options) => {
  const { app } = synthHub(options);

  it('finds nothing that is neither fixed nor acknowledged', () => {
    expect(findings(new AwsSolutionsChecks(), app)).toEqual([]);
  });

  it('acknowledges only findings that exist: no acknowledgement is left over from a fixed finding', () => {
    // Prepare
    const raw = findings(rawPack(), app);
    // Assess
    for (const ack of acknowledgements(app)) {
      const covered = raw.filter((line) => line.startsWith(`${ack.id} (`) && line.includes(` at ${ack.path}/`));
      expect(covered, `${ack.id} at ${ack.path}`).not.toEqual([]);
    }
  });

  it('grants on "*" only X-Ray trace uploads, and ListStreams to stream consumers', () => {
    // Prepare
    const { template } = synthHub(options);
    const statements = wildcardStatements(template);
    // Assess
    expect(statements.length).toBeGreaterThan(0);
    expect(excessWildcardGrants(template)).toEqual([]);
    for (const { policy, statement } of statements) {
      const actions = [statement.Action].flat().sort();
      expect(
        [
          ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
          ['dynamodb:ListStreams', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
        ],
        policy,
      ).toContainEqual(actions);
    }
  });

  it('acknowledges "*" resources only on the default policies of function roles', () => {
    const wildcardAcks = acknowledgements(app).filter((ack) => ack.id === 'AwsSolutions-IAM5[Resource::*]');
    expect(wildcardAcks.length).toBeGreaterThan(0);
    expect(wildcardAcks.map((ack) => ack.path).filter((path) => !path.endsWith('/Role/DefaultPolicy'))).toEqual([]);
  });

  it('gives every acknowledgement a specific reason', () => {
    for (const ack of acknowledgements(app)) {
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThan(80);
      expect(ack.reason, `${ack.id} at ${ack.path}`).not.toMatch(/^(n\/a|todo|ok|suppressed|false positive)\b/i);
    }
  });
});

describe('cdk-nag in the app', () => {
  it('fails synthesis on an unacknowledged finding, as cdk synth does', () => {
    // Prepare: the app as the CLI builds it, plus a queue that breaks two rules
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const stack = addHub(app, { topology: fullTopology, resolveEntry: () => STAND_IN_ENTRY });
    new sqs.Queue(stack, 'Unexplained');
    // Act, Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  /** The app as the CLI builds it, and one function role in it. */
  const appWithRole = () => {
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const stack = addHub(app, { topology: fullTopology, resolveEntry: () => STAND_IN_ENTRY });
    const role = stack.node.findAll().find((c): c is iam.Role => c instanceof iam.Role && c.node.path.endsWith('/Role'));
    if (!role) throw new Error('no function role in the stack');
    return { stack, role };
  };

  it('notices another action granted on "*" in a default policy, which the acknowledgement would hide from cdk-nag', () => {
    // Prepare
    const { stack, role } = appWithRole();
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    // Act: synthesis passes, the finding id being the same as for X-Ray's "*"
    const template = Template.fromStack(stack);
    // Assess
    expect(excessWildcardGrants(template)).toEqual([expect.stringMatching(/DefaultPolicy\w*: s3:GetObject on "\*"$/)]);
  });

  it('leaves cdk-nag to refuse a "*" resource anywhere but a function role\'s default policy', () => {
    // Prepare
    const { stack, role } = appWithRole();
    new iam.Policy(stack, 'Unexplained', { roles: [role], statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] })] });
    // Act, Assess
    expect(() => Template.fromStack(stack)).toThrow(/Unexplained\/Resource[\s\S]*AwsSolutions-IAM5\[Resource::\*\]/);
  });

  it('has findings to catch in the hub itself, so the zero above is not vacuous', () => {
    const { app } = synthHub({ topology: fullTopology });
    expect(findings(rawPack(), app).length).toBeGreaterThan(0);
  });
});
