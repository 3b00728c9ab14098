import * as z from 'zod';

/**
 * The connectors document: which apps the hub provisions into and how. Locally it is the JSON
 * file named by CONNECTORS_FILE; in AWS the same document lives in SSM Parameter Store, with
 * secrets referenced by Secrets Manager ARN (`{"secretArn": "..."}`) rather than inline.
 */
export const SecretValueSchema = z.union([z.string().min(1), z.object({ secretArn: z.string().startsWith('arn:') })]);

const AttributeMappingSchema = z
  .object({
    /** Target attribute: a SCIM path for SCIM targets (`name.givenName`), an attribute name for Cognito (`given_name`). */
    target: z.string().min(1),
    /** A hub attribute path: `userName`, `name.givenName`, `emails[primary eq true].value`, `id`. */
    source: z.string().min(1).optional(),
    constant: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** A template over hub attributes: `${name.givenName} ${name.familyName}`. */
    expression: z.string().min(1).optional(),
    /** `create`: only set when the account is created (e.g. an initial password policy flag). */
    apply: z.enum(['always', 'create']).default('always'),
  })
  .refine((m) => [m.source, m.constant, m.expression].filter((v) => v !== undefined).length === 1, {
    message: 'each mapping needs exactly one of source, constant or expression',
  });

const GroupMappingSchema = z
  .object({
    hubGroup: z.string().min(1),
    targetId: z.string().min(1).optional(),
    targetDisplayName: z.string().min(1).optional(),
  })
  .refine((m) => (m.targetId === undefined) !== (m.targetDisplayName === undefined), {
    message: 'a group mapping names the target group by exactly one of targetId or targetDisplayName',
  });

/**
 * An EventBridge schedule expression (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
 * `rate(<n> minute|minutes|hour|hours|day|days)` or a six-field `cron(...)`. The local scheduler
 * parses the same forms; deeper checks happen there and in EventBridge.
 */
const ScheduleExpressionSchema = z
  .string()
  .regex(/^(rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\))$/, 'an EventBridge schedule: rate(6 hours) or cron(0 2 * * ? *)');

/**
 * Reconciliation of the connector: when it runs, what becomes of target accounts no hub user
 * matches, and how many accounts a run may disable or delete before it waits for an operator.
 */
const ReconcileSchema = z.object({
  /** Runs on this schedule; without one, runs start only by hand (`ops reconcile`, the admin API). */
  schedule: ScheduleExpressionSchema.optional(),
  /** Orphan accounts (no hub user): `report` them (default), or `disable` or `delete` them. */
  orphans: z.enum(['report', 'disable', 'delete']).default('report'),
  /**
   * A run that would disable or delete more than `percent` of the target's accounts, and at
   * least `minimum` of them, stops in `awaiting-approval` with its plan.
   */
  deletionThreshold: z
    .object({ percent: z.number().min(0).max(100).default(20), minimum: z.number().int().min(0).default(10) })
    .default({ percent: 20, minimum: 10 }),
});

export const CommonConnectorSchema = z.object({
  /** Letters, digits and dashes: it names the connector's queues. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,38}$/, 'lowercase letters, digits and dashes, at most 39 characters'),
  enabled: z.boolean().default(true),
  /**
   * `outbound` (or absent): the hub provisions into the app. `inbound`: the app is a source the
   * hub reads on its reconcile schedule; its accounts are created, updated and deactivated in
   * the hub, and nothing is ever written to it.
   */
  direction: z.enum(['outbound', 'inbound']).optional(),
  deprovision: z.enum(['disable', 'delete']).default('disable'),
  mapping: z.array(AttributeMappingSchema).optional(),
  scope: z
    .object({
      /** A SCIM filter over hub users: only matching users are provisioned. */
      filter: z.string().min(1).optional(),
      /** Hub group ids: only their members are provisioned (and only these groups). */
      groups: z.array(z.string().min(1)).optional(),
    })
    .default({}),
  /** Target attributes tried in order to find an existing account before creating one. */
  matching: z.array(z.string().min(1)).min(1).optional(),
  groups: z
    .object({
      /** Create in-scope hub groups on the target (else only mapped groups are managed). */
      provision: z.boolean().default(true),
      mappings: z.array(GroupMappingSchema).default([]),
    })
    .default({ provision: true, mappings: [] }),
  rateLimit: z.object({ requestsPerSecond: z.number().positive().max(10_000) }).optional(),
  operations: z
    .object({ create: z.boolean().default(true), update: z.boolean().default(true), disable: z.boolean().default(true), delete: z.boolean().default(true) })
    .default({ create: true, update: true, disable: true, delete: true }),
  reconcile: ReconcileSchema.optional(),
  retry: z.object({ maxAttempts: z.number().int().min(1).max(50).default(8) }).default({ maxAttempts: 8 }),
  breaker: z
    .object({
      failureThreshold: z.number().int().min(1).default(5),
      probeIntervalSeconds: z.number().int().min(1).max(3600).default(30),
    })
    .default({ failureThreshold: 5, probeIntervalSeconds: 30 }),
});

export type AttributeMapping = z.infer<typeof AttributeMappingSchema>;
export type SecretValue = z.infer<typeof SecretValueSchema>;
export type ReconcileSettings = z.infer<typeof ReconcileSchema>;
