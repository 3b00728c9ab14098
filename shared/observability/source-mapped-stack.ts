import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces of the deployed bundles in TypeScript positions, mapped when an error is logged
 * rather than by `--enable-source-maps`. That flag makes Node read every module's map and scan
 * its whole text at load, which cost each cold start of the connector worker about 20 ms (12 %),
 * whether or not anything ever failed. Here a map is read the first time an error from its
 * module is logged, then kept. Positions are mapped, function names stay minified. Locally the
 * code runs from its TypeScript sources, which have no map beside them: their frames are left as
 * they are.
 */
const maps = new Map<string, SourceMap | undefined>();

const mapOf = (file: string): SourceMap | undefined => {
  if (!maps.has(file)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(file, map);
  }
  return maps.get(file);
};

/** A bundle module's frame: `file:///var/task/index.mjs:1:2345` or `/var/task/chunks/x.mjs:1:2345`. */
const FRAME = /((?:file:\/\/)?\/[^\s():]+\.mjs):(\d+):(\d+)/g;

/** The stack with each frame of a bundle module that has a map replaced by its source position. */
export const sourceMappedStack = (stack: string): string =>
  stack.replace(FRAME, (frame: string, file: string, line: string, column: string) => {
    const path = file.startsWith('file:') ? fileURLToPath(file) : file;
    const entry = mapOf(path)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry) || !entry.originalSource) return frame;
    // esbuild writes sources relative to the map, which says little once deployed: the path from
    // the project's root (or from node_modules) reads best.
    const relative = entry.originalSource.replace(/^file:\/\//, '').replace(/^(?:\.\.\/)+/, '');
    const source = relative.replace(/^.*?(?=(?:^|\/)(?:shared|functions|infra|test|node_modules)\/)\/?/, '');
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });

/** A copy of the error whose stack (and whose cause's) is source-mapped; the error itself when nothing maps. */
const mapped = (error: Error): Error => {
  const stack = typeof error.stack === 'string' ? sourceMappedStack(error.stack) : error.stack;
  const cause = error.cause instanceof Error ? mapped(error.cause) : error.cause;
  if (stack === error.stack && cause === error.cause) return error;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(error)) as Error, error);
  Object.defineProperties(copy, {
    message: { value: error.message, enumerable: false, writable: true, configurable: true },
    stack: { value: stack, enumerable: false, writable: true, configurable: true },
    ...(error.cause === undefined ? {} : { cause: { value: cause, enumerable: false, writable: true, configurable: true } }),
  });
  return copy;
};

/** A JSON replacer for Powertools Logger (`jsonReplacerFn`): errors go on to its formatter with mapped stacks. */
export const sourceMappedErrors = (_key: string, value: unknown): unknown => (value instanceof Error ? mapped(value) : value);
