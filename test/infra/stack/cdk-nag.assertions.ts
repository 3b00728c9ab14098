import { App, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { fullTopology } from '../fixtures/full.topology.ts';
import { addHub } from '../../../infra/aws/hub.app.ts';
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

  it('has findings to catch in the hub itself, so the zero above is not vacuous', () => {
    const { app } = synthHub({ topology: fullTopology });
    expect(findings(rawPack(), app).length).toBeGreaterThan(0);
  });
});
