import * as z from 'zod';

import { CommonConnectorSchema, SecretValueSchema } from '../connector-common.schema.ts';

/** The scopes an Okta API service app needs to provision users and groups. */
export const OKTA_DEFAULT_SCOPES = ['okta.users.manage', 'okta.groups.manage'];

/**
 * An Okta org as a target: `{"id":"okta","type":"okta","orgUrl":"https://acme.okta.com","apiToken":"..."}`.
 * Requests go to `{orgUrl}/api/v1/...` with either an API token (`Authorization: SSWS <apiToken>`)
 * or an OAuth 2.0 service app that signs its token requests with a private key (`private_key_jwt`).
 */
export const OktaConnectorSchema = CommonConnectorSchema.extend({
  type: z.literal('okta'),
  /** `https://<org>.okta.com` (or a custom domain); without a path. */
  orgUrl: z.url().refine((url) => new URL(url).pathname.replace(/\/+$/, '') === '', { message: 'the org URL has no path: https://acme.okta.com' }),
  /** An API token of an admin (sent as `SSWS <token>`): inline locally, `{"secretArn": ...}` in AWS. */
  apiToken: SecretValueSchema.optional(),
  /** An API service app (client credentials with private_key_jwt) instead of an API token. */
  oauth: z
    .object({
      clientId: z.string().min(1),
      /** The app's private key, as PEM (PKCS#8) or as the JWK Okta's console generates: inline locally, `{"secretArn": ...}` in AWS. */
      privateKey: SecretValueSchema,
      /** The `kid` of the public key registered on the app, when it has several. */
      keyId: z.string().min(1).optional(),
      scopes: z.array(z.string().min(1)).min(1).default(OKTA_DEFAULT_SCOPES),
    })
    .optional(),
  /** New accounts are activated (`ACTIVE`); `false` creates them `STAGED`, for an admin to activate. */
  activate: z.boolean().default(true),
  /** Whether Okta emails the activation link when the hub activates an account (off: the hub activates silently). */
  sendActivationEmail: z.boolean().default(false),
  /**
   * How the hub disables an account (deprovision policy `disable`, or a hub user made inactive):
   * `deactivate` (DEPROVISIONED: group and app assignments are removed) or `suspend`
   * (SUSPENDED: the user cannot sign in, assignments are kept).
   */
  disableAs: z.enum(['deactivate', 'suspend']).default('deactivate'),
  /**
   * Requests in flight at once from one worker container. Okta allows 75 concurrent requests
   * per org for all its API clients together; the default leaves room for the others.
   */
  concurrentRequests: z.number().int().min(1).max(75).default(10),
}).refine((config) => (config.apiToken === undefined) !== (config.oauth === undefined), {
  message: 'an Okta connector authenticates with exactly one of apiToken or oauth',
  path: ['apiToken'],
});

export type OktaConnectorConfig = z.infer<typeof OktaConnectorSchema>;
