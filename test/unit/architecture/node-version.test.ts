import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_MAJOR } from '../../../infra/aws/bundling.options.ts';

const packageJson = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};

/**
 * npm scripts put node_modules/.bin first on the PATH, so the `node` package's binary runs
 * `npm start`, the tests and the CLIs: it must be the Node.js the functions are bundled for and
 * deployed on, and move with it.
 */
describe('the Node.js the project runs on locally', () => {
  it("is the Lambda runtime's major version", () => {
    expect(packageJson.devDependencies.node).toMatch(new RegExp(`^${NODE_MAJOR}\\.\\d+\\.\\d+$`));
  });

  it('is allowed its install script, which fetches the binary for the platform', () => {
    expect(packageJson.allowScripts?.[`node@${packageJson.devDependencies.node}`]).toBe(true);
  });
});
