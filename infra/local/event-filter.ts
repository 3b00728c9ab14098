import type { FilterPattern, FilterPatternValue } from '#shared/topology/topology.types.ts';

/**
 * Lambda event filtering, for the pattern forms the topology allows (exact values, `prefix`,
 * `exists`), with Lambda's semantics: every key of a pattern must match, a list matches when any
 * of its values does, and a record matches when any of the patterns does.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 */
export const matchesAnyPattern = (record: unknown, patterns: FilterPattern[]): boolean =>
  patterns.length === 0 || patterns.some((pattern) => matchesPattern(record, pattern));

const matchesPattern = (value: unknown, pattern: FilterPattern): boolean =>
  Object.entries(pattern).every(([key, expected]) => {
    const actual = isObject(value) ? value[key] : undefined;
    if (Array.isArray(expected)) return expected.some((candidate) => matchesValue(actual, candidate));
    return matchesPattern(actual, expected);
  });

const matchesValue = (actual: unknown, expected: FilterPatternValue): boolean => {
  if (typeof expected === 'object') {
    if ('exists' in expected) return (actual !== undefined) === expected.exists;
    return typeof actual === 'string' && actual.startsWith(expected.prefix);
  }
  return actual === expected;
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
