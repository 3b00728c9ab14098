import * as z from 'zod';
import { ConfigError } from '../errors.ts';

/**
 * Reads and validates a function's environment once, at cold start. A bad or missing variable
 * fails fast with an error naming it.
 */
export const readEnv = <S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> => {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  return parsed.data;
};

export const TableEnvSchema = z.object({ TABLE_NAME: z.string().min(1) });
