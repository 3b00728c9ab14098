import * as z from 'zod';
import { CommonConnectorSchema, SecretValueSchema } from '../connector-common.schema.ts';

/** The Salesforce REST API version used when the entry names none (Winter '27). */
export const SALESFORCE_DEFAULT_API_VERSION = '66.0';

/**
 * How the connector signs in to the org's connected app. `client-credentials` posts the consumer
 * key and secret (the app's "Run As" user acts); `jwt-bearer` signs an assertion for `subject`
 * (a Salesforce username) with the certificate's private key, kept in Secrets Manager in AWS.
 */
const AuthSchema = z.discriminatedUnion('flow', [
  z.object({ flow: z.literal('client-credentials') }),
  z.object({
    flow: z.literal('jwt-bearer'),
    /** The Salesforce username the connector acts as (pre-authorised for the connected app). */
    subject: z.string().min(1),
    /** The PEM private key matching the certificate uploaded to the connected app. */
    privateKey: SecretValueSchema,
  }),
]);

/** Field values every new User needs and the hub does not hold; each can also be mapped per user. */
const UserDefaultsSchema = z
  .object({
    TimeZoneSidKey: z.string().min(1).default('America/Los_Angeles'),
    LocaleSidKey: z.string().min(1).default('en_US'),
    EmailEncodingKey: z.string().min(1).default('UTF-8'),
    LanguageLocaleKey: z.string().min(1).default('en_US'),
  })
  .default({ TimeZoneSidKey: 'America/Los_Angeles', LocaleSidKey: 'en_US', EmailEncodingKey: 'UTF-8', LanguageLocaleKey: 'en_US' });

export const SalesforceConnectorSchema = CommonConnectorSchema.extend({
  type: z.literal('salesforce'),
  /** `https://login.salesforce.com`, `https://test.salesforce.com` (sandboxes) or the org's My Domain. */
  loginUrl: z.url(),
  /** REST API version without the `v`: `66.0`. */
  apiVersion: z
    .string()
    .regex(/^\d{2,3}\.0$/, 'a Salesforce API version such as 66.0')
    .default(SALESFORCE_DEFAULT_API_VERSION),
  /** The connected app's consumer key. */
  clientId: z.string().min(1),
  /** The connected app's consumer secret (client credentials flow). */
  clientSecret: SecretValueSchema.optional(),
  auth: AuthSchema.default({ flow: 'client-credentials' }),
  /** The profile (by Name) of new users when their mapping gives no `Profile.Name`. */
  profile: z.string().min(1),
  /**
   * Appended to every Username the hub sends (Usernames are unique across every Salesforce org):
   * `ada@example.com` becomes `ada@example.com.acme`. Listings strip it again.
   */
  usernameSuffix: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dots, dashes and underscores')
    .default(''),
  userDefaults: UserDefaultsSchema,
  /**
   * The share of the org's daily API allocation the hub leaves to everyone else: once usage
   * (Sforce-Limit-Info) reaches `1 - reservePercent / 100` of the limit, the connector pauses.
   */
  allocation: z
    .object({
      reservePercent: z.number().min(0).max(90).default(10),
      /** While paused, how often the connector reads /limits to see whether usage has fallen. */
      recheckSeconds: z.number().int().min(1).max(3600).default(300),
    })
    .default({ reservePercent: 10, recheckSeconds: 300 }),
}).refine((c) => c.auth.flow !== 'client-credentials' || c.clientSecret !== undefined, {
  message: 'the client credentials flow needs clientSecret',
  path: ['clientSecret'],
});

export type SalesforceConnectorConfig = z.infer<typeof SalesforceConnectorSchema>;
