import * as z from 'zod';

import { CommonConnectorSchema, SecretValueSchema } from '../connector-common.schema.ts';

/** Entra ID object ids (users, groups, service principals, app roles) are GUIDs. */
const GuidSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a GUID (Entra object id)');

/**
 * A certificate credential of the app registration: the PEM private key (inline locally, a
 * Secrets Manager ARN in AWS) and the SHA-1 thumbprint Entra shows for the uploaded certificate.
 */
const ClientCertificateSchema = z.object({
  privateKey: SecretValueSchema,
  thumbprint: z.string().regex(/^[0-9A-Fa-f]{40}$/, 'the certificate SHA-1 thumbprint, 40 hexadecimal digits'),
});

/**
 * A Microsoft Entra ID tenant reached through Microsoft Graph with an app registration's
 * client credentials (OAuth 2.0 client credentials grant). The minimal entry:
 * `{"id":"entra","type":"entra","tenantId":"...","clientId":"...","clientSecret":"...","domain":"contoso.onmicrosoft.com"}`.
 */
export const EntraConnectorSchema = CommonConnectorSchema.extend({
  type: z.literal('entra'),
  /** The directory (tenant) id, or one of its verified domain names. */
  tenantId: z.string().min(1),
  /** The app registration's application (client) id. */
  clientId: z.string().min(1),
  /** The client secret; give this or `clientCertificate`. */
  clientSecret: SecretValueSchema.optional(),
  clientCertificate: ClientCertificateSchema.optional(),
  /** A verified domain of the tenant: it completes a userPrincipalName the mapping gives without one. */
  domain: z.string().regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'a domain name, e.g. contoso.onmicrosoft.com'),
  /** Microsoft Graph's base, for the national clouds (e.g. https://graph.microsoft.us/v1.0). */
  graphBaseUrl: z.url().default('https://graph.microsoft.com/v1.0'),
  /** The Entra authority, for the national clouds (e.g. https://login.microsoftonline.us). */
  authorityUrl: z.url().default('https://login.microsoftonline.com'),
  /** New users must change the generated password at their first sign-in (default). */
  forceChangePasswordNextSignIn: z.boolean().default(true),
  /**
   * An app role of an enterprise application given to every group the hub creates, for apps
   * that authorise by role: the application's service principal id and the app role's id.
   */
  groupAppRole: z.object({ resourceId: GuidSchema, appRoleId: GuidSchema }).optional(),
}).refine((config) => (config.clientSecret === undefined) !== (config.clientCertificate === undefined), {
  message: 'an entra connector needs exactly one of clientSecret or clientCertificate',
  path: ['clientSecret'],
});
