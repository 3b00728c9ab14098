import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../errors.ts';
import { parseConnectorsDocument, readConnectorsFile } from './connectors-document.ts';
import type { ConnectorsDocument, SecretValue } from './connectors.schema.ts';

/**
 * Where a function finds the connectors document: the file named by CONNECTORS_FILE (locally)
 * or the SSM parameter named by CONNECTORS_PARAMETER (in AWS). Read at most once a minute per
 * container, so an edited document takes effect without a deploy.
 */
export const makeConnectorsSource = (env: { CONNECTORS_FILE?: string; CONNECTORS_PARAMETER?: string }, ttlMs = 60_000) => {
  let cached: { at: number; document: Promise<ConnectorsDocument> } | undefined;
  let ssm: SSMClient | undefined;
  const load = async (): Promise<ConnectorsDocument> => {
    if (env.CONNECTORS_FILE) return readConnectorsFile(env.CONNECTORS_FILE);
    if (env.CONNECTORS_PARAMETER) {
      ssm ??= new SSMClient({});
      const result = await ssm.send(new GetParameterCommand({ Name: env.CONNECTORS_PARAMETER, WithDecryption: true }));
      return parseConnectorsDocument(result.Parameter?.Value ?? '', `SSM parameter ${env.CONNECTORS_PARAMETER}`);
    }
    return { connectors: [] };
  };
  return (): Promise<ConnectorsDocument> => {
    if (!cached || Date.now() - cached.at > ttlMs) {
      const document = load();
      cached = { at: Date.now(), document };
      document.catch(() => {
        cached = undefined;
      });
    }
    return cached.document;
  };
};

let secrets: SecretsManagerClient | undefined;
const secretCache = new Map<string, Promise<string>>();

/** A secret from the document: inline (local files) or a Secrets Manager ARN (AWS). */
export const resolveSecret = (value: SecretValue): Promise<string> => {
  if (typeof value === 'string') return Promise.resolve(value);
  let found = secretCache.get(value.secretArn);
  if (!found) {
    secrets ??= new SecretsManagerClient({});
    found = secrets.send(new GetSecretValueCommand({ SecretId: value.secretArn })).then((result) => {
      if (!result.SecretString) throw new ConfigError(`secret ${value.secretArn} has no string value`);
      return result.SecretString;
    });
    found.catch(() => secretCache.delete(value.secretArn));
    secretCache.set(value.secretArn, found);
  }
  return found;
};
