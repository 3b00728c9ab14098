/**
 * The connectors document's schema: the fields every connector shares (connector-common.schema.ts)
 * and one entry per connector type. A vendor's own fields live beside its connector and join the
 * union below.
 */
import * as z from 'zod';

import { CommonConnectorSchema, SecretValueSchema } from './connector-common.schema.ts';
import { EntraConnectorSchema } from './entra/entra.schema.ts';
import { OktaConnectorSchema } from './okta/okta.schema.ts';
import { SalesforceConnectorSchema } from './salesforce/salesforce.schema.ts';

export { CommonConnectorSchema, OktaConnectorSchema, SecretValueSchema };
export type { AttributeMapping, ReconcileSettings, SecretValue } from './connector-common.schema.ts';

export const ScimConnectorSchema = CommonConnectorSchema.extend({
  type: z.literal('scim'),
  baseUrl: z.url(),
  bearerToken: SecretValueSchema,
  /** Members per PATCH request (IAM Identity Center accepts 100). */
  membersPerRequest: z.number().int().min(1).max(1000).default(100),
});

export const CognitoConnectorSchema = CommonConnectorSchema.extend({
  type: z.literal('cognito'),
  userPoolId: z.string().min(1),
  region: z.string().min(1),
  /** Locally, cognito-local's address; in AWS leave it out. */
  endpoint: z.url().optional(),
  /** Send Cognito's invitation message on AdminCreateUser (suppressed by default). */
  sendInvitation: z.boolean().default(false),
});

/** One entry per connector type; each vendor's schema beyond the common fields lives beside its connector. */
export const ConnectorConfigSchema = z.discriminatedUnion('type', [
  ScimConnectorSchema,
  CognitoConnectorSchema,
  OktaConnectorSchema,
  EntraConnectorSchema,
  SalesforceConnectorSchema,
]);

export const ConnectorsDocumentSchema = z
  .object({ connectors: z.array(ConnectorConfigSchema) })
  .refine((doc) => new Set(doc.connectors.map((c) => c.id)).size === doc.connectors.length, { message: 'connector ids must be unique' });

export type ConnectorConfig = z.infer<typeof ConnectorConfigSchema>;
export type ScimConnectorConfig = z.infer<typeof ScimConnectorSchema>;
export type CognitoConnectorConfig = z.infer<typeof CognitoConnectorSchema>;
export type EntraConnectorConfig = z.infer<typeof EntraConnectorSchema>;
export type { OktaConnectorConfig } from './okta/okta.schema.ts';
export type { SalesforceConnectorConfig } from './salesforce/salesforce.schema.ts';
export type ConnectorsDocument = z.infer<typeof ConnectorsDocumentSchema>;
