import { createPrivateKey, type KeyObject, randomUUID, sign } from 'node:crypto';
import { ConnectorError, kindOfStatus } from '../connector.errors.ts';
import type { SecretSource } from '../connectors.source.ts';

/**
 * The `Authorization` header of Okta requests: `SSWS <api token>`, or `Bearer <access token>` of
 * an OAuth 2.0 service app. `refresh` is called once after Okta refused the header (401
 * E0000011): it reads a rotated token again, or fetches a new access token.
 */
export interface OktaCredentials {
  header(): Promise<string>;
  refresh(): Promise<string>;
}

export const apiTokenCredentials = (token: SecretSource): OktaCredentials => ({
  header: async () => `SSWS ${await token.get()}`,
  refresh: async () => `SSWS ${await token.refresh()}`,
});

/** Access tokens are renewed this long before Okta says they expire, so none expires in flight. */
const EXPIRY_MARGIN_MS = 60_000;
/** Okta accepts client assertions that expire within an hour; ours live five minutes. */
const ASSERTION_LIFETIME_SECONDS = 300;
const TOKEN_TIMEOUT_MS = 10_000;

/** A PEM (PKCS#8 or PKCS#1) key or the JWK Okta's console generates for the app. */
export const parsePrivateKey = (text: string): KeyObject => {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return createPrivateKey({ key: JSON.parse(trimmed) as Record<string, string>, format: 'jwk' });
  return createPrivateKey(trimmed);
};

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * A client assertion (RFC 7523 section 3) for Okta's token endpoint: iss and sub are the client
 * id, aud is the token endpoint's URL. RS256 for RSA keys, ES256 for P-256 keys.
 */
export const clientAssertion = (options: { clientId: string; audience: string; key: KeyObject; keyId?: string; nowSeconds: number }): string => {
  const ec = options.key.asymmetricKeyType === 'ec';
  const header = { alg: ec ? 'ES256' : 'RS256', typ: 'JWT', ...(options.keyId ? { kid: options.keyId } : {}) };
  const claims = {
    iss: options.clientId,
    sub: options.clientId,
    aud: options.audience,
    iat: options.nowSeconds,
    exp: options.nowSeconds + ASSERTION_LIFETIME_SECONDS,
    jti: randomUUID(),
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), ec ? { key: options.key, dsaEncoding: 'ieee-p1363' } : options.key);
  return `${signingInput}.${base64url(signature)}`;
};

export interface ServiceAppOptions {
  orgUrl: string;
  clientId: string;
  privateKey: SecretSource;
  keyId?: string;
  scopes: string[];
  /** For messages: the connector id. */
  connectorId: string;
  fetchImpl?: typeof fetch;
  now?: () => number;
}

/**
 * OAuth 2.0 client credentials with `private_key_jwt` against the org authorization server
 * (`{orgUrl}/oauth2/v1/token`), the way Okta lets a service app call its management API
 * (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/). The access
 * token is cached until a minute before it expires; requests for it while one is being fetched
 * share that fetch.
 */
export const serviceAppCredentials = (options: ServiceAppOptions): OktaCredentials => {
  const fetchImpl = options.fetchImpl ?? fetch;
  const now = options.now ?? Date.now;
  const tokenUrl = `${options.orgUrl}/oauth2/v1/token`;
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  /** `rereadKey`: after Okta refused a token, the key may have been rotated too. */
  const fetchToken = async (rereadKey: boolean): Promise<string> => {
    const key = parsePrivateKey(await (rereadKey ? options.privateKey.refresh() : options.privateKey.get()));
    const assertion = clientAssertion({
      clientId: options.clientId,
      audience: tokenUrl,
      key,
      nowSeconds: Math.floor(now() / 1000),
      ...(options.keyId ? { keyId: options.keyId } : {}),
    });
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: options.scopes.join(' '),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    let response: Response;
    try {
      response = await fetchImpl(tokenUrl, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ConnectorError('retryable', `${options.connectorId}: the token request to ${tokenUrl} failed: ${(error as Error).message}`, { cause: error });
    }
    const answer = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    if (!response.ok || typeof answer.access_token !== 'string') {
      // RFC 6749 section 5.2: a refused client (invalid_client, unauthorized_client,
      // invalid_scope) is a 400 or 401 that no retry mends: the app's set-up is wrong.
      const kind = response.status === 400 || response.status === 401 ? 'unauthorized' : kindOfStatus(response.status);
      throw new ConnectorError(
        kind,
        `${options.connectorId}: Okta refused the service app's token request (${response.status} ${String(answer.error ?? '')}: ${String(answer.error_description ?? '')})`,
        { status: response.status },
      );
    }
    const lifetimeMs = (typeof answer.expires_in === 'number' ? answer.expires_in : 3600) * 1000;
    cached = { token: answer.access_token, expiresAt: now() + lifetimeMs - EXPIRY_MARGIN_MS };
    return answer.access_token;
  };

  const token = (fresh: boolean): Promise<string> => {
    if (!fresh && cached && now() < cached.expiresAt) return Promise.resolve(cached.token);
    if (fresh) cached = undefined;
    pending ??= fetchToken(fresh).finally(() => {
      pending = undefined;
    });
    return pending;
  };

  return {
    header: async () => `Bearer ${await token(false)}`,
    refresh: async () => `Bearer ${await token(true)}`,
  };
};
