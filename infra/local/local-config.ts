import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { readEnv } from '#shared/config/env.ts';

/**
 * `npm start`'s configuration, all from the environment (names are a documented contract):
 * PORT, SCIM_BEARER_TOKEN, ADMIN_TOKEN, DATA_DIR, CONNECTORS_FILE, COGNITO_LOCAL_PORT.
 */
export const LocalConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  SCIM_BEARER_TOKEN: z.string().min(16, 'SCIM_BEARER_TOKEN must be at least 16 characters').optional(),
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  CONNECTORS_FILE: z.string().min(1).optional(),
  COGNITO_LOCAL_PORT: z.coerce.number().int().min(1).max(65_535).default(9229),
});

export interface LocalConfig {
  port: number;
  scimBearerToken: string;
  tokenGenerated: boolean;
  /** The operator token of the local /admin routes. */
  adminToken: string;
  adminTokenGenerated: boolean;
  /** undefined when DATA_DIR is `memory`. */
  dataDir: string | undefined;
  connectorsFile: string | undefined;
  cognitoLocalPort: number;
}

export const readLocalConfig = (env: NodeJS.ProcessEnv = process.env): LocalConfig => {
  const parsed = readEnv(LocalConfigSchema, env);
  return {
    port: parsed.PORT,
    scimBearerToken: parsed.SCIM_BEARER_TOKEN ?? `local_${randomBytes(24).toString('base64url')}`,
    tokenGenerated: parsed.SCIM_BEARER_TOKEN === undefined,
    adminToken: parsed.ADMIN_TOKEN ?? `admin_${randomBytes(24).toString('base64url')}`,
    adminTokenGenerated: parsed.ADMIN_TOKEN === undefined,
    dataDir: parsed.DATA_DIR === 'memory' ? undefined : parsed.DATA_DIR,
    connectorsFile: parsed.CONNECTORS_FILE,
    cognitoLocalPort: parsed.COGNITO_LOCAL_PORT,
  };
};
