import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { esbuildOptionsFor, lambdaBundleOptions } from '../../infra/aws/bundling.options.ts';

export interface BuiltBundle {
  /** The entry module to import: `<outdir>/index.mjs`. */
  file: string;
  /** What a cold start reads and compiles: the entry and the chunks it imports statically, transitively. */
  startKb: number;
  /** Every chunk, those loaded only by `import()` (each vendor's connector, say) included. */
  totalKb: number;
}

/** The modules an output imports statically, and theirs, the output itself included (the map files left out). */
const staticClosure = (metafile: Metafile, entry: string): Set<string> => {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path) || !metafile.outputs[path]) return;
    seen.add(path);
    for (const imported of metafile.outputs[path].imports) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  visit(entry);
  return seen;
};

/**
 * Bundles one entry into `outdir` as the stack does (the same esbuild options) and sizes it: what
 * a cold start loads, and everything. `entry` may instead be `stdin`, for a module made up here.
 */
export const buildBundle = async (entry: string | { contents: string; resolveDir: string }, outdir: string): Promise<BuiltBundle> => {
  const { entryPoints, ...options } = esbuildOptionsFor(typeof entry === 'string' ? entry : join(entry.resolveDir, 'stdin.ts'), outdir);
  const { metafile } = await build({
    ...options,
    ...(typeof entry === 'string' ? { entryPoints } : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, loader: 'ts' as const } }),
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = Object.entries(metafile.outputs).filter(([path]) => path.endsWith('.mjs'));
  const entryOutput = outputs.find(([, output]) => output.entryPoint !== undefined || output.inputs['<stdin>'] !== undefined)?.[0];
  if (!entryOutput) throw new Error(`esbuild wrote no entry module into ${outdir}`);
  const loadedAtStart = staticClosure(metafile, entryOutput);
  const kb = (paths: string[]) => paths.reduce((sum, path) => sum + (metafile.outputs[path]?.bytes ?? 0), 0) / 1024;
  return {
    file: join(outdir, lambdaBundleOptions.outputFile),
    startKb: kb([...loadedAtStart]),
    totalKb: kb(outputs.map(([path]) => path)),
  };
};
