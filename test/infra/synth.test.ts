import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lambdaBundleOptions } from '../../infra/aws/bundling.options.ts';
import { projectRoot } from '../../infra/aws/hub.app.ts';
import { hubTopology } from '../../shared/topology/hub.topology.ts';
import { functionLogicalId, resources, synthHub } from './support/hub-synth.ts';

const cdkJson = JSON.parse(readFileSync(resolve(projectRoot, 'cdk.json'), 'utf8')) as Record<string, unknown> & {
  context: Record<string, unknown>;
};
const missingEntries = hubTopology.functions.filter((fn) => !existsSync(resolve(projectRoot, fn.entry))).map((fn) => fn.entry);

describe('cdk.json', () => {
  it('runs the app through tsx, and keeps the CLI off the network: no telemetry, notices or version reporting', () => {
    expect(cdkJson).toMatchObject({ app: 'npx tsx infra/aws/app.ts', notices: false, versionReporting: false });
    expect(cdkJson.context['cli-telemetry']).toBe(false);
  });

  it('turns CloudFormation validation findings into synthesis errors', () => {
    expect(cdkJson.context['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
  });
});

describe('synthesis of THE hub, as cdk synth does it', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'scim-hub-synth-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  // The handlers are real code; until every entry exists, only the template-only tests can run.
  it.skipIf(missingEntries.length > 0)(
    'bundles every function and passes CloudFormation validation and cdk-nag (environment-agnostic, no lookups)',
    () => {
      // Act
      const { template, stack } = synthHub({ bundle: true, cloudFormationValidation: true, outdir });
      // Assess
      expect(stack.environment).toBe('aws://unknown-account/unknown-region');
      for (const fn of hubTopology.functions) {
        const code = resources(template)[functionLogicalId(template, fn.name)]!.Properties?.Code as { S3Key: string };
        const bundle = join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, lambdaBundleOptions.outputFile);
        expect(existsSync(bundle), fn.name).toBe(true);
      }
      // A lookup would have written its question to the assembly's missing context.
      const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { missing?: unknown[] };
      expect(manifest.missing ?? []).toEqual([]);
    },
    // esbuild bundles every function, one after the other.
    180_000,
  );
});
