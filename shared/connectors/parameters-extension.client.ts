import { ConfigError } from '../errors.ts';
import type { ParameterReader } from './parameter-reader.port.ts';

/**
 * SSM parameters and Secrets Manager secrets read through the AWS Parameters and Secrets Lambda
 * Extension: a layer the stack adds to every function that reads the connectors document or a
 * connector's secret (infra/aws/function-defaults.construct.ts). The function asks a process
 * beside it over loopback HTTP, and the extension makes the GetParameter and GetSecretValue
 * calls with the function's own role.
 *
 * Why not the SDK clients: `@aws-sdk/client-ssm` and `@aws-sdk/client-secrets-manager` carry
 * every operation's schema and error classes, about 90 KB minified that every cold start of a
 * connector worker compiled and ran to read one parameter and a few secrets (outside Lambda,
 * the CLI still reads with them: sdk-parameter-reader.ts). The extension's own
 * cache is turned off by the stack: the callers cache (connectors.source.ts), so that a refresh
 * after a target refused a secret reads Secrets Manager and not a copy.
 *
 * The extension answers only during an invocation, never while a function initialises, and only
 * to a caller that shows the function's session token.
 */
/** How long one read may take: the extension itself times out on the service well before. */
const READ_TIMEOUT_MS = 10_000;
const DEFAULT_PORT = '2773';

export class ParametersExtensionError extends Error {
  override readonly name = 'ParametersExtensionError';
  constructor(
    message: string,
    /** The extension's HTTP status, or undefined when it did not answer at all. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * `node:http` as Node's own module object rather than an ES import: the ES facade of a built-in
 * reads every export, and `http`'s WebSocket getter then loads all of undici (about 20 ms at cold
 * start) for a module that only needs `request`.
 */
const http = () => process.getBuiltinModule('node:http');

const get = (url: URL, token: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const call = http().request(url, { method: 'GET', headers: { 'X-Aws-Parameters-Secrets-Token': token }, timeout: READ_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    call.on('timeout', () => call.destroy(new Error(`no answer within ${READ_TIMEOUT_MS} ms`)));
    call.on('error', reject);
    call.end();
  });

export const makeParametersExtension = (
  env: { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT?: string; AWS_SESSION_TOKEN?: string } = process.env,
): ParameterReader => {
  const base = `http://localhost:${env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT || DEFAULT_PORT}`;
  const read = async (path: string, query: Record<string, string>, what: string): Promise<Record<string, unknown>> => {
    const token = env.AWS_SESSION_TOKEN;
    if (!token)
      throw new ParametersExtensionError(`${what}: no AWS_SESSION_TOKEN, which the Parameters and Secrets extension asks for; it runs only in Lambda`);
    const url = new URL(path, base);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    let answer: { status: number; body: string };
    try {
      answer = await get(url, token);
    } catch (error) {
      throw new ParametersExtensionError(
        `${what}: the Parameters and Secrets extension at ${base} did not answer (${error instanceof Error ? error.message : String(error)}); is its layer on the function?`,
        undefined,
        { cause: error },
      );
    }
    if (answer.status !== 200) {
      throw new ParametersExtensionError(
        `${what}: the Parameters and Secrets extension answered ${answer.status}: ${answer.body.trim().slice(0, 500)}`,
        answer.status,
      );
    }
    try {
      return JSON.parse(answer.body) as Record<string, unknown>;
    } catch (error) {
      throw new ParametersExtensionError(`${what}: the Parameters and Secrets extension answered with something other than JSON`, answer.status, {
        cause: error,
      });
    }
  };
  return {
    parameter: async (name) => {
      const answer = await read('/systemsmanager/parameters/get', { name, withDecryption: 'true' }, `SSM parameter ${name}`);
      const value = (answer.Parameter as { Value?: unknown } | undefined)?.Value;
      if (typeof value !== 'string') throw new ParametersExtensionError(`SSM parameter ${name}: the answer holds no value`, 200);
      return value;
    },
    secret: async (secretId) => {
      const answer = await read('/secretsmanager/get', { secretId }, `secret ${secretId}`);
      if (typeof answer.SecretString !== 'string') throw new ConfigError(`secret ${secretId} has no string value`);
      return answer.SecretString;
    },
  };
};
