import { ConnectorError, type FailureKind, kindOfStatus } from '../connector.errors.ts';
import type { OktaCredentials } from './okta-credentials.ts';
import { oktaBucketOf, type OktaRateGovernor } from './okta-rate-governor.ts';

type Json = Record<string, unknown>;

const REQUEST_TIMEOUT_MS = 10_000;

/** Okta's error body (`Error` in the management API description). */
export interface OktaErrorBody {
  errorCode?: string;
  errorSummary?: string;
  errorCauses?: Array<{ errorSummary?: string }>;
  errorId?: string;
}

/** An `errorCauses` text of a field whose value another object holds: `login: An object with this field already exists ...`. */
const ALREADY_EXISTS = /already exists/i;

/**
 * The failure kind of an Okta error, by `errorCode` (Okta's API design principles: only the code
 * is meant for program logic, the summary may change), falling back on the HTTP status:
 *
 * - E0000001 whose causes say a field's value already exists (a duplicate login or group name)
 *   is a conflict; any other validation failure is permanent;
 * - E0000007 (not found) is notFound; E0000011 (invalid token) and E0000006 (access denied) are
 *   unauthorized; E0000047 (rate limit) is throttled;
 * - other 403s (a lifecycle call the user's status does not allow, E0000016 or E0000038) are
 *   refusals of that request, not of our credentials: permanent.
 */
export const oktaFailureKind = (status: number, body: OktaErrorBody | undefined): FailureKind => {
  switch (body?.errorCode) {
    case 'E0000001':
      return (body.errorCauses ?? []).some((cause) => ALREADY_EXISTS.test(cause.errorSummary ?? '')) ? 'conflict' : 'permanent';
    case 'E0000007':
      return 'notFound';
    case 'E0000011':
    case 'E0000006':
      return 'unauthorized';
    case 'E0000047':
      return 'throttled';
  }
  if (status === 403 && body?.errorCode) return 'permanent';
  return kindOfStatus(status);
};

/** `E0000001 Api validation failed: login (login: An object with this field already exists ...)`: what the audit record keeps. */
export const describeOktaError = (body: OktaErrorBody | undefined, fallback: string): string => {
  if (!body?.errorCode) return fallback;
  const causes = (body.errorCauses ?? []).map((cause) => cause.errorSummary).filter(Boolean);
  return `${body.errorCode} ${body.errorSummary ?? ''}${causes.length > 0 ? ` (${causes.join('; ')})` : ''}`.trim();
};

/**
 * The `rel="next"` target of a `Link` header (RFC 8288), which is how Okta pages every list:
 * `<https://acme.okta.com/api/v1/users?after=00u...&limit=200>; rel="next"`.
 */
export const nextLinkOf = (link: string | null): string | undefined => {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!match) continue;
    const rels = /\brel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? '')?.[1]?.split(/\s+/) ?? [];
    if (rels.includes('next')) return match[1];
  }
  return undefined;
};

export interface OktaResponse {
  status: number;
  body: Json | Json[] | undefined;
  /** The `rel="next"` link, as a path and query under the org URL. */
  next?: string;
}

export interface OktaRequest {
  method: string;
  /** A path and query under the org URL: `/api/v1/users?search=...`. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * One Okta org over fetch: the credentials' header on each request, the rate governor around
 * each, and every failure as a ConnectorError of the right kind with Okta's code and summary in
 * its message. A 401 refreshes the credentials once (a rotated API token, an expired access
 * token) and tries again.
 */
export class OktaHttp {
  private readonly origin: string;

  constructor(
    private readonly connectorId: string,
    orgUrl: string,
    private readonly credentials: OktaCredentials,
    readonly governor: OktaRateGovernor,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.origin = new URL(orgUrl).origin;
  }

  /**
   * A page cursor is the `next` link Okta gave; it is followed only on this org, so a cursor
   * read back from a run record never sends the credentials anywhere else.
   */
  pathOfLink(link: string): string {
    const url = new URL(link, this.origin);
    if (url.origin !== this.origin) throw new ConnectorError('permanent', `${this.connectorId}: "${link}" is not a page of ${this.origin}`);
    return `${url.pathname}${url.search}`;
  }

  async send(request: OktaRequest): Promise<OktaResponse> {
    try {
      return await this.attempt(request, await this.credentials.header());
    } catch (error) {
      if (!(error instanceof ConnectorError && error.kind === 'unauthorized' && error.status === 401)) throw error;
      let header: string;
      try {
        header = await this.credentials.refresh();
      } catch (cause) {
        if (cause instanceof ConnectorError) throw cause;
        throw new ConnectorError('retryable', `${this.connectorId}: Okta refused the credentials, and reading them again failed: ${(cause as Error).message}`, {
          cause,
        });
      }
      return this.attempt(request, header);
    }
  }

  private async attempt(request: OktaRequest, authorization: string): Promise<OktaResponse> {
    const bucket = oktaBucketOf(request.method, request.path);
    await this.governor.acquire(bucket);
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(`${this.origin}${request.path}`, {
        method: request.method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      throw new ConnectorError('retryable', `${this.connectorId}: ${request.method} ${request.path} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      this.governor.release();
    }
    const untilReset = this.governor.observe(bucket, response.headers, response.status);
    const body = parseJson(text);
    if (!response.ok) {
      const error = Array.isArray(body) ? undefined : (body as OktaErrorBody | undefined);
      const kind = oktaFailureKind(response.status, error);
      throw new ConnectorError(
        kind,
        `${this.connectorId}: ${request.method} ${request.path.split('?')[0]} answered ${response.status}: ${describeOktaError(error, text.slice(0, 300))}`,
        // Okta sends no Retry-After: a throttled request waits for its bucket's reset.
        { status: response.status, ...(kind === 'throttled' && untilReset !== undefined ? { retryAfterMs: untilReset } : {}) },
      );
    }
    const next = nextLinkOf(response.headers.get('link'));
    return { status: response.status, body, ...(next ? { next: this.pathOfLink(next) } : {}) };
  }
}

const parseJson = (text: string): Json | Json[] | undefined => {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Json | Json[];
  } catch {
    return undefined;
  }
};
