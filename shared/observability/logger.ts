import { Logger } from '@aws-lambda-powertools/logger';
import { sourceMappedErrors } from './source-mapped-stack.ts';

/**
 * Finds a correlation id by a dotted path (`requestContext.requestId`), the only form the
 * handlers use. Powertools needs a search function for `correlationIdPath` and, without one,
 * warns on every request that the id will not be logged; its own is the JMESPath package,
 * which would be one more bundled dependency for what a plain path lookup does.
 */
export const searchDottedPath = (expression: string, data: unknown): unknown =>
  expression.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), data);

/**
 * One structured logger per container (Powertools: JSON lines with the Lambda context and a
 * correlation id). Locally every function shares the process, so the service name is per call.
 * Logged errors carry their stack in TypeScript positions (source-mapped-stack.ts).
 */
export const createLogger = (serviceName: string): Logger =>
  new Logger({
    serviceName,
    logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO',
    correlationIdSearchFn: searchDottedPath,
    jsonReplacerFn: sourceMappedErrors,
  });
