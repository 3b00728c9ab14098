import type { ParameterReader } from './parameter-reader.port.ts';
import { makeParametersExtension } from './parameters-extension.client.ts';

/**
 * The reader for where this process runs: a function the stack deployed reads through the
 * Parameters and Secrets extension, whose layer the stack adds together with
 * PARAMETERS_SECRETS_EXTENSION_HTTP_PORT; anything else (the operations CLI on an operator's
 * machine) reads with the SDK clients, loaded only then, so that no function bundle loads them
 * at start.
 */
export const parameterReaderFor = (env: NodeJS.ProcessEnv = process.env): ParameterReader => {
  if (env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT) return makeParametersExtension(env);
  let sdk: Promise<ParameterReader> | undefined;
  const load = () => {
    // A load that failed is tried again on the next read, not kept.
    sdk ??= import('./sdk-parameter-reader.ts')
      .then((module) => module.makeSdkParameterReader())
      .catch((error: unknown) => {
        sdk = undefined;
        throw error;
      });
    return sdk;
  };
  return {
    parameter: async (name) => (await load()).parameter(name),
    secret: async (secretId) => (await load()).secret(secretId),
  };
};
