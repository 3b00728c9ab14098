import * as z from 'zod';
import { ConfigError } from '../errors.ts';
import { GRANTED_VARIABLES, isGrantedVariable } from '../topology/function-environment.ts';

/**
 * Reads and validates a function's environment once, at cold start. A bad or missing variable
 * fails fast with an error naming it; a missing one that a grant gives names the grant, since
 * both runners give a function only the variables of its grants (shared/topology/function-environment.ts).
 */
export const readEnv = <S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> => {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      if (isGrantedVariable(name) && env[name] === undefined) {
        return `${name} is not set: the function needs ${GRANTED_VARIABLES[name]} in its topology entry (shared/topology/hub.topology.ts)`;
      }
      return `${name || '(environment)'}: ${issue.message}`;
    });
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  return parsed.data;
};

export const TableEnvSchema = z.object({ TABLE_NAME: z.string().min(1) });

/** IMPORT_BUCKET: the import bucket's name in AWS, a `file:` URL of its local stand-in (a `bucket` grant). */
export const ImportBucketEnvSchema = z.object({ IMPORT_BUCKET: z.string().min(1) });
