import type { Node } from 'constructs';
import * as z from 'zod';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '#shared/topology/function-environment.ts';
import { connectorsContextOf } from './connectors-context.ts';

/**
 * The deployment parameters of the hub, read from CDK context (`cdk deploy -c stageName=staging
 * -c connectorsFile=connectors.json`, or `context` in cdk.json). Every one has a default so that
 * a bare `cdk synth` works; a bad value fails synthesis with a message naming it. With
 * `connectorsFile` (the connectors document that is also uploaded to SSM), `connectorIds` and
 * `reconcileSchedules` are derived from it (connectors-context.ts) and must not be given.
 */
export interface HubParameters {
  /** API Gateway stage name, and the prefix of every name the stack chooses. */
  stageName: string;
  /** One lane (FIFO queue, DLQ, worker mapping, alarm) per connector. */
  connectorIds: string[];
  /** Reconciliation schedules: connector id to EventBridge expression (one rule each). */
  reconcileSchedules: Record<string, string>;
  /** SSM parameter holding the connectors document (secrets are referenced in it by ARN). */
  connectorsParameterName: string;
  /** Name prefix of the connector secrets in Secrets Manager the functions may read. */
  secretsNamePrefix: string;
  /** Optional email subscription on the alarm topic. */
  alarmEmail: string | undefined;
  /**
   * Optional IAM role of the operators: the stack attaches to it the managed policies that let
   * operators call the admin routes and invoke the directly invoked functions (on-demand
   * provisioning). Without it the policies stand alone, for the account's administrators to attach.
   */
  operatorsRoleName: string | undefined;
  logRetentionDays: number;
  /** How long audit records live (their TTL), passed to the functions. */
  auditRetentionDays: number;
  enableWaf: boolean;
  /** Requests per five minutes from one IP before the WAF rate rule blocks it. */
  wafRateLimit: number;
  throttlingRateLimit: number;
  throttlingBurstLimit: number;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  removalPolicy: 'retain' | 'destroy';
}

/** The values CloudWatch Logs accepts as a retention (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Context values arrive as strings from `-c key=value` and as JSON values from cdk.json. */
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);

// SQS names allow 80 characters: `scim-hub-<stage>-` + `<queue>-<connector>-dlq.fifo` must fit.
const STAGE = /^[a-z][a-z0-9-]{0,19}$/;
const CONNECTOR_ID = /^[a-z0-9][a-z0-9-]{0,29}$/;

const ContextSchema = z
  .object({
    stageName: z.string().regex(STAGE, 'lower case letters, digits and dashes, starting with a letter, at most 20').default('prod'),
    connectorIds: z
      .union([z.string(), z.array(z.string())])
      .default('')
      .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((id) => id.trim()).filter((id) => id !== ''))
      .pipe(
        z
          .array(z.string().regex(CONNECTOR_ID, 'connector ids are lower case letters, digits and dashes, at most 30'))
          // Every function that sends to the lanes gets all their URLs in CONNECTOR_QUEUE_URLS
          // (about 110 bytes each) and Lambda allows 4 KB of environment in all; the alarm status
          // widget shows at most 100 alarms (3 per connector).
          .max(30, 'at most 30 connectors per stage')
          .refine((ids) => new Set(ids).size === ids.length, 'connector ids must be unique'),
      ),
    // `acme=cron(0 2 * * ? *);okta=rate(6 hours)` on the command line, an object in cdk.json.
    reconcileSchedules: z
      .union([z.string(), z.record(z.string(), z.string())])
      .default({})
      .transform((value) =>
        typeof value === 'string'
          ? Object.fromEntries(
              value
                .split(';')
                .map((pair) => pair.trim())
                .filter((pair) => pair !== '')
                .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]),
            )
          : value,
      )
      .pipe(
        z.record(z.string().regex(CONNECTOR_ID, 'a connector id'), z.string().regex(/^(rate|cron)\(.+\)$/, 'an EventBridge schedule: rate(...) or cron(...)')),
      ),
    connectorsParameterName: z
      .string()
      .regex(/^\/[A-Za-z0-9_.\-/]+$/, 'an SSM parameter name with a leading slash')
      .optional(),
    secretsNamePrefix: z
      .string()
      .regex(/^[A-Za-z0-9_+=.@\-/]+\/$/, 'a Secrets Manager name prefix ending in a slash')
      .optional(),
    alarmEmail: z.email().optional(),
    operatorsRoleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name (letters, digits and +=,.@_-, at most 64)')
      .optional(),
    logRetentionDays: count(1, 3653)
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), `one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(90),
    auditRetentionDays: count(1, 3650).default(DEFAULT_AUDIT_RETENTION_DAYS),
    enableWaf: flag.default(true),
    wafRateLimit: count(10, 2_000_000_000).default(3000),
    throttlingRateLimit: count(1, 10_000).default(100),
    throttlingBurstLimit: count(1, 5000).default(200),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  })
  .refine((value) => Object.keys(value.reconcileSchedules).every((id) => value.connectorIds.includes(id)), {
    message: 'every connector with a reconcile schedule must be in connectorIds',
    path: ['reconcileSchedules'],
  })
  .transform(
    (value): HubParameters => ({
      ...value,
      connectorsParameterName: value.connectorsParameterName ?? `/scim-hub/${value.stageName}/connectors`,
      secretsNamePrefix: value.secretsNamePrefix ?? `scim-hub/${value.stageName}/`,
      alarmEmail: value.alarmEmail,
      operatorsRoleName: value.operatorsRoleName,
    }),
  );

const KEYS = Object.keys(ContextSchema.in.shape) as Array<keyof z.input<typeof ContextSchema>>;

/**
 * Parses a plain record of context values (what tests pass, and what `readHubParameters` reads
 * from the construct tree).
 */
export const parseHubParameters = (context: Record<string, unknown>): HubParameters => {
  const present: Record<string, unknown> = Object.fromEntries(
    KEYS.filter((key) => context[key] !== undefined && context[key] !== '').map((key) => [key, context[key]]),
  );
  // An empty connectorIds string is a valid "no connectors", not an absent value.
  if (context.connectorIds === '') present.connectorIds = '';
  // With a connectors document, its connectors and their schedules are the lanes and the rules.
  if (typeof context.connectorsFile === 'string' && context.connectorsFile !== '') Object.assign(present, connectorsContextOf(context.connectorsFile, present));
  const parsed = ContextSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(context)'}: ${issue.message}`);
    throw new Error(`invalid hub parameters in CDK context: ${problems.join('; ')}`);
  }
  return parsed.data;
};

/** Reads the parameters from the app's context (cdk.json and `-c` on the command line). */
export const readHubParameters = (node: Node): HubParameters =>
  parseHubParameters(Object.fromEntries([...KEYS, 'connectorsFile'].map((key) => [key, node.tryGetContext(key)])));

/** The prefix of every physical name the stack chooses, so that stages can share an account. */
export const namePrefix = (parameters: Pick<HubParameters, 'stageName'>): string => `scim-hub-${parameters.stageName}`;
