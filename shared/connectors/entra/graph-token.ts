import { createPrivateKey, createSign, randomUUID } from 'node:crypto';
import { ConnectorError, kindOfStatus, parseRetryAfter } from '../connector.errors.ts';
import type { SecretSource } from '../connectors.source.ts';

type Json = Record<string, unknown>;

/** How the app registration proves who it is: a client secret, or a certificate's private key. */
export type ClientCredential = { kind: 'secret'; secret: SecretSource } | { kind: 'certificate'; privateKey: SecretSource; thumbprint: string };

export interface GraphTokenSettings {
  connectorId: string;
  /** `https://login.microsoftonline.com` or a national cloud's authority. */
  authorityUrl: string;
  tenantId: string;
  clientId: string;
  /** The Graph resource's `.default` scope, e.g. `https://graph.microsoft.com/.default`. */
  scope: string;
}

/** A token is renewed this long before it expires (or at half its life, if that is shorter). */
export const TOKEN_RENEWAL_MARGIN_MS = 5 * 60_000;
const TOKEN_TIMEOUT_MS = 10_000;
/** A client assertion is valid for this long (Entra accepts up to 10 minutes). */
const ASSERTION_LIFETIME_S = 600;

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * A client assertion (RFC 7523) for the certificate credential: a JWT signed with the
 * certificate's private key, naming the certificate by its SHA-1 thumbprint in `x5t`
 * (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
 */
export const clientAssertion = (options: { tokenUrl: string; clientId: string; privateKeyPem: string; thumbprint: string; now: number }): string => {
  const header = { alg: 'RS256', typ: 'JWT', x5t: base64url(Buffer.from(options.thumbprint, 'hex')) };
  const issuedAt = Math.floor(options.now / 1000);
  const payload = {
    aud: options.tokenUrl,
    iss: options.clientId,
    sub: options.clientId,
    jti: randomUUID(),
    nbf: issuedAt,
    iat: issuedAt,
    exp: issuedAt + ASSERTION_LIFETIME_S,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(createPrivateKey(options.privateKeyPem));
  return `${signingInput}.${base64url(signature)}`;
};

/**
 * OAuth 2.0 client credentials for Microsoft Graph, from `{authorityUrl}/{tenantId}/oauth2/v2.0/token`.
 * The token is kept until shortly before it expires and shared by concurrent callers (one
 * request in flight at a time). A credential the authority refuses (`invalid_client`: a rotated
 * secret) is read again from its source once before the refusal is reported as `unauthorized`.
 */
export class GraphTokenProvider {
  readonly tokenUrl: string;
  private current: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly settings: GraphTokenSettings,
    private readonly credential: ClientCredential,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly now: () => number = Date.now,
  ) {
    this.tokenUrl = `${settings.authorityUrl.replace(/\/+$/, '')}/${encodeURIComponent(settings.tenantId)}/oauth2/v2.0/token`;
  }

  /** A token valid for a while yet: the cached one, or a new one. */
  token(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return Promise.resolve(this.current.token);
    this.pending ??= this.acquire().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets the cached token (Graph refused it: revoked, or expired early). */
  invalidate(): void {
    this.current = undefined;
  }

  private async acquire(): Promise<string> {
    try {
      return await this.request(false);
    } catch (error) {
      if (!(error instanceof ConnectorError && error.kind === 'unauthorized')) throw error;
      return this.request(true);
    }
  }

  private async form(freshCredential: boolean): Promise<URLSearchParams> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.settings.clientId, scope: this.settings.scope });
    if (this.credential.kind === 'secret') {
      form.set('client_secret', freshCredential ? await this.credential.secret.refresh() : await this.credential.secret.get());
    } else {
      const privateKeyPem = freshCredential ? await this.credential.privateKey.refresh() : await this.credential.privateKey.get();
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set(
        'client_assertion',
        clientAssertion({ tokenUrl: this.tokenUrl, clientId: this.settings.clientId, privateKeyPem, thumbprint: this.credential.thumbprint, now: this.now() }),
      );
    }
    return form;
  }

  private async request(freshCredential: boolean): Promise<string> {
    const context = `${this.settings.connectorId}: token from ${this.tokenUrl}`;
    const body = await this.form(freshCredential);
    let response: Response;
    try {
      response = await this.fetchImpl(this.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ConnectorError('retryable', `${context} failed: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    let json: Json | undefined;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const code = typeof json?.error === 'string' ? json.error : undefined;
      const description = typeof json?.error_description === 'string' ? json.error_description.split('\r\n')[0] : text.slice(0, 300);
      // invalid_client: a wrong or expired secret or certificate; unauthorized_client: the app is
      // unknown in the tenant or disabled. Both are the connector's credentials, not the message.
      const kind =
        code === 'invalid_client' || code === 'unauthorized_client' ? 'unauthorized' : response.status === 400 ? 'permanent' : kindOfStatus(response.status);
      throw new ConnectorError(kind, `${context} answered ${response.status}${code ? ` ${code}` : ''}: ${description}`, {
        status: response.status,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    const token = json?.access_token;
    const expiresIn = Number(json?.expires_in);
    if (typeof token !== 'string' || !Number.isFinite(expiresIn))
      throw new ConnectorError('retryable', `${context} answered without access_token and expires_in`);
    const lifetimeMs = expiresIn * 1000;
    this.current = { token, renewAt: this.now() + lifetimeMs - Math.min(TOKEN_RENEWAL_MARGIN_MS, lifetimeMs / 2) };
    return token;
  }
}
