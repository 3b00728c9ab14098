import { fileURLToPath } from 'node:url';

/**
 * How every function of the topology is bundled, written once: the stack's asset bundling
 * (function-defaults.construct.ts) and `bench/bundles.bench.ts` both hand `esbuildOptionsFor` to
 * esbuild, so the sizes and import times the bench reports are those of the deployed bundles.
 *
 * This module imports nothing from aws-cdk-lib on purpose: the bench loads it without the CDK.
 */

/** The Lambda runtime's Node.js major version; the stack picks the matching `Runtime`. */
export const NODE_MAJOR = 22;

/**
 * ESM output cannot `require()`, yet bundled CommonJS dependencies still call it for Node
 * built-ins. esbuild turns those calls into `__require`, which works only when a `require`
 * exists in module scope: this banner provides one (esbuild issue #1921). The import is
 * renamed so that it cannot clash with a bundled identifier.
 */
export const CREATE_REQUIRE_BANNER =
  "import { createRequire as __scimHubCreateRequire } from 'node:module'; const require = __scimHubCreateRequire(import.meta.url);";

/** The esbuild options shared by the stack and the bench, in esbuild's own vocabulary. */
export const lambdaBundleOptions = {
  platform: 'node',
  format: 'esm',
  target: `node${NODE_MAJOR}`,
  minify: true,
  sourcemap: true,
  // The map is for stack traces, mapped when an error is logged
  // (shared/observability/source-mapped-stack.ts), not for reading the source in the console:
  // without the sources the asset stays small.
  sourcesContent: false,
  // Prefer the ES module builds of dependencies (AWS SDK v3 ships `module` builds) so that
  // esbuild can tree-shake them; `main` is the fallback for CommonJS-only packages.
  mainFields: ['module', 'main'],
  banner: CREATE_REQUIRE_BANNER,
  // Nothing is external: the AWS SDK v3 is bundled and tree-shaken rather than taken from the
  // runtime, so the deployed code runs the SDK version we test with and loads only what it uses.
  external: [] as string[],
  // Packages replaced by a smaller stand-in that does the same job in Lambda: the credential
  // chain is cut to its first link (see bundling/lambda-credential-provider.ts).
  alias: {
    '@aws-sdk/credential-provider-node': fileURLToPath(new URL('./bundling/lambda-credential-provider.ts', import.meta.url)),
  } as Readonly<Record<string, string>>,
  /** The entry module of each bundle; the handler is `index.handler`. */
  outputFile: 'index.mjs',
  /**
   * Code splitting: what a function reaches only through `import()` (each vendor's connector with
   * its SDK, and the SDK's own rarely used parts) goes to chunks of its own under `chunks/`,
   * which Node reads and compiles only when that import runs. Without it, esbuild inlines every
   * dynamic import into the one file, and a cold start parses every vendor's code whether or
   * not a connector of that type exists.
   */
  chunkDirectory: 'chunks',
} as const;

/**
 * esbuild `build()` options for one entry, as the stack bundles it: `index.mjs` in `outdir`, the
 * chunks it loads in `outdir/chunks`, each with its source map.
 */
export const esbuildOptionsFor = (entry: string, outdir: string) => ({
  entryPoints: [entry],
  outdir,
  entryNames: 'index',
  chunkNames: `${lambdaBundleOptions.chunkDirectory}/[name]-[hash]`,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: lambdaBundleOptions.platform,
  format: lambdaBundleOptions.format,
  target: lambdaBundleOptions.target,
  minify: lambdaBundleOptions.minify,
  sourcemap: lambdaBundleOptions.sourcemap,
  sourcesContent: lambdaBundleOptions.sourcesContent,
  mainFields: [...lambdaBundleOptions.mainFields],
  banner: { js: lambdaBundleOptions.banner },
  external: [...lambdaBundleOptions.external],
  alias: { ...lambdaBundleOptions.alias },
  logLevel: 'warning' as const,
});
