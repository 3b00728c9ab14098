import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type GraphContract, loadGraphContract } from './graph-contract.ts';

type Json = Record<string, unknown>;

/**
 * A fake Microsoft Graph (v1.0, users and groups) and Entra token endpoint: a real HTTP server
 * holding a tenant's state, enforcing the contract in ../shared/contracts (README section 2 and
 * msgraph.openapi.json). Every write body is checked against Microsoft's schemas: undeclared
 * properties are refused ("Invalid property 'x'."), read-only ones too, and the required ones
 * of a create enforced. It reproduces the documented behaviours a client depends on: status
 * codes (201 create, 204 update and delete), the `error` envelope, duplicate userPrincipalName
 * as `ObjectConflict`, deleted items for users, the `$filter` subset the connector uses (eq, with
 * advanced queries needing `ConsistencyLevel: eventual` and `$count=true`), nextLink paging with
 * `$top` 1 to 999, the 20-member bind limit (all or none), `$batch` (20 items, per-item status,
 * `dependsOn` and 424, per-item throttling), throttling by resource units and writes with
 * `Retry-After` and `x-ms-resource-unit`, a 429 schedule a test sets, expiring tokens, missing
 * permissions as `Authorization_RequestDenied`, and replication delay on user reads.
 */

export interface EntraFakeOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** The tenant's verified domains: a userPrincipalName must be in one. */
  verifiedDomains?: string[];
  /** Application permissions granted (default: User, Group, GroupMember and AppRoleAssignment ReadWrite.All). */
  permissions?: string[];
  /** Lifetime of the tokens the fake issues, in seconds (Entra: 3599). */
  tokenLifetimeSeconds?: number;
  /** How long a user write stays invisible to reads (GET, list, $filter, delta). */
  replicationDelayMs?: number;
  /**
   * Graph's quotas per application and tenant, enforced over fixed windows of the fake's clock:
   * resource units per 10 s and write requests per 150 s. Off unless given.
   */
  quota?: { resourceUnitsPer10s?: number; writesPer150s?: number };
  now?: () => number;
}

/** One request the fake answered: a top-level call or an item of a `$batch`. */
export interface GraphCall {
  method: string;
  path: string;
  status: number;
  /** The `$batch` call it travelled in, when it was an item. */
  batch?: number;
  body?: unknown;
  headers: Record<string, string>;
}

/** A scripted throttle: answer 429 with this Retry-After (seconds) when it returns a number. */
export type ThrottleRule = (call: { method: string; path: string; write: boolean; index: number }) => number | undefined;

interface Versioned {
  /** The current state; undefined once deleted. */
  current: Json | undefined;
  /** What reads return until `visibleAt`: the state before the last write (undefined: none). */
  previous: Json | undefined;
  visibleAt: number;
  /** Delta bookkeeping: the change sequence of the last write. */
  sequence: number;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Json[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const USER_DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const GROUP_DEFAULT_PROPERTIES = ['id', 'displayName', 'description', 'mailEnabled', 'mailNickname', 'securityEnabled', 'groupTypes', 'createdDateTime'];
/** Properties whose `eq` filter is an advanced query (needs ConsistencyLevel: eventual and $count=true). */
const ADVANCED_FILTER_PROPERTIES = /^(employeeId|onPremisesExtensionAttributes\/)/;
const REQUIRED_ON_CREATE = {
  user: ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName'],
  group: ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled'],
};
const MAX_BIND = 20;
const MAX_BATCH = 20;
const DELETED_ITEMS_RETENTION_MS = 30 * 24 * 3600_000;

const notFound = (id: string) =>
  new GraphFailure(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
/** Query options as Graph writes them in links: `$top=2&$skiptoken=...`, values encoded, names as they are. */
const queryString = (params: URLSearchParams) => [...params].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
const badRequest = (message: string, details: Json[] = []) => new GraphFailure(400, 'Request_BadRequest', message, details);
const unsupportedQuery = (message: string) => new GraphFailure(400, 'Request_UnsupportedQuery', message);

export class EntraFake {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly domain: string;
  /** Every call answered, batch items included, in order. */
  readonly calls: GraphCall[] = [];
  /** Counts of HTTP calls (a `$batch` is one) and token requests. */
  httpCalls = 0;
  tokenRequests = 0;
  permissions: Set<string>;
  replicationDelayMs: number;
  private server: Server | undefined;
  private base = '';
  private readonly contract: GraphContract;
  private readonly users = new Map<string, Versioned>();
  /** userPrincipalName (lower case) -> id, of the current state: uniqueness and lookups by key without a scan. */
  private readonly principalNames = new Map<string, string>();
  private readonly groups = new Map<string, { record: Json; members: Set<string> }>();
  /** Delta bookkeeping of groups: each change to a group or its members, in sequence. */
  private readonly groupJournal: Array<{ sequence: number; groupId: string; change: 'group' | 'deleted' | 'added' | 'removed'; memberId?: string }> = [];
  private readonly deleted = new Map<string, { record: Json; deletedAt: number }>();
  private readonly managers = new Map<string, string>();
  private readonly appRoleAssignments: Json[] = [];
  private readonly tokens = new Map<string, number>();
  private readonly now: () => number;
  private throttleRule: ThrottleRule | undefined;
  private throttleIndex = 0;
  private sequence = 0;
  /** Delta links issued at or before this sequence are refused (see expireDeltaLinks). */
  private deltaFloor = -1;
  private batches = 0;
  private readonly quota: { resourceUnitsPer10s?: number; writesPer150s?: number };
  private units = { window: -1, used: 0 };
  private writes = { window: -1, used: 0 };

  constructor(private readonly options: EntraFakeOptions = {}) {
    this.tenantId = options.tenantId ?? '6f1c7a3e-0000-4000-8000-00000000c0de';
    this.clientId = options.clientId ?? '0a0b0c0d-0000-4000-8000-000000000001';
    this.clientSecret = options.clientSecret ?? 'fake-client-secret-0123';
    this.domain = options.verifiedDomains?.[0] ?? 'contoso.onmicrosoft.com';
    this.permissions = new Set(
      options.permissions ?? ['User.ReadWrite.All', 'Group.ReadWrite.All', 'GroupMember.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All'],
    );
    this.replicationDelayMs = options.replicationDelayMs ?? 0;
    this.quota = options.quota ?? {};
    this.now = options.now ?? Date.now;
    this.contract = loadGraphContract();
  }

  /** `http://127.0.0.1:<port>`: the authority (token endpoint) and Graph's host. */
  get url(): string {
    return this.base;
  }

  get graphBaseUrl(): string {
    return `${this.base}/v1.0`;
  }

  /** A connectors-document entry for this tenant. */
  connectorEntry(extra: Json = {}): Json {
    return {
      id: 'entra',
      type: 'entra',
      enabled: true,
      tenantId: this.tenantId,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      domain: this.domain,
      graphBaseUrl: this.graphBaseUrl,
      authorityUrl: this.url,
      ...extra,
    };
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      void this.serve(request, response);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // --- what tests set and read ---------------------------------------------------------------

  /** 429s on a schedule: the rule sees every request (batch items too) and returns a Retry-After in seconds, or undefined. */
  throttle(rule: ThrottleRule | undefined): void {
    this.throttleRule = rule;
    this.throttleIndex = 0;
  }

  /**
   * Every delta link and page link issued so far is refused from now on, as Graph refuses a
   * link older than 7 days: 400 `syncStateNotFound` (https://learn.microsoft.com/graph/delta-query-overview).
   */
  expireDeltaLinks(): void {
    this.deltaFloor = this.sequence;
    // A round started from now on is issued after the floor.
    this.sequence++;
  }

  /** Every token issued so far is refused from now on (as if it expired), whatever its lifetime. */
  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  user(id: string): Json | undefined {
    const user = this.users.get(id)?.current;
    return user ? { ...user, ...(this.managers.has(id) ? { manager: this.managers.get(id) } : {}) } : undefined;
  }

  userByPrincipalName(upn: string): Json | undefined {
    const id = this.principalNames.get(upn.toLowerCase());
    return id ? this.user(id) : undefined;
  }

  allUsers(): Json[] {
    return [...this.users.values()].flatMap((entry) => (entry.current ? [entry.current] : []));
  }

  group(id: string): Json | undefined {
    return this.groups.get(id)?.record;
  }

  allGroups(): Json[] {
    return [...this.groups.values()].map((entry) => entry.record);
  }

  members(groupId: string): string[] {
    return [...(this.groups.get(groupId)?.members ?? [])].sort();
  }

  deletedUser(id: string): Json | undefined {
    return this.deleted.get(id)?.record;
  }

  appRolesOf(principalId: string): Json[] {
    return this.appRoleAssignments.filter((assignment) => assignment.principalId === principalId);
  }

  /** Adds a user as an administrator would (not through the connector), visible at once; returns its id. */
  seedUser(upn: string, extra: Json = {}): string {
    const id = randomUUID();
    this.principalNames.set(upn.toLowerCase(), id);
    const local = upn.split('@')[0] ?? upn;
    this.users.set(id, {
      current: { id, userPrincipalName: upn, displayName: local, mailNickname: local, accountEnabled: true, businessPhones: [], ...extra },
      previous: undefined,
      visibleAt: 0,
      sequence: ++this.sequence,
    });
    return id;
  }

  /** Adds a group as an administrator would (not through the connector), visible at once. */
  seedGroup(displayName: string): string {
    const id = randomUUID();
    this.groups.set(id, {
      record: { id, displayName, mailEnabled: false, mailNickname: displayName.replace(/\W/g, ''), securityEnabled: true, groupTypes: [], description: null },
      members: new Set(),
    });
    this.journal(id, 'group');
    return id;
  }

  /** Calls that wrote (POST, PATCH, PUT, DELETE), batch items counted one by one. */
  writeCalls(): GraphCall[] {
    return this.calls.filter((call) => call.method !== 'GET' && !call.path.endsWith('/$batch') && call.status < 400);
  }

  // --- HTTP ----------------------------------------------------------------------------------

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.answer(request, response);
    } catch (error) {
      // A fault of the fake itself (its own answer broke the contract): a 500 the test sees, never a hang.
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`fake Graph fault: ${(error as Error).message}`);
    }
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.base);
    this.httpCalls++;
    let answer: Answer;
    try {
      if (method === 'POST' && url.pathname === `/${this.tenantId}/oauth2/v2.0/token`) answer = this.token(new URLSearchParams(text));
      else if (url.pathname.startsWith('/v1.0/')) {
        this.authorise(request.headers.authorization);
        const body = this.parseBody(text, request.headers['content-type']);
        const path = `${url.pathname.slice('/v1.0'.length)}${url.search}`;
        answer = path.startsWith('/$batch') && method === 'POST' ? this.batch(body) : this.dispatch(method, path, body, headerMap(request.headers));
      } else answer = this.failure(notFound(url.pathname));
    } catch (error) {
      answer = this.failure(error);
    }
    const headers = { ...(answer.headers ?? {}) };
    const payload = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    if (answer.body !== undefined && typeof answer.body !== 'string') headers['content-type'] = 'application/json';
    response.writeHead(answer.status, headers);
    response.end(payload);
  }

  private parseBody(text: string, contentType: string | undefined): unknown {
    if (!text) return undefined;
    if (!String(contentType ?? '').includes('application/json')) throw badRequest('The request body must be application/json.');
    try {
      return JSON.parse(text);
    } catch {
      throw badRequest('Invalid JSON in the request body.');
    }
  }

  private token(form: URLSearchParams): Answer {
    this.tokenRequests++;
    const refuse = (status: number, error: string, description: string) => ({ status, body: { error, error_description: description } });
    if (form.get('grant_type') !== 'client_credentials')
      return refuse(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
    if (form.get('client_id') !== this.clientId)
      return refuse(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found.`);
    if (form.get('client_secret') !== this.clientSecret) return refuse(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    if (!/\/\.default$/.test(form.get('scope') ?? '')) return refuse(400, 'invalid_scope', 'AADSTS1002012: The provided value for scope is not valid.');
    const token = `fake-${randomUUID()}`;
    const lifetime = this.options.tokenLifetimeSeconds ?? 3599;
    this.tokens.set(token, this.now() + lifetime * 1000);
    return { status: 200, body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token } };
  }

  private authorise(header: string | undefined): void {
    const token = /^Bearer (.+)$/.exec(header ?? '')?.[1];
    const expires = token ? this.tokens.get(token) : undefined;
    if (expires === undefined) throw new GraphFailure(401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
    if (this.now() >= expires) throw new GraphFailure(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
  }

  private failure(error: unknown): Answer {
    if (!(error instanceof GraphFailure)) throw error;
    const body = {
      error: {
        code: error.code,
        message: error.message,
        ...(error.details.length ? { details: error.details } : {}),
        innerError: { date: new Date(this.now()).toISOString().slice(0, 19), 'request-id': randomUUID(), 'client-request-id': randomUUID() },
      },
    };
    const problem = this.contract.validateResponse('error', body);
    if (problem) throw new Error(`the fake's own error body breaks the contract: ${problem}`);
    return { status: error.status, body, headers: error.headers };
  }

  // --- $batch (https://learn.microsoft.com/graph/json-batching) --------------------------------

  private batch(body: unknown): Answer {
    const requests = (body as Json | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) throw badRequest('Invalid batch payload format.');
    if (requests.length > MAX_BATCH) throw badRequest(`Number of batch requests ${requests.length} exceeds the limit of ${MAX_BATCH}.`);
    const ids = new Set<string>();
    for (const item of requests as Json[]) {
      if (typeof item.id !== 'string' || typeof item.method !== 'string' || typeof item.url !== 'string') {
        throw badRequest('Each batch request needs id, method and url.');
      }
      const id = item.id.toLowerCase();
      if (ids.has(id)) throw badRequest(`Batch request ids must be unique; '${item.id}' is repeated.`);
      ids.add(id);
      if (item.body !== undefined && !headerMap((item.headers ?? {}) as Json)['content-type']) {
        throw badRequest(`Batch request '${item.id}' has a body but no Content-Type header.`);
      }
      if (item.dependsOn !== undefined && (!Array.isArray(item.dependsOn) || item.dependsOn.length > 1)) {
        throw badRequest(`Batch request '${item.id}' may depend on at most one request.`);
      }
      if (/^https?:/i.test(item.url)) throw badRequest(`Batch request '${item.id}' must use a relative url.`);
    }
    // A batch is either fully sequential (each request depends on the one before) or fully parallel.
    const dependent = (requests as Json[]).filter((item) => Array.isArray(item.dependsOn) && item.dependsOn.length > 0);
    if (dependent.length > 0) {
      const sequential = (requests as Json[]).every(
        (item, index) =>
          index === 0 ||
          (Array.isArray(item.dependsOn) && String(item.dependsOn[0]).toLowerCase() === String((requests as Json[])[index - 1]?.id).toLowerCase()),
      );
      if (!sequential) throw badRequest('A batch is either fully sequential (each request depends on the previous one) or fully parallel.');
    }
    const batch = ++this.batches;
    const statusOf = new Map<string, number>();
    const responses = (requests as Json[]).map((item) => {
      const dependsOn = Array.isArray(item.dependsOn) ? String(item.dependsOn[0]).toLowerCase() : undefined;
      let answer: Answer;
      const failedDependency = dependsOn !== undefined && !((statusOf.get(dependsOn) ?? 0) >= 200 && (statusOf.get(dependsOn) ?? 0) < 300);
      if (failedDependency) {
        answer = this.failure(new GraphFailure(424, 'FailedDependency', `The request depends on request '${item.dependsOn}', which failed.`));
        this.calls.push({ method: String(item.method), path: String(item.url), status: 424, batch, headers: {} });
      } else {
        try {
          answer = this.dispatch(String(item.method).toUpperCase(), String(item.url), item.body, headerMap((item.headers ?? {}) as Json), batch);
        } catch (error) {
          answer = this.failure(error);
        }
      }
      statusOf.set(String(item.id).toLowerCase(), answer.status);
      return { id: item.id, status: answer.status, headers: answer.headers ?? {}, ...(answer.body === undefined ? {} : { body: answer.body }) };
    });
    // Graph answers the items in any order.
    return { status: 200, body: { responses: responses.reverse() } };
  }

  // --- one request -----------------------------------------------------------------------------

  private dispatch(method: string, path: string, body: unknown, headers: Record<string, string>, batch?: number): Answer {
    const [route = '', search = ''] = path.split('?');
    const query = new URLSearchParams(search);
    const write = method !== 'GET';
    const record = (answer: Answer): Answer => {
      this.calls.push({
        method,
        path,
        status: answer.status,
        headers: answer.headers ?? {},
        ...(batch ? { batch } : {}),
        ...(body === undefined ? {} : { body }),
      });
      return answer;
    };
    let cost = 1;
    try {
      this.checkPermission(method, route);
      cost = this.costOf(method, route, query);
      this.meter(method, path, write, cost);
      const answer = this.route(method, route, query, body, headers);
      return record({ ...answer, headers: { ...(answer.headers ?? {}), 'x-ms-resource-unit': String(cost) } });
    } catch (error) {
      const answer = this.failure(error);
      return record({ ...answer, headers: { ...(answer.headers ?? {}), 'x-ms-resource-unit': String(cost) } });
    }
  }

  private checkPermission(method: string, route: string): void {
    const has = (...names: string[]) => names.some((name) => this.permissions.has(name));
    const write = method !== 'GET';
    let allowed: boolean;
    if (/^\/groups\/[^/]+\/appRoleAssignments/.test(route)) allowed = has('AppRoleAssignment.ReadWrite.All');
    else if (/^\/groups\/[^/]+\/members/.test(route))
      allowed = write
        ? has('GroupMember.ReadWrite.All', 'Group.ReadWrite.All')
        : has('GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All');
    else if (route.startsWith('/groups')) allowed = write ? has('Group.ReadWrite.All') : has('Group.Read.All', 'Group.ReadWrite.All');
    else allowed = write ? has('User.ReadWrite.All') : has('User.Read.All', 'User.ReadWrite.All');
    if (!allowed) throw new GraphFailure(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }

  /** Resource units of a request (README section 2, "Base request costs"). */
  private costOf(method: string, route: string, query: URLSearchParams): number {
    if (method !== 'GET') return 1;
    let cost = route === '/users' ? 2 : /^\/groups\/[^/]+\/members/.test(route) ? 3 : 1;
    if (query.has('$select')) cost -= 1;
    if (query.has('$expand')) cost += 1;
    if (Number(query.get('$top')) > 0 && Number(query.get('$top')) < 20) cost -= 1;
    return Math.max(1, cost);
  }

  /** The scripted schedule, then the quotas: a request over either is answered 429 and still counts. */
  private meter(method: string, path: string, write: boolean, cost: number): void {
    const retryAfter = this.throttleRule?.({ method, path, write, index: this.throttleIndex++ });
    if (retryAfter !== undefined) {
      throw new GraphFailure(429, 'TooManyRequests', 'Too many requests.', [], {
        'retry-after': String(retryAfter),
        'x-ms-throttle-scope': `Tenant_Application/${write ? 'ReadWrite' : 'Read'}/${this.clientId}/${this.tenantId}`,
        'x-ms-throttle-information': write ? 'WriteLimitExceeded' : 'ResourceUnitLimitExceeded',
      });
    }
    const now = this.now();
    const over = (bucket: { window: number; used: number }, windowMs: number, limit: number | undefined, amount: number, information: string) => {
      if (!limit) return;
      const window = Math.floor(now / windowMs);
      if (bucket.window !== window) Object.assign(bucket, { window, used: 0 });
      bucket.used += amount;
      if (bucket.used > limit) {
        throw new GraphFailure(429, 'TooManyRequests', 'Too many requests.', [], {
          'retry-after': String(Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000))),
          'x-ms-throttle-scope': `Tenant_Application/${write ? 'ReadWrite' : 'Read'}/${this.clientId}/${this.tenantId}`,
          'x-ms-throttle-information': information,
        });
      }
    };
    over(this.units, 10_000, this.quota.resourceUnitsPer10s, cost, 'ResourceUnitLimitExceeded');
    if (write) over(this.writes, 150_000, this.quota.writesPer150s, 1, 'WriteLimitExceeded');
  }

  private route(method: string, route: string, query: URLSearchParams, body: unknown, headers: Record<string, string>): Answer {
    const parts = route.split('/').filter(Boolean).map(decodeURIComponent);
    const [collection, key, sub, subKey, tail] = parts;
    if (collection === 'users') {
      if (!key) {
        if (method === 'GET') return this.listUsers(route, query, headers);
        if (method === 'POST') return this.createUser(body);
      } else if (key === 'delta' && method === 'GET' && parts.length === 2) return this.userDelta(route, query);
      else if (parts.length === 2) {
        if (method === 'GET') return { status: 200, body: this.project(this.visibleUser(key), query, USER_DEFAULT_PROPERTIES, this.contract.user.structural) };
        if (method === 'PATCH') return this.updateUser(key, body);
        if (method === 'DELETE') return this.deleteUser(key);
      } else if (sub === 'manager' && subKey === '$ref' && parts.length === 4) {
        if (method === 'PUT') return this.setManager(key, body);
        if (method === 'DELETE') return this.removeManager(key);
      }
    }
    if (collection === 'groups') {
      if (!key) {
        if (method === 'GET') return this.listGroups(route, query, headers);
        if (method === 'POST') return this.createGroup(body);
      } else if (key === 'delta' && method === 'GET' && parts.length === 2) return this.groupDelta(route, query);
      else if (parts.length === 2) {
        if (method === 'GET')
          return { status: 200, body: this.project(this.groupRecord(key), query, GROUP_DEFAULT_PROPERTIES, this.contract.group.structural) };
        if (method === 'PATCH') return this.updateGroup(key, body);
        if (method === 'DELETE') return this.deleteGroup(key);
      } else if (sub === 'members') {
        if (parts.length === 3 && method === 'GET') return this.listMembers(route, key, query);
        if (subKey === '$ref' && parts.length === 4 && method === 'POST') return this.addMember(key, body);
        if (tail === '$ref' && parts.length === 5 && method === 'DELETE') return this.removeMember(key, String(subKey));
      } else if (sub === 'appRoleAssignments' && parts.length === 3 && method === 'POST') return this.assignAppRole(key, body);
    }
    if (collection === 'directory' && key === 'deletedItems') {
      if (parts.length === 3 && method === 'GET') {
        if (sub === 'microsoft.graph.user')
          return this.page(
            route,
            query,
            [...this.deleted.values()].map((item) => item.record),
            'userCollection',
          );
        const item = this.deleted.get(String(sub));
        if (!item) throw notFound(String(sub));
        return { status: 200, body: item.record };
      }
      if (parts.length === 4 && subKey === 'microsoft.graph.restore' && method === 'POST') return this.restore(String(sub));
    }
    throw new GraphFailure(400, 'BadRequest', `Resource not found for the segment '${parts[parts.length - 1] ?? ''}'.`);
  }

  // --- validation ----------------------------------------------------------------------------

  /** The contract's checks of a write body: undeclared, read-only, types, and required on create. */
  private validateWrite(kind: 'user' | 'group', body: unknown, create: boolean): Json {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('A JSON object body is required.');
    const contract = this.contract[kind];
    const properties: Json = {};
    for (const [name, value] of Object.entries(body as Json)) {
      if (name === '@odata.type') continue;
      if (kind === 'group' && (name === 'members@odata.bind' || name === 'owners@odata.bind')) continue;
      if (!contract.declared.has(name)) throw badRequest(`Invalid property '${name}'.`);
      if (contract.readOnly.has(name)) throw badRequest(`Property '${name}' is read-only and cannot be set.`);
      properties[name] = value;
    }
    const problem = contract.validate(properties);
    if (problem) throw badRequest(`Invalid value: ${problem}.`);
    if (create) {
      const missing = REQUIRED_ON_CREATE[kind].filter((name) => properties[name] === undefined || properties[name] === null);
      if (missing.length) {
        const message = `Property '${missing[0]}' is required when creating the object.`;
        throw badRequest(message, [{ code: 'PropertyRequired', target: missing[0], message }]);
      }
    }
    for (const name of ['displayName', 'mailNickname', 'userPrincipalName'] as const) {
      if (name in properties && (properties[name] === null || properties[name] === '')) throw badRequest(`Property '${name}' cannot be cleared.`);
    }
    return properties;
  }

  private checkPrincipalName(upn: string, exceptId?: string): void {
    const domain = upn.split('@')[1]?.toLowerCase();
    const verified = (this.options.verifiedDomains ?? [this.domain]).map((d) => d.toLowerCase());
    if (!domain || !verified.includes(domain)) {
      throw badRequest('The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.', [
        { code: 'InvalidValue', target: 'userPrincipalName', message: 'The domain of the userPrincipalName is not a verified domain of the tenant.' },
      ]);
    }
    const taken = [...this.users.values()].some(
      (entry) => entry.current && entry.current.id !== exceptId && String(entry.current.userPrincipalName).toLowerCase() === upn.toLowerCase(),
    );
    if (taken) {
      throw badRequest('Another object with the same value for property userPrincipalName already exists.', [
        { code: 'ObjectConflict', target: 'userPrincipalName', message: 'Another object with the same value for property userPrincipalName already exists.' },
      ]);
    }
  }

  // --- users ---------------------------------------------------------------------------------

  private write(id: string, next: Json | undefined): void {
    const entry = this.users.get(id);
    const before = entry?.current?.userPrincipalName;
    if (typeof before === 'string') this.principalNames.delete(before.toLowerCase());
    if (typeof next?.userPrincipalName === 'string') this.principalNames.set(next.userPrincipalName.toLowerCase(), id);
    const visible = entry ? (this.now() >= entry.visibleAt ? entry.current : entry.previous) : undefined;
    this.users.set(id, { current: next, previous: visible, visibleAt: this.now() + this.replicationDelayMs, sequence: ++this.sequence });
  }

  /** What reads see: the state before the last write until it has replicated. */
  private readable(entry: Versioned): Json | undefined {
    return this.now() >= entry.visibleAt ? entry.current : entry.previous;
  }

  private visibleUser(key: string): Json {
    const entry =
      this.users.get(key) ??
      [...this.users.values()].find((candidate) => String(this.readable(candidate)?.userPrincipalName ?? '').toLowerCase() === key.toLowerCase());
    const user = entry ? this.readable(entry) : undefined;
    if (!user) throw notFound(key);
    return user;
  }

  private authoritativeUser(id: string): Json {
    const user = this.users.get(id)?.current;
    if (!user) throw notFound(id);
    return user;
  }

  private createUser(body: unknown): Answer {
    const properties = this.validateWrite('user', body, true);
    const password = (properties.passwordProfile as Json | undefined)?.password;
    if (typeof password !== 'string' || password.length < 8) {
      throw badRequest('The specified password does not comply with password complexity requirements.', [
        { code: 'InvalidValue', target: 'passwordProfile', message: 'The password is too weak.' },
      ]);
    }
    this.checkPrincipalName(String(properties.userPrincipalName));
    const id = randomUUID();
    const user: Json = { ...properties, id, createdDateTime: new Date(this.now()).toISOString(), businessPhones: [] };
    delete user.passwordProfile;
    this.write(id, user);
    return { status: 201, body: { '@odata.context': `${this.graphBaseUrl}/$metadata#users/$entity`, ...this.pick(user, USER_DEFAULT_PROPERTIES) } };
  }

  private updateUser(id: string, body: unknown): Answer {
    const user = this.authoritativeUser(id);
    const properties = this.validateWrite('user', body, false);
    if (typeof properties.userPrincipalName === 'string') this.checkPrincipalName(properties.userPrincipalName, id);
    const next: Json = { ...user };
    for (const [name, value] of Object.entries(properties)) {
      if (name === 'passwordProfile') continue;
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && next[name] && typeof next[name] === 'object')
        next[name] = { ...(next[name] as Json), ...(value as Json) };
      else next[name] = value;
    }
    this.write(id, next);
    return { status: 204 };
  }

  private deleteUser(id: string): Answer {
    const user = this.authoritativeUser(id);
    this.write(id, undefined);
    this.deleted.set(id, { record: { ...user, deletedDateTime: new Date(this.now()).toISOString() }, deletedAt: this.now() });
    this.managers.delete(id);
    for (const [groupId, group] of this.groups) if (group.members.delete(id)) this.journal(groupId, 'removed', id);
    return { status: 204 };
  }

  private restore(id: string): Answer {
    const item = this.deleted.get(id);
    if (!item || this.now() - item.deletedAt > DELETED_ITEMS_RETENTION_MS) throw notFound(id);
    this.checkPrincipalName(String(item.record.userPrincipalName));
    this.deleted.delete(id);
    const { deletedDateTime: _, ...user } = item.record;
    this.write(id, user);
    return { status: 200, body: user };
  }

  private referencedId(body: unknown): string {
    const reference = (body as Json | undefined)?.['@odata.id'];
    const id = typeof reference === 'string' ? /\/directoryObjects\/([^/?]+)$/.exec(reference)?.[1] : undefined;
    if (!id) throw badRequest('A reference body is {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}.');
    return id;
  }

  private setManager(id: string, body: unknown): Answer {
    this.authoritativeUser(id);
    const managerId = this.referencedId(body);
    if (!this.users.get(managerId)?.current) throw notFound(managerId);
    this.managers.set(id, managerId);
    return { status: 204 };
  }

  private removeManager(id: string): Answer {
    this.authoritativeUser(id);
    if (!this.managers.delete(id)) throw notFound(`${id}/manager`);
    return { status: 204 };
  }

  private listUsers(route: string, query: URLSearchParams, headers: Record<string, string>): Answer {
    const filter = this.filterOf(query, headers, this.contract.user.structural);
    const users = [...this.users.values()].flatMap((entry) => {
      const user = this.readable(entry);
      return user && filter(user) ? [user] : [];
    });
    return this.page(route, query, users, 'userCollection', USER_DEFAULT_PROPERTIES, this.contract.user.structural);
  }

  /** `/users/delta`: every user on the first round, then what changed since the round's deltaLink. */
  private userDelta(route: string, query: URLSearchParams): Answer {
    this.checkDeltaLink(query);
    const since = Number(query.get('$deltatoken') ?? -1);
    const round = Number(query.get('$deltaround') ?? this.sequence);
    const changed = [...this.users.values()].filter((entry) => this.now() >= entry.visibleAt && entry.sequence > since && entry.sequence <= round);
    const items = changed
      .map((entry) => (entry.current ? entry.current : { id: String(entry.previous?.id ?? ''), '@removed': { reason: 'changed' } }))
      .filter((item) => since >= 0 || !('@removed' in item));
    return this.deltaPage(route, query, items, since, round, (item) =>
      '@removed' in item ? item : this.project(item, query, USER_DEFAULT_PROPERTIES, this.contract.user.structural),
    );
  }

  /** A link's round state is kept until expireDeltaLinks: a deltaLink is issued at its token, a page link at its round's start. */
  private checkDeltaLink(query: URLSearchParams): void {
    if (!query.has('$deltatoken')) return;
    const issued = Number(query.get('$deltaround') ?? query.get('$deltatoken'));
    if (issued <= this.deltaFloor)
      throw new GraphFailure(
        400,
        'syncStateNotFound',
        'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
      );
  }

  /**
   * One page of a delta round (100 items): `@odata.nextLink` carries the round's bounds and a
   * `$skiptoken`; the last page's `@odata.deltaLink` starts the next round where this one ended.
   */
  private deltaPage(route: string, query: URLSearchParams, items: Json[], since: number, round: number, shape: (item: Json) => Json = (item) => item): Answer {
    const top = 100;
    const skip = Number(query.get('$skiptoken') ?? 0);
    const select = query.get('$select');
    const carried = (extra: Record<string, string>) => {
      const params = new URLSearchParams({ ...(select ? { $select: select } : {}), ...extra });
      return `${this.graphBaseUrl}${route}?${queryString(params)}`;
    };
    const last = skip + top >= items.length;
    return {
      status: 200,
      body: {
        value: items.slice(skip, skip + top).map(shape),
        ...(last
          ? { '@odata.deltaLink': carried({ $deltatoken: String(round) }) }
          : { '@odata.nextLink': carried({ $deltatoken: String(since), $deltaround: String(round), $skiptoken: String(skip + top) }) }),
      },
    };
  }

  // --- groups --------------------------------------------------------------------------------

  private journal(groupId: string, change: 'group' | 'deleted' | 'added' | 'removed', memberId?: string): void {
    this.groupJournal.push({ sequence: ++this.sequence, groupId, change, ...(memberId ? { memberId } : {}) });
  }

  /**
   * `/groups/delta` (https://learn.microsoft.com/graph/api/group-delta): the first round gives
   * every group with all its members in `members@delta`; a deltaLink's round gives each group
   * changed since, with only the members added or removed (`@removed`), and a deleted group as
   * `@removed`. Pages carry `@odata.nextLink` until the last, which carries `@odata.deltaLink`.
   */
  private groupDelta(route: string, query: URLSearchParams): Answer {
    this.checkDeltaLink(query);
    const since = Number(query.get('$deltatoken') ?? -1);
    const round = Number(query.get('$deltaround') ?? this.sequence);
    const memberRef = (id: string) => ({ '@odata.type': '#microsoft.graph.user', id });
    const select = query.get('$select');
    const properties = new URLSearchParams(
      select
        ? {
            $select: select
              .split(',')
              .filter((name) => name.trim() !== 'members')
              .join(','),
          }
        : {},
    );
    const project = (record: Json) => this.project(record, properties, GROUP_DEFAULT_PROPERTIES, this.contract.group.structural);
    let items: Json[];
    if (since < 0) {
      items = [...this.groups.values()].map(({ record, members }) => ({ ...project(record), 'members@delta': [...members].map(memberRef) }));
    } else {
      const touched = new Map<string, Map<string, boolean>>();
      const deleted = new Set<string>();
      for (const entry of this.groupJournal.filter((e) => e.sequence > since && e.sequence <= round)) {
        const members = touched.get(entry.groupId) ?? new Map<string, boolean>();
        touched.set(entry.groupId, members);
        if (entry.change === 'deleted') deleted.add(entry.groupId);
        if (entry.memberId) members.set(entry.memberId, entry.change === 'added');
      }
      items = [...touched].map(([id, members]) => {
        const group = this.groups.get(id);
        if (!group || deleted.has(id)) return { id, '@removed': { reason: 'deleted' } };
        const delta = [...members].map(([member, present]) => (present ? memberRef(member) : { ...memberRef(member), '@removed': { reason: 'deleted' } }));
        return { ...project(group.record), ...(delta.length ? { 'members@delta': delta } : {}) };
      });
    }
    return this.deltaPage(route, query, items, since, round);
  }

  private groupRecord(id: string): Json {
    const group = this.groups.get(id)?.record;
    if (!group) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw badRequest(`Invalid object identifier '${id}'.`);
      throw notFound(id);
    }
    return group;
  }

  private binds(body: unknown): string[] {
    const binds = (body as Json | undefined)?.['members@odata.bind'];
    if (binds === undefined) return [];
    if (!Array.isArray(binds)) throw badRequest("'members@odata.bind' must be an array of directoryObjects references.");
    if (binds.length > MAX_BIND) throw badRequest(`Too many references in 'members@odata.bind': at most ${MAX_BIND} can be added in one request.`);
    return binds.map((reference) => this.referencedId({ '@odata.id': reference }));
  }

  private createGroup(body: unknown): Answer {
    const properties = this.validateWrite('group', body, true);
    const members = this.binds(body);
    for (const member of members) if (!this.users.get(member)?.current) throw notFound(member);
    const id = randomUUID();
    const record: Json = { groupTypes: [], description: null, ...properties, id, createdDateTime: new Date(this.now()).toISOString() };
    this.groups.set(id, { record, members: new Set(members) });
    this.journal(id, 'group');
    for (const member of members) this.journal(id, 'added', member);
    return { status: 201, body: { '@odata.context': `${this.graphBaseUrl}/$metadata#groups/$entity`, ...record } };
  }

  /** PATCH a group: properties and `members@odata.bind` (at most 20; any error adds none). */
  private updateGroup(id: string, body: unknown): Answer {
    const group = this.groups.get(id);
    if (!group) this.groupRecord(id);
    const properties = this.validateWrite('group', body, false);
    const members = this.binds(body);
    for (const member of members) {
      if (!this.users.get(member)?.current && !this.groups.has(member)) throw notFound(member);
      if (group?.members.has(member)) throw badRequest("One or more added object references already exist for the following modified properties: 'members'.");
    }
    if (group) {
      group.record = { ...group.record, ...properties };
      if (Object.keys(properties).length > 0) this.journal(id, 'group');
      for (const member of members) {
        group.members.add(member);
        this.journal(id, 'added', member);
      }
    }
    return { status: 204 };
  }

  /** Security groups are deleted permanently (README section 2, behaviour 3). */
  private deleteGroup(id: string): Answer {
    this.groupRecord(id);
    this.groups.delete(id);
    this.journal(id, 'deleted');
    return { status: 204 };
  }

  private addMember(groupId: string, body: unknown): Answer {
    const group = this.groups.get(groupId);
    if (!group) this.groupRecord(groupId);
    const member = this.referencedId(body);
    if (!this.users.get(member)?.current && !this.groups.has(member)) throw notFound(member);
    if (group?.members.has(member)) throw badRequest("One or more added object references already exist for the following modified properties: 'members'.");
    group?.members.add(member);
    this.journal(groupId, 'added', member);
    return { status: 204 };
  }

  private removeMember(groupId: string, member: string): Answer {
    const group = this.groups.get(groupId);
    if (!group) this.groupRecord(groupId);
    if (!group?.members.delete(member)) throw notFound(member);
    this.journal(groupId, 'removed', member);
    return { status: 204 };
  }

  private assignAppRole(groupId: string, body: unknown): Answer {
    this.groupRecord(groupId);
    const { principalId, resourceId, appRoleId, ...rest } = (body ?? {}) as Json;
    const undeclared = Object.keys(rest).find((name) => name !== '@odata.type');
    if (undeclared) throw badRequest(`Invalid property '${undeclared}'.`);
    if (principalId !== groupId || typeof resourceId !== 'string' || typeof appRoleId !== 'string') {
      throw badRequest('principalId (the group), resourceId and appRoleId are required.');
    }
    if (this.appRoleAssignments.some((a) => a.principalId === groupId && a.resourceId === resourceId && a.appRoleId === appRoleId)) {
      throw badRequest('Permission being assigned already exists on the object');
    }
    const assignment = { id: randomUUID(), principalId, resourceId, appRoleId, principalType: 'Group', createdDateTime: new Date(this.now()).toISOString() };
    this.appRoleAssignments.push(assignment);
    return { status: 201, body: assignment };
  }

  private listGroups(route: string, query: URLSearchParams, headers: Record<string, string>): Answer {
    const filter = this.filterOf(query, headers, this.contract.group.structural);
    const groups = [...this.groups.values()].map((entry) => entry.record).filter(filter);
    return this.page(route, query, groups, 'groupCollection', GROUP_DEFAULT_PROPERTIES, this.contract.group.structural);
  }

  private listMembers(route: string, groupId: string, query: URLSearchParams): Answer {
    this.groupRecord(groupId);
    const members = [...(this.groups.get(groupId)?.members ?? [])].map((id) => ({
      '@odata.type': '#microsoft.graph.user',
      ...(this.users.get(id)?.current ?? { id }),
    }));
    return this.page(route, query, members, 'directoryObjectCollection', ['id', 'displayName', 'userPrincipalName'], this.contract.user.structural);
  }

  // --- queries -------------------------------------------------------------------------------

  /**
   * The `$filter` subset: `<property> eq '<value>'` clauses joined by `and`, on declared
   * structural properties (`complex/property` for complex ones). Properties whose filter is an
   * advanced query need `ConsistencyLevel: eventual` and `$count=true`.
   */
  private filterOf(query: URLSearchParams, headers: Record<string, string>, structural: Set<string>): (item: Json) => boolean {
    const advancedAllowed = headers.consistencylevel === 'eventual';
    if (query.get('$count') === 'true' && !advancedAllowed) throw unsupportedQuery('$count is only supported with the ConsistencyLevel:eventual header.');
    if (query.has('$search') && !advancedAllowed)
      throw unsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
    const text = query.get('$filter');
    if (!text) return () => true;
    const clauses = text.split(/\s+and\s+/i).map((clause) => {
      const match = /^\s*([A-Za-z][\w/]*)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(clause);
      if (!match) throw unsupportedQuery(`Unsupported or invalid query filter clause specified: '${clause}'.`);
      const [, property = '', raw = ''] = match;
      const [head = '', nested] = property.split('/');
      const known = structural.has(head) && (nested === undefined || this.contract.user.complex.get(head)?.has(nested) === true);
      if (!known) throw unsupportedQuery(`Property '${property}' does not exist as a declared property or extension property.`);
      if (ADVANCED_FILTER_PROPERTIES.test(property) && !(advancedAllowed && query.get('$count') === 'true')) {
        throw unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${property}' of resource 'User'.`);
      }
      const value = raw.replace(/''/g, "'");
      return (item: Json) => {
        const actual = nested ? (item[head] as Json | undefined)?.[nested] : item[head];
        return typeof actual === 'string' ? actual.toLowerCase() === value.toLowerCase() : String(actual) === value;
      };
    });
    return (item) => clauses.every((clause) => clause(item));
  }

  private pick(item: Json, names: string[]): Json {
    return Object.fromEntries(names.map((name) => [name, item[name] ?? (name === 'businessPhones' ? [] : null)]));
  }

  /** `$select` (unknown property: 400), else the entity's default properties. */
  private project(item: Json, query: URLSearchParams, defaults: string[], structural: Set<string>): Json {
    const select = query.get('$select');
    if (!select) return { ...(item['@odata.type'] ? { '@odata.type': item['@odata.type'] } : {}), ...this.pick(item, defaults) };
    const names = select.split(',').map((name) => name.trim());
    const unknown = names.find((name) => !structural.has(name));
    if (unknown) throw unsupportedQuery(`Property '${unknown}' does not exist as a declared property or extension property.`);
    return { ...(item['@odata.type'] ? { '@odata.type': item['@odata.type'] } : {}), ...this.pick(item, [...new Set(['id', ...names])]) };
  }

  /** One page: `$top` 1 to 999 (default 100); `@odata.nextLink` carries every query option and a `$skiptoken`. */
  private page(
    route: string,
    query: URLSearchParams,
    items: Json[],
    schema: 'userCollection' | 'groupCollection' | 'directoryObjectCollection',
    defaults: string[] = ['id'],
    structural: Set<string> = new Set(['id']),
  ): Answer {
    const topText = query.get('$top');
    const top = topText === null ? 100 : Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > 999) throw badRequest(`Invalid page size specified: '${topText}'. Must be between 1 and 999 inclusive.`);
    const skip = Number(query.get('$skiptoken') ?? 0);
    const value = items.slice(skip, skip + top).map((item) => this.project(item, query, defaults, structural));
    const next = new URLSearchParams(query);
    next.set('$skiptoken', String(skip + top));
    next.delete('$count');
    const body: Json = {
      '@odata.context': `${this.graphBaseUrl}/$metadata#${route.slice(1)}`,
      ...(query.get('$count') === 'true' && skip === 0 ? { '@odata.count': items.length } : {}),
      value,
      ...(skip + top < items.length ? { '@odata.nextLink': `${this.graphBaseUrl}${route}?${queryString(next)}` } : {}),
    };
    const problem = this.contract.validateResponse(schema, body);
    if (problem) throw new Error(`the fake's own ${schema} breaks the contract: ${problem}`);
    return { status: 200, body };
  }
}

const headerMap = (headers: Json | IncomingMessage['headers']): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [[name.toLowerCase(), String(value)]])));

/** Starts a fake tenant on a free port of 127.0.0.1. */
export const startEntraFake = (options: EntraFakeOptions = {}): Promise<EntraFake> => new EntraFake(options).start();
