import { ConnectorError } from '../connector.errors.ts';
import { GraphError, graphErrorOf, headerOf } from './graph.errors.ts';
import type { GraphTokenProvider } from './graph-token.ts';

type Json = Record<string, unknown>;

const REQUEST_TIMEOUT_MS = 15_000;
/** JSON batching takes at most 20 requests (https://learn.microsoft.com/graph/json-batching). */
export const BATCH_LIMIT = 20;
/** Rounds of re-sending a batch's throttled items, each after the Retry-After they carried. */
const BATCH_THROTTLE_ROUNDS = 2;

/** One request inside a `$batch`: `url` is relative to the version (`/users/{id}`). */
export interface BatchRequest {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  body?: Json;
  headers?: Record<string, string>;
  /** The id of the one request this one waits for; Graph answers 424 when that one failed. */
  dependsOn?: string;
}

/** A batch item's answer: its status and, when it failed, the classified error. */
export interface BatchResult {
  status: number;
  body?: Json;
  error?: GraphError;
}

export interface GraphClientOptions {
  connectorId: string;
  /** `https://graph.microsoft.com/v1.0`. */
  baseUrl: string;
  tokens: GraphTokenProvider;
  fetchImpl?: typeof fetch;
  /** Waits between rounds of a batch's throttled items (injected by tests). */
  sleep?: (ms: number) => Promise<void>;
  /** A throttled batch item asking to wait longer than this is left to the caller's retry. */
  maxInlineWaitMs?: number;
  /**
   * Meters every write request, a `$batch`'s items one by one: Graph's write quota (3 000 per
   * 150 s per application and tenant) is one budget for all of them, whichever operation sends.
   */
  writes?: { acquire(): Promise<void> };
}

/**
 * A lean Microsoft Graph client on `fetch`: a bearer token from the client credentials flow,
 * one retry with a new token after a 401, errors classified from Graph's envelope, and JSON
 * batching with per-item results. Retries of whole calls (throttling, 5xx) are the shared
 * resilience layer's; the one retry here is of the items a `$batch` answered 429 or 503 for,
 * which only the batch's sender can see.
 */
export class GraphClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxInlineWaitMs: number;

  constructor(private readonly options: GraphClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxInlineWaitMs = options.maxInlineWaitMs ?? 2_000;
  }

  /**
   * One request. `path` is relative to the base (`/users?$filter=...`) or an absolute
   * `@odata.nextLink` Graph gave, which must point at the same base: the token is never sent
   * anywhere else.
   */
  async request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Json | undefined> {
    const url = this.urlOf(path);
    if (method !== 'GET' && path !== '/$batch') await this.options.writes?.acquire();
    const send = async (token: string) => {
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...options.headers,
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        throw new ConnectorError('retryable', `${this.options.connectorId}: ${method} ${path.split('?')[0]} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const text = await response.text();
      const body = parseJson(text);
      if (!response.ok) {
        throw graphErrorOf(
          { status: response.status, body: body ?? text, retryAfter: response.headers.get('retry-after') },
          { connectorId: this.options.connectorId, method, path },
        );
      }
      return body;
    };
    try {
      return await send(await this.options.tokens.token());
    } catch (error) {
      if (!(error instanceof GraphError && error.status === 401)) throw error;
      // The token expired early or was revoked: a new one, once.
      this.options.tokens.invalidate();
      return send(await this.options.tokens.token());
    }
  }

  /**
   * Sends the requests in `$batch` calls of at most 20 and answers each by id. Items Graph
   * throttled (429, or 503 with Retry-After) are sent again after the longest wait they asked
   * for, at most twice and only when that wait is short; otherwise the call fails `throttled`
   * with that wait, and the caller's retry resends what it needs (every use here is idempotent).
   * A lone request goes out on its own: a batch of one costs the same and says less.
   */
  async batch(requests: BatchRequest[]): Promise<Map<string, BatchResult>> {
    const results = new Map<string, BatchResult>();
    for (let start = 0; start < requests.length; start += BATCH_LIMIT) {
      const chunk = requests.slice(start, start + BATCH_LIMIT);
      for (const [id, result] of await this.batchChunk(chunk)) results.set(id, result);
    }
    return results;
  }

  private async batchChunk(requests: BatchRequest[]): Promise<Map<string, BatchResult>> {
    const results = new Map<string, BatchResult>();
    if (requests.length === 1 && !requests[0]?.dependsOn) {
      const [only] = requests as [BatchRequest];
      try {
        const body = await this.request(only.method, only.url, { body: only.body, headers: only.headers });
        results.set(only.id, { status: 200, ...(body ? { body } : {}) });
      } catch (error) {
        if (!(error instanceof GraphError) || error.kind === 'throttled') throw error;
        results.set(only.id, { status: error.status ?? 0, error });
      }
      return results;
    }
    let pending = requests;
    for (let round = 0; ; round++) {
      const answered = await this.sendBatch(pending);
      const throttled = pending.filter((request) => answered.get(request.id)?.error?.kind === 'throttled');
      for (const request of pending) {
        const result = answered.get(request.id);
        if (result && result.error?.kind !== 'throttled') results.set(request.id, result);
      }
      if (throttled.length === 0) return results;
      const waitMs = Math.max(0, ...throttled.map((request) => answered.get(request.id)?.error?.retryAfterMs ?? 0));
      if (round >= BATCH_THROTTLE_ROUNDS || waitMs > this.maxInlineWaitMs) {
        const first = answered.get(throttled[0]?.id ?? '')?.error;
        throw new ConnectorError(
          'throttled',
          `${this.options.connectorId}: Microsoft Graph throttled ${throttled.length} of ${pending.length} requests of a $batch: ${first?.message ?? ''}`,
          { status: 429, retryAfterMs: waitMs || undefined, cause: first },
        );
      }
      await this.sleep(waitMs);
      // A dependant of a throttled request was answered 424: it goes again with what it waits for.
      const again = new Set(throttled.map((request) => request.id));
      pending = pending.filter((request) => again.has(request.id) || (request.dependsOn !== undefined && again.has(request.dependsOn)));
    }
  }

  private async sendBatch(requests: BatchRequest[]): Promise<Map<string, BatchResult>> {
    for (const request of requests) if (request.method !== 'GET') await this.options.writes?.acquire();
    const answer = await this.request('POST', '/$batch', {
      body: {
        requests: requests.map((request) => ({
          id: request.id,
          method: request.method,
          url: request.url,
          ...(request.body === undefined ? {} : { body: request.body, headers: { 'content-type': 'application/json', ...request.headers } }),
          ...(request.body === undefined && request.headers ? { headers: request.headers } : {}),
          ...(request.dependsOn ? { dependsOn: [request.dependsOn] } : {}),
        })),
      },
    });
    const byId = new Map(requests.map((request) => [request.id.toLowerCase(), request]));
    const results = new Map<string, BatchResult>();
    for (const item of (answer?.responses as Json[] | undefined) ?? []) {
      const request = byId.get(String(item.id).toLowerCase());
      if (!request) continue;
      const status = Number(item.status);
      const body = item.body && typeof item.body === 'object' ? (item.body as Json) : undefined;
      if (status >= 200 && status < 300) {
        results.set(request.id, { status, ...(body ? { body } : {}) });
        continue;
      }
      const headers = (item.headers ?? {}) as Record<string, string>;
      results.set(request.id, {
        status,
        error: graphErrorOf(
          { status, body, retryAfter: headerOf(headers, 'retry-after') },
          { connectorId: this.options.connectorId, method: request.method, path: request.url },
        ),
      });
    }
    for (const request of requests) {
      if (!results.has(request.id)) {
        throw new ConnectorError('retryable', `${this.options.connectorId}: Microsoft Graph's $batch answer has no response for request ${request.id}`);
      }
    }
    return results;
  }

  private urlOf(path: string): string {
    if (!/^https?:/i.test(path)) return `${this.baseUrl}${path}`;
    if (!path.startsWith(`${this.baseUrl}/`)) {
      throw new ConnectorError('permanent', `${this.options.connectorId}: ${path.split('?')[0]} is not under ${this.baseUrl}: not a link of this connector`);
    }
    return path;
  }
}

const parseJson = (text: string): Json | undefined => {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
};
