import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_AUDIT_RETENTION_DAYS, environmentOf } from '../shared/topology/function-environment.ts';
import { hubTopology } from '../shared/topology/hub.topology.ts';
import type { FunctionSpec } from '../shared/topology/topology.types.ts';
import { buildBundle } from './support/bundle.ts';

/**
 * `npx tsx bench/bundles.bench.ts`: bundles every function of the topology with the stack's
 * own esbuild options (infra/aws/bundling.options.ts) and reports, per function, the minified
 * size a cold start loads (the entry module and the chunks it imports statically), the size of
 * every chunk (with those only `import()` loads: each vendor's connector), and the time a fresh
 * Node process takes to import the entry (its cold start share that is ours: module
 * compilation and evaluation, SDK clients built at module scope). The median of nine runs,
 * taken round after round over all functions, and each function's import as a multiple of the
 * SCIM API's, which moves less than milliseconds do with the machine's load.
 *
 * Aims: the SCIM API under 500 KB and under 150 ms; the connector worker under 150 ms.
 */

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 9;
export const aims: Record<string, { maxKb: number; maxImportMs: number }> = {
  'scim-api': { maxKb: 500, maxImportMs: 150 },
  'connector-worker': { maxKb: Number.POSITIVE_INFINITY, maxImportMs: 150 },
};

export interface BundleMeasurement {
  name: string;
  /** Loaded at cold start: the entry and what it imports statically. */
  sizeKb: number;
  /** Every chunk, those loaded on demand included. */
  totalKb: number;
  importMs: number;
  /** Wall time of the whole `node -e` process (Node's own start included), median. */
  processMs: number;
  meetsAim: boolean | undefined;
  /** Why the function could not be bundled or imported; the numbers are NaN then. */
  error?: string;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * What a handler module sees at cold start in Lambda, less the credentials (nothing here makes
 * a call): the bundle's own settings, the variables its grants give, a Region.
 */
const lambdaLikeEnvironment = (spec: FunctionSpec): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_LAMBDA_FUNCTION_NAME: spec.name,
  POWERTOOLS_SERVICE_NAME: spec.name,
  POWERTOOLS_METRICS_NAMESPACE: 'ScimHub',
  LOG_LEVEL: 'INFO',
  ...environmentOf(spec, {
    tableName: 'bench',
    connectorQueueUrls: '{}',
    hubQueueUrls: '{}',
    connectorsDocument: { parameterName: '/scim-hub/bench/connectors' },
    auditRetentionDays: DEFAULT_AUDIT_RETENTION_DAYS,
    importBucket: 'scim-hub-bench-import',
    consoleOrigin: 'https://console.example',
  }),
});

/** Imports the bundle in a fresh process and returns the import's own duration, as measured inside. */
const timeImport = (bundle: string, spec: FunctionSpec): { importMs: number; processMs: number } => {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(String(performance.now() - t));`;
  const started = performance.now();
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: lambdaLikeEnvironment(spec),
    encoding: 'utf8',
    // stderr is kept out of the table (the SDK warns about Node 20 here; Lambda runs Node 22)
    // and still shows in the error when an import fails.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { importMs: Number(output), processMs: performance.now() - started };
};

/** One line on why a build or an import failed (esbuild's first error names the file). */
const describe = (error: unknown): string => {
  const esbuildErrors = (error as { errors?: Array<{ text: string; location?: { file: string } | null }> }).errors;
  const first = esbuildErrors?.[0];
  if (first) return `${first.text}${first.location ? ` (${first.location.file})` : ''}`;
  const stderr = (error as { stderr?: string }).stderr;
  const text = stderr || (error instanceof Error ? error.message : String(error));
  return text.split('\n').find((line) => line.trim() !== '') ?? 'unknown error';
};

export const measureBundles = async (functions: FunctionSpec[] = hubTopology.functions): Promise<BundleMeasurement[]> => {
  const workDir = mkdtempSync(join(tmpdir(), 'scim-hub-bundles-'));
  try {
    const built = new Map<string, Awaited<ReturnType<typeof buildBundle>>>();
    const errors = new Map<string, string>();
    for (const spec of functions) {
      const entry = resolve(projectRoot, spec.entry);
      try {
        if (!existsSync(entry)) throw new Error(`entry ${spec.entry} does not exist`);
        // One function that does not build or import yet must not hide the others' numbers.
        built.set(spec.name, await buildBundle(entry, join(workDir, spec.name)));
      } catch (error) {
        errors.set(spec.name, describe(error));
      }
    }
    // Round after round over every function, rather than one function's runs in a row: a spell
    // of load on a shared machine then slows every function a little instead of one a lot.
    const runs = new Map<string, Array<{ importMs: number; processMs: number }>>();
    for (let round = 0; round < RUNS; round++) {
      for (const spec of functions) {
        const bundle = built.get(spec.name);
        if (!bundle || errors.has(spec.name)) continue;
        try {
          runs.set(spec.name, [...(runs.get(spec.name) ?? []), timeImport(bundle.file, spec)]);
        } catch (error) {
          errors.set(spec.name, describe(error));
        }
      }
    }
    return functions.map((spec) => {
      const bundle = built.get(spec.name);
      const error = errors.get(spec.name);
      if (!bundle || error) {
        return { name: spec.name, sizeKb: Number.NaN, totalKb: Number.NaN, importMs: Number.NaN, processMs: Number.NaN, meetsAim: false, error };
      }
      const timings = runs.get(spec.name) ?? [];
      const importMs = median(timings.map((run) => run.importMs));
      const aim = aims[spec.name];
      return {
        name: spec.name,
        sizeKb: bundle.startKb,
        totalKb: bundle.totalKb,
        importMs,
        processMs: median(timings.map((run) => run.processMs)),
        meetsAim: aim ? bundle.startKb < aim.maxKb && importMs < aim.maxImportMs : undefined,
      };
    });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
};

export const formatTable = (results: BundleMeasurement[]): string => {
  const header = ['function', 'loaded at start (KB, minified)', 'all chunks (KB)', `import (ms, median of ${RUNS})`, '× scim-api', 'node process (ms)', 'aim'];
  const baseline = results.find((r) => r.name === 'scim-api' && !r.error)?.importMs;
  const rows = results.map((r) => {
    const aim = aims[r.name];
    if (r.error) return [r.name, '-', '-', '-', '-', '-', `FAILED: ${r.error}`];
    const limits = [...(Number.isFinite(aim?.maxKb) ? [`< ${aim?.maxKb} KB`] : []), `< ${aim?.maxImportMs} ms`].join(', ');
    const verdict = aim ? `${r.meetsAim ? 'met' : 'MISSED'} (${limits})` : '';
    const ratio = baseline ? (r.importMs / baseline).toFixed(2) : '-';
    return [r.name, r.sizeKb.toFixed(1), r.totalKb.toFixed(1), r.importMs.toFixed(1), ratio, r.processMs.toFixed(0), verdict];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const last = header.length - 1;
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 || i === last ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
};

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const results = await measureBundles();
  console.log(formatTable(results));
  // A missed aim or a function that does not build fails the run, so CI notices.
  if (results.some((r) => r.meetsAim === false)) process.exitCode = 1;
}
