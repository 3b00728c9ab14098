import * as z from 'zod';
import type { OnDemandRequest } from './on-demand.service.ts';

const Reference = z.string().trim().min(1).max(512);

/**
 * What an operator sends to provision on demand (`POST /admin/connectors/{id}/provision`, the
 * `provision-on-demand` function with `connector` added): exactly one of `user` (id, userName or
 * externalId) and `group` (id or displayName).
 */
export const OnDemandBodySchema = z
  .object({
    user: Reference.optional(),
    group: Reference.optional(),
    dryRun: z.boolean().default(false),
    deprovision: z.boolean().default(false),
    until: z.string().min(1).max(64).optional(),
  })
  .strict()
  .refine((body) => (body.user === undefined) !== (body.group === undefined), { message: 'give exactly one of user and group', path: ['user'] });

/** The direct invocation's event: the body with the connector's id. */
export const OnDemandInvocationSchema = z.object({ connector: z.string().min(1).max(64) }).and(OnDemandBodySchema);

export const onDemandRequestOf = (connectorId: string, body: z.infer<typeof OnDemandBodySchema>): OnDemandRequest => ({
  connectorId,
  subject: body.user !== undefined ? { user: body.user } : { group: body.group as string },
  dryRun: body.dryRun,
  deprovision: body.deprovision,
  ...(body.until !== undefined ? { until: body.until } : {}),
});
