import * as z from 'zod';

/** An environment variable holding a JSON object of strings to strings (`{}` when unset), e.g. names to queue URLs. */
export const jsonStringRecord = (what: string) =>
  z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return z.record(z.string(), z.string()).parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be a JSON object of ${what}` });
        return z.NEVER;
      }
    });
