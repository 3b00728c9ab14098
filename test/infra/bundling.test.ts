import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { CREATE_REQUIRE_BANNER, esbuildOptionsFor, lambdaBundleOptions } from '../../infra/aws/bundling.options.ts';
import { projectRoot } from '../../infra/aws/hub.app.ts';
import type { Topology } from '../../shared/topology/topology.types.ts';
import { functionLogicalId, resources, synthHub } from './support/hub-synth.ts';

/** Two small functions, really bundled: one through a CommonJS dependency, one with an AWS SDK client. */
const bundledTopology: Topology = {
  functions: [
    {
      name: 'echo',
      description: 'Answers with its event, through a CommonJS dependency.',
      entry: 'test/infra/fixtures/functions/echo/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 5,
      triggers: [{ kind: 'invoke' }],
      grants: [],
    },
    {
      name: 'fails',
      description: 'Logs an error it threw, with a cause.',
      entry: 'test/infra/fixtures/functions/fails/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 5,
      triggers: [{ kind: 'invoke' }],
      grants: [],
    },
    {
      name: 'sdk-client',
      description: 'Builds an SQS client at module scope.',
      entry: 'test/infra/fixtures/functions/sdk-client/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 5,
      triggers: [{ kind: 'invoke' }],
      grants: [],
    },
  ],
  queues: [],
};

const outdir = mkdtempSync(join(tmpdir(), 'scim-hub-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const { template } = synthHub({ topology: bundledTopology, bundle: true, outdir });

/** The bundle directory the stack staged for a function: `asset.<hash>`, the hash being the code's S3 key. */
const assetDir = (name: string): string => {
  const code = resources(template)[functionLogicalId(template, name)]!.Properties?.Code as { S3Key: string };
  return join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
};

/** The ES modules of a bundle directory, by path relative to it: the index and its chunks. */
const modulesOf = (directory: string): string[] =>
  readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.mjs'))
    .sort();

/** Runs a bundle's handler once in a fresh Node process with a Lambda-like environment: what it logged (errors go to stderr). */
const runInFreshNode = (bundle: string): string => {
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)}); await handler({});`],
    {
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: 'fails', LOG_LEVEL: 'INFO' },
      encoding: 'utf8',
    },
  );
  return `${run.stdout}${run.stderr}`;
};

/** Imports a bundle in a fresh Node process, as Lambda does, and invokes its handler once. */
const invokeInFreshNode = (bundle: string, event: unknown): unknown => {
  const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(JSON.stringify(await handler(${JSON.stringify(event)})));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDFROMENV',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(output);
};

describe('function bundles, as the stack builds them', () => {
  it('are minified ES modules, an index and its chunks, each with a source map and the createRequire banner', () => {
    for (const name of ['echo', 'fails', 'sdk-client']) {
      // Act
      const modules = modulesOf(assetDir(name));
      // Assess
      expect(modules).toContain(lambdaBundleOptions.outputFile);
      for (const module of modules) {
        const code = readFileSync(join(assetDir(name), module), 'utf8');
        const map = JSON.parse(readFileSync(join(assetDir(name), `${module}.map`), 'utf8')) as { sourcesContent?: unknown };
        expect(code.startsWith(CREATE_REQUIRE_BANNER), module).toBe(true);
        expect(code).toMatch(new RegExp(`//# sourceMappingURL=${basename(module).replace('.', '\\.')}\\.map\\s*$`));
        expect(code.split('\n').length).toBeLessThan(150);
        expect(map.sourcesContent).toBeUndefined();
      }
    }
  });

  it('put what only import() reaches into a chunk of its own, read only when that import runs', () => {
    // The SDK loads its event stream support with import(): the SQS client never does here.
    const modules = modulesOf(assetDir('sdk-client'));
    const index = readFileSync(join(assetDir('sdk-client'), lambdaBundleOptions.outputFile), 'utf8');
    const onDemand = modules.filter((module) => module.startsWith(`${lambdaBundleOptions.chunkDirectory}/`) && index.includes(`import("./${module}")`));
    expect(onDemand.length).toBeGreaterThan(0);
  });

  it('run a CommonJS dependency that requires a Node built-in, thanks to the banner', () => {
    const bundle = join(assetDir('echo'), lambdaBundleOptions.outputFile);
    expect(invokeInFreshNode(bundle, { hello: 'world' })).toEqual({ echo: { hello: 'world' }, endOfLine: '\n' });
  });

  it('carry the AWS SDK inside, tree-shaken, and take Region and credentials from the environment', () => {
    // Prepare
    const bundle = join(assetDir('sdk-client'), lambdaBundleOptions.outputFile);
    const modules = modulesOf(assetDir('sdk-client'));
    const code = modules.map((module) => readFileSync(join(assetDir('sdk-client'), module), 'utf8')).join('\n');
    // Assess: no import left for the runtime to resolve but Node built-ins and the bundle's own chunks
    const imports = [...code.matchAll(/(?:from|import)\s*\(?["']([^"']+)["']/g)].map((m) => m[1]);
    const ownChunks = imports.filter((specifier) => specifier?.startsWith('./'));
    for (const chunk of ownChunks) expect(modules.map((module) => `./${module}`)).toContain(chunk?.replace(/^\.\/(?!chunks\/)/, './chunks/'));
    expect(
      imports.filter(
        (specifier) =>
          !specifier?.startsWith('node:') &&
          !specifier?.startsWith('./') &&
          ![
            'module',
            'crypto',
            'fs',
            'os',
            'path',
            'url',
            'http',
            'https',
            'stream',
            'buffer',
            'process',
            'child_process',
            'util',
            'http2',
            'zlib',
            'events',
          ].includes(specifier!),
      ),
    ).toEqual([]);
    // Only the environment link of the credential chain is bundled (bundling/lambda-credential-provider.ts).
    expect(code).not.toContain('credential-provider-sso');
    expect(code).not.toContain('AWS_WEB_IDENTITY_TOKEN_FILE');
    // Act, Assess
    expect(invokeInFreshNode(bundle, { queueName: 'lane' })).toEqual({ region: 'eu-west-1', accessKeyId: 'AKIDFROMENV', command: { QueueName: 'lane' } });
  });

  it('log errors with their stacks, causes included, in TypeScript positions, without --enable-source-maps', () => {
    // Act
    const output = runInFreshNode(join(assetDir('fails'), lambdaBundleOptions.outputFile));
    // Assess
    const logged = output.split('\n').find((l) => l.includes('the fixture failed'));
    expect(logged, output).toBeDefined();
    const line = JSON.parse(logged as string) as { error?: { location: string; stack: string; cause: { stack: string } } };
    expect(line.error?.location).toMatch(/^test\/infra\/fixtures\/functions\/fails\/handler\.ts:7$/);
    expect(line.error?.stack).toMatch(/ \(test\/infra\/fixtures\/functions\/fails\/handler\.ts:7:\d+\)/);
    expect(line.error?.stack).toMatch(/test\/infra\/fixtures\/functions\/fails\/handler\.ts:12:\d+/);
    expect(line.error?.cause.stack).toMatch(/test\/infra\/fixtures\/functions\/fails\/handler\.ts:7:\d+/);
    expect(line.error?.stack).not.toContain('.mjs:');
  });

  it('are byte for byte what the bench measures (the same esbuild options, from one place)', async () => {
    // Prepare
    const benchDir = mkdtempSync(join(tmpdir(), 'scim-hub-bench-'));
    try {
      for (const spec of bundledTopology.functions) {
        const outdir = join(benchDir, spec.name);
        // Act
        await build({ ...esbuildOptionsFor(resolve(projectRoot, spec.entry), outdir), logLevel: 'error' });
        // Assess
        expect(modulesOf(outdir), spec.name).toEqual(modulesOf(assetDir(spec.name)));
        for (const module of modulesOf(outdir)) {
          expect(readFileSync(join(outdir, module), 'utf8'), `${spec.name} ${module}`).toBe(readFileSync(join(assetDir(spec.name), module), 'utf8'));
        }
      }
    } finally {
      rmSync(benchDir, { recursive: true, force: true });
    }
  });
});
