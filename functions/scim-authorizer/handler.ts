import { readEnv, TableEnvSchema } from '#shared/config/env.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { TokenRepository } from '#shared/store/token.repository.ts';
import { makeAuthorizer } from './authorizer.ts';

const env = readEnv(TableEnvSchema);
const tokens = new TokenRepository(createDocumentClient(), env.TABLE_NAME);

/** REQUEST authorizer in front of the SCIM routes; API Gateway caches its answers per token. */
export const handler = makeAuthorizer({ findToken: (hash) => tokens.findByHash(hash) });
