import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../errors.ts';
import type { ParameterReader } from './parameter-reader.port.ts';

/** The SDK's reader, for processes outside Lambda (the operations CLI): see parameter-reader.ts. */
export const makeSdkParameterReader = (): ParameterReader => {
  const ssm = new SSMClient({});
  const secrets = new SecretsManagerClient({});
  return {
    parameter: async (name) => {
      const result = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      return result.Parameter?.Value ?? '';
    },
    secret: async (secretId) => {
      const result = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
      if (!result.SecretString) throw new ConfigError(`secret ${secretId} has no string value`);
      return result.SecretString;
    },
  };
};
