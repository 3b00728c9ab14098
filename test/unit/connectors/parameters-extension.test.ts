import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConnectorsSource } from '../../../shared/connectors/connectors.source.ts';
import { parameterReaderFor } from '../../../shared/connectors/parameter-reader.ts';
import { makeParametersExtension } from '../../../shared/connectors/parameters-extension.client.ts';
import { ConfigError } from '../../../shared/errors.ts';

const SESSION_TOKEN = 'session-token-of-the-function';
const DOCUMENT = JSON.stringify({
  connectors: [{ id: 'acme', type: 'scim', baseUrl: 'https://acme.example/scim/v2', bearerToken: { secretArn: 'arn:secret' } }],
});

/**
 * The extension's HTTP side as AWS documents it: GET on loopback, the function's session token
 * in X-Aws-Parameters-Secrets-Token, and the GetParameter or GetSecretValue answer as JSON.
 */
const startExtension = async () => {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const url = new URL(request.url ?? '/', 'http://localhost');
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (request.headers['x-aws-parameters-secrets-token'] !== SESSION_TOKEN) return answer(401, 'not authorized');
    if (url.pathname === '/systemsmanager/parameters/get') {
      if (url.searchParams.get('name') !== '/scim-hub/prod/connectors') return answer(400, 'ParameterNotFound: /nope');
      return answer(200, { Parameter: { Name: url.searchParams.get('name'), Type: 'SecureString', Value: DOCUMENT, Version: 3 } });
    }
    if (url.pathname === '/secretsmanager/get') {
      if (url.searchParams.get('secretId') === 'arn:binary') return answer(200, { ARN: 'arn:binary', SecretBinary: 'AAEC' });
      return answer(200, { ARN: url.searchParams.get('secretId'), SecretString: 'target-token' });
    }
    return answer(404, 'no such path');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { port: String((server.address() as AddressInfo).port), requests, close: () => new Promise((done) => server.close(done)) };
};

describe('reading parameters and secrets through the Parameters and Secrets extension', () => {
  let extension: Awaited<ReturnType<typeof startExtension>>;
  beforeAll(async () => {
    extension = await startExtension();
  });
  afterAll(() => extension.close());

  it('reads the connectors document, decrypted, and a secret, showing the session token', async () => {
    const reader = makeParametersExtension({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: extension.port, AWS_SESSION_TOKEN: SESSION_TOKEN });

    const document = await makeConnectorsSource({ CONNECTORS_PARAMETER: '/scim-hub/prod/connectors' }, 60_000, () => reader)();
    const secret = await reader.secret('arn:aws:secretsmanager:us-east-1:1:secret:scim-hub/prod/acme-AbCdEf');

    expect(document.connectors.map((connector) => connector.id)).toEqual(['acme']);
    expect(secret).toBe('target-token');
    expect(extension.requests).toEqual(
      expect.arrayContaining([
        '/systemsmanager/parameters/get?name=%2Fscim-hub%2Fprod%2Fconnectors&withDecryption=true',
        '/secretsmanager/get?secretId=arn%3Aaws%3Asecretsmanager%3Aus-east-1%3A1%3Asecret%3Ascim-hub%2Fprod%2Facme-AbCdEf',
      ]),
    );
  });

  it('says what the extension answered when it refuses, and names a secret that holds no string', async () => {
    const reader = makeParametersExtension({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: extension.port, AWS_SESSION_TOKEN: SESSION_TOKEN });
    const stranger = makeParametersExtension({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: extension.port, AWS_SESSION_TOKEN: 'another-token' });

    await expect(reader.parameter('/nope')).rejects.toMatchObject({
      status: 400,
      message: 'SSM parameter /nope: the Parameters and Secrets extension answered 400: ParameterNotFound: /nope',
    });
    await expect(stranger.secret('arn:x')).rejects.toMatchObject({ status: 401 });
    await expect(reader.secret('arn:binary')).rejects.toThrow(new ConfigError('secret arn:binary has no string value'));
  });

  it('says that the layer may be missing when nothing listens, and that the extension needs a session token', async () => {
    const closed = await startExtension();
    await closed.close();
    const nothing = makeParametersExtension({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: closed.port, AWS_SESSION_TOKEN: SESSION_TOKEN });

    await expect(nothing.parameter('/scim-hub/prod/connectors')).rejects.toThrow(/did not answer .*is its layer on the function\?/);
    await expect(makeParametersExtension({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: extension.port }).secret('arn:x')).rejects.toThrow(
      'secret arn:x: no AWS_SESSION_TOKEN, which the Parameters and Secrets extension asks for; it runs only in Lambda',
    );
  });

  it('is the reader of a function the stack configured for it, and the SDK reads elsewhere', async () => {
    const inLambda = parameterReaderFor({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: extension.port, AWS_SESSION_TOKEN: SESSION_TOKEN });
    expect(await inLambda.secret('arn:y')).toBe('target-token');

    // Outside Lambda the SDK client asks SSM itself: here, an endpoint that refuses the connection.
    const elsewhere = parameterReaderFor({});
    const previous = {
      endpoint: process.env.AWS_ENDPOINT_URL_SSM,
      region: process.env.AWS_REGION,
      key: process.env.AWS_ACCESS_KEY_ID,
      secret: process.env.AWS_SECRET_ACCESS_KEY,
    };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:9',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
      AWS_MAX_ATTEMPTS: '1',
    });
    try {
      await expect(elsewhere.parameter('/scim-hub/prod/connectors')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      for (const [name, value] of [
        ['AWS_ENDPOINT_URL_SSM', previous.endpoint],
        ['AWS_REGION', previous.region],
        ['AWS_ACCESS_KEY_ID', previous.key],
        ['AWS_SECRET_ACCESS_KEY', previous.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      delete process.env.AWS_MAX_ATTEMPTS;
    }
  });
});
