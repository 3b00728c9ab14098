import { createPrivateKey, sign } from 'node:crypto';
import { ConnectorError } from '../connector.errors.ts';
import type { SecretSource } from '../connectors.source.ts';
import { ApiAllocation, parseLimitInfo } from './salesforce-allocation.ts';
import { errorItemsOf, salesforceError } from './salesforce.errors.ts';
import type { SalesforceConnectorConfig } from './salesforce.schema.ts';

const REQUEST_TIMEOUT_MS = 30_000;
/** Lifetime of a JWT bearer assertion: Salesforce accepts at most 3 minutes. */
const ASSERTION_TTL_SECONDS = 180;

type Json = Record<string, unknown>;

/** How the client signs in: the consumer secret (client credentials) or a private key (JWT bearer). */
export type SalesforceCredentials =
  | { flow: 'client-credentials'; clientId: string; clientSecret: SecretSource }
  | { flow: 'jwt-bearer'; clientId: string; subject: string; privateKey: SecretSource };

export interface SalesforceSession {
  accessToken: string;
  instanceUrl: string;
}

export interface SalesforceClientOptions {
  id: string;
  loginUrl: string;
  apiVersion: string;
  credentials: SalesforceCredentials;
  allocation: SalesforceConnectorConfig['allocation'];
  fetchImpl?: typeof fetch;
  now?: () => number;
}

export interface SalesforceAnswer {
  status: number;
  body: unknown;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** An RS256-signed JWT bearer assertion (RFC 7523) for Salesforce's OAuth 2.0 JWT bearer flow. */
export const jwtAssertion = (clientId: string, subject: string, audience: string, privateKeyPem: string, nowSeconds: number): string => {
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(JSON.stringify({ iss: clientId, sub: subject, aud: audience, exp: nowSeconds + ASSERTION_TTL_SECONDS }));
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), createPrivateKey(privateKeyPem));
  return `${header}.${claims}.${base64url(signature)}`;
};

/**
 * A lean Salesforce REST client on `fetch`: signs in through the connected app, sends data
 * calls to the instance the token names, reads `Sforce-Limit-Info` from every answer and pauses
 * before the org's allocation runs out, and signs in again once when a session has expired.
 */
export class SalesforceClient {
  readonly allocation: ApiAllocation;
  private session: Promise<SalesforceSession> | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly loginUrl: string;
  private readonly now: () => number;

  constructor(private readonly options: SalesforceClientOptions) {
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.loginUrl = options.loginUrl.replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
    this.allocation = new ApiAllocation(options.allocation.reservePercent, options.allocation.recheckSeconds * 1000, this.now);
  }

  /** `/services/data/v66.0`: the prefix of every data path. */
  get dataPath(): string {
    return `/services/data/v${this.options.apiVersion}`;
  }

  /** One data call (`path` below the version, or a full `/services/data/...` path such as a nextRecordsUrl). */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<SalesforceAnswer> {
    await this.checkAllocation();
    return this.send(method, path, body, headers);
  }

  /** A data call that must succeed: an error answer becomes the classified ConnectorError. */
  async expect(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const answer = await this.request(method, path, body, headers);
    if (answer.status >= 400) throw this.failure(method, path, answer);
    return answer.body;
  }

  failure(method: string, path: string, answer: SalesforceAnswer): ConnectorError {
    return salesforceError(`${this.options.id}: ${method} ${path.split('?')[0]}`, answer.status, answer.body, this.allocation.recheckIntervalMs);
  }

  /**
   * Paused connectors refuse calls without sending them; once the pause is over, one `GET
   * /limits` decides whether usage has fallen below the threshold.
   */
  private async checkAllocation(): Promise<void> {
    const state = this.allocation.state();
    if (state.kind === 'open') return;
    if (state.kind === 'recheck') {
      const answer = await this.send('GET', '/limits');
      if (answer.status < 400) {
        const daily = (answer.body as Json | undefined)?.DailyApiRequests as { Max?: number; Remaining?: number } | undefined;
        if (typeof daily?.Max === 'number' && typeof daily.Remaining === 'number') {
          this.allocation.observe({ used: daily.Max - daily.Remaining, limit: daily.Max });
        }
      }
    }
    const after = this.allocation.state();
    if (after.kind === 'open') return;
    const waitMs = after.kind === 'paused' ? after.recheckAt - this.now() : this.allocation.recheckIntervalMs;
    throw new ConnectorError('throttled', `${this.options.id}: paused: ${after.reason}`, { retryAfterMs: Math.max(0, waitMs) });
  }

  private async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<SalesforceAnswer> {
    const session = await this.signIn();
    let answer = await this.sendWith(session, method, path, body, headers);
    if (answer.status === 401 && errorItemsOf(answer.body).some((e) => e.errorCode === 'INVALID_SESSION_ID')) {
      // The session expired or was revoked: sign in once more (reading the secret again) and retry once.
      answer = await this.sendWith(await this.signIn(session), method, path, body, headers);
    }
    if (answer.status === 403 && errorItemsOf(answer.body).some((e) => e.errorCode === 'REQUEST_LIMIT_EXCEEDED')) {
      this.allocation.pause(`Salesforce refused a call with REQUEST_LIMIT_EXCEEDED: ${errorItemsOf(answer.body)[0]?.message ?? ''}`);
    }
    return answer;
  }

  private async sendWith(session: SalesforceSession, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<SalesforceAnswer> {
    const url = `${session.instanceUrl}${path.startsWith('/services/') ? path : `${this.dataPath}${path}`}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers: {
          authorization: `Bearer ${session.accessToken}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ConnectorError('retryable', `${this.options.id}: ${method} ${path.split('?')[0]} failed: ${(error as Error).message}`, { cause: error });
    }
    this.allocation.observe(parseLimitInfo(response.headers.get('sforce-limit-info')));
    const text = await response.text();
    return { status: response.status, body: text ? parseJson(text) : undefined };
  }

  /** The current session, or a new one when `expired` is the one that failed. */
  private signIn(expired?: SalesforceSession): Promise<SalesforceSession> {
    if (this.session && expired) {
      const current = this.session;
      this.session = current.then((session) => (session === expired ? this.login(true) : session));
    }
    this.session ??= this.login(false);
    const pending = this.session;
    pending.catch(() => {
      if (this.session === pending) this.session = undefined;
    });
    return pending;
  }

  private async login(fresh: boolean): Promise<SalesforceSession> {
    const { credentials } = this.options;
    const form = new URLSearchParams();
    if (credentials.flow === 'client-credentials') {
      const secret = fresh ? await credentials.clientSecret.refresh() : await credentials.clientSecret.get();
      form.set('grant_type', 'client_credentials');
      form.set('client_id', credentials.clientId);
      form.set('client_secret', secret);
    } else {
      const key = fresh ? await credentials.privateKey.refresh() : await credentials.privateKey.get();
      form.set('grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer');
      form.set('assertion', jwtAssertion(credentials.clientId, credentials.subject, this.loginUrl, key, Math.floor(this.now() / 1000)));
    }
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.loginUrl}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ConnectorError('retryable', `${this.options.id}: sign-in at ${this.loginUrl} failed: ${(error as Error).message}`, { cause: error });
    }
    const body = parseJson(await response.text()) as Json | undefined;
    if (!response.ok || typeof body?.access_token !== 'string' || typeof body.instance_url !== 'string') {
      const reason = `${String(body?.error ?? response.status)}: ${String(body?.error_description ?? '')}`;
      const kind = response.status >= 500 ? 'retryable' : 'unauthorized';
      throw new ConnectorError(kind, `${this.options.id}: the connected app's sign-in was refused (${reason})`, { status: response.status });
    }
    return { accessToken: body.access_token, instanceUrl: body.instance_url.replace(/\/+$/, '') };
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};
