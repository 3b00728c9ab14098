import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run lint` runs dependency-cruiser with the project's rules. These cases prove that each
 * kind of violation fails it: the fixture tree (test/fixtures/boundaries) is laid out like the
 * project in a directory of its own, where the rules' paths match it.
 */
const ROOT = resolve(import.meta.dirname, '../../..');

describe('the layer rules in npm run lint', { timeout: 60_000 }, () => {
  let tree: string;

  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), 'boundaries-'));
    cpSync(join(ROOT, 'test/fixtures/boundaries'), tree, { recursive: true });
    cpSync(join(ROOT, 'tsconfig.json'), join(tree, 'tsconfig.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  const cruise = (...paths: string[]) => {
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
        ...paths,
        '--config',
        join(ROOT, '.dependency-cruiser.cjs'),
        '--output-type',
        'err',
      ],
      {
        cwd: tree,
        encoding: 'utf8',
      },
    );
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  };

  it('fails when the pure core imports the AWS SDK, naming both rules it breaks', () => {
    const result = cruise('shared/scim');

    expect(result.status).not.toBe(0);
    expect(result.output).toContain('pure-core-imports-no-aws: shared/scim/reads-the-table.ts');
    expect(result.output).toContain('only-the-store-talks-to-dynamodb: shared/scim/reads-the-table.ts');
  });

  it('fails when one function imports another function', () => {
    const result = cruise('functions');

    expect(result.status).not.toBe(0);
    expect(result.output).toContain('functions-do-not-import-each-other: functions/alpha/handler.ts → functions/beta/handler.ts');
  });

  it('fails on an import cycle, even of types only', () => {
    const result = cruise('shared/cycle');

    expect(result.status).not.toBe(0);
    expect(result.output).toContain('no-cycles');
  });

  it('passes a tree that breaks no rule', () => {
    const result = cruise('shared/sync/clean.ts', 'functions/beta');

    expect(result.output).not.toContain('error');
    expect(result.status).toBe(0);
  });
});
