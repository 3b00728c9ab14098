import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, type BuildResult, build, buildSync } from 'esbuild';

/** One file of the built console, as served under `/console/`. */
export interface ConsoleAsset {
  contentType: string;
  body: Uint8Array;
  /** Hashed names never change content, so browsers may keep them; index.html is always asked again. */
  immutable: boolean;
}

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CONSOLE_ENTRY = resolve(projectRoot, 'console/src/main.tsx');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page every console path answers with: the app's hashed script and stylesheet, nothing
 * inline, so the Content-Security-Policy can forbid inline script and style altogether.
 */
const indexHtml = (script: string, stylesheet: string | undefined): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCIM hub console</title>
${stylesheet ? `<link rel="stylesheet" href="/console/${stylesheet}">` : ''}
<script type="module" src="/console/${script}"></script>
</head>
<body>
<div id="app"><noscript>The console needs JavaScript.</noscript></div>
</body>
</html>
`;

const BUILD_OPTIONS = {
  entryPoints: { app: CONSOLE_ENTRY },
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: resolve(projectRoot, 'console/assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  write: false,
  legalComments: 'none',
  logLevel: 'silent',
  define: { 'process.env.NODE_ENV': '"production"' },
} as const satisfies BuildOptions;

const assetsOf = (result: BuildResult<typeof BUILD_OPTIONS>): Map<string, ConsoleAsset> => {
  const assets = new Map<string, ConsoleAsset>();
  const root = resolve(projectRoot, 'console');
  let script: string | undefined;
  let stylesheet: string | undefined;
  for (const file of result.outputFiles) {
    const path = file.path.slice(root.length + 1);
    const extension = path.slice(path.lastIndexOf('.'));
    assets.set(path, { contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream', body: file.contents, immutable: true });
    if (extension === '.js') script = path;
    if (extension === '.css') stylesheet = path;
  }
  if (!script) throw new Error('the console build produced no script');
  assets.set('index.html', { contentType: CONTENT_TYPES['.html'] as string, body: new TextEncoder().encode(indexHtml(script, stylesheet)), immutable: false });
  return assets;
};

/**
 * Builds the operators' console (Preact, Chart.js) with esbuild into memory: a minified ES
 * module and its stylesheet under content-hashed names, and `index.html`. Keys are paths under
 * `/console/` (`index.html`, `assets/app-<hash>.js`). Nothing is written: `npm start` serves
 * the map, the stack's deployment writes it to the bucket.
 */
export const buildConsole = async (): Promise<Map<string, ConsoleAsset>> => assetsOf(await build(BUILD_OPTIONS));

/**
 * The same build, synchronously: CDK bundles assets while it synthesizes, in a synchronous
 * callback (infra/aws/console-hosting.construct.ts).
 */
export const buildConsoleSync = (): Map<string, ConsoleAsset> => assetsOf(buildSync(BUILD_OPTIONS));

/** Writes built assets under a directory, by their paths (`assets/app-<hash>.js`, `index.html`). */
export const writeConsoleAssets = (assets: Map<string, ConsoleAsset>, directory: string): void => {
  for (const [path, asset] of assets) {
    const file = join(directory, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, asset.body);
  }
};
