import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

type Json = Record<string, unknown>;

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** What the target says it supports in its ServiceProviderConfig, and then enforces. */
export interface StrictTargetOptions {
  token: string;
  /** PATCH supported; when not, every PATCH gets `patchRefusal`. */
  patch?: boolean;
  /** 405 (method not allowed) or 501 (not implemented): real targets answer either. */
  patchRefusal?: 405 | 501;
  /** Filtering supported; when not, any `filter` query parameter gets 400 `invalidFilter`. */
  filter?: boolean;
  /** The most resources one list response holds (`filter.maxResults`), whatever `count` asks. */
  maxResults?: number;
  /** The most member values one PATCH on a group may carry; more gets 400 `invalidValue`. */
  membersPerRequest?: number;
  /** userName unique (RFC 7643 section 4.1.1), compared without case: a clash is 409 `uniqueness`. */
  uniqueUserName?: boolean;
}

/** One request as the target received it, and what it answered. */
export interface TargetRequest {
  method: string;
  /** Path under the SCIM base with the query string, `/Users?filter=...`. */
  path: string;
  body: unknown;
  status: number;
  /** Date.now() when the request arrived. */
  at: number;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly scimType: string | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

const read = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Refusal(400, 'invalidSyntax', 'the body is not JSON');
  }
};

/** `attribute eq "value"`, the only filter this target understands (as many small apps). */
const parseEquality = (filter: string): { attribute: string; value: string } => {
  const match = /^\s*([A-Za-z][\w.]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  if (!match) throw new Refusal(400, 'invalidFilter', `only attribute eq "value" filters are supported, not ${filter}`);
  return { attribute: match[1] ?? '', value: JSON.parse(`"${match[2] ?? ''}"`) as string };
};

const valueAt = (resource: Json, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => {
    if (!value || typeof value !== 'object') return undefined;
    const found = Object.entries(value as Json).find(([name]) => name.toLowerCase() === key.toLowerCase());
    return found?.[1];
  }, resource);

const setAt = (resource: Json, path: string, value: unknown): void => {
  const keys = path.split('.');
  let node = resource;
  for (const key of keys.slice(0, -1)) {
    node[key] = typeof node[key] === 'object' && node[key] !== null ? { ...(node[key] as Json) } : {};
    node = node[key] as Json;
  }
  const last = keys[keys.length - 1] ?? path;
  if (value === undefined) delete node[last];
  else node[last] = value;
};

/**
 * A small SCIM 2.0 target, in process on a free 127.0.0.1 port, that does only what its
 * ServiceProviderConfig says and refuses the rest as real limited targets do: no PATCH, no
 * filter, short pages, a cap on members per request. It records every request with its arrival
 * time, so tests read what went over the wire and how fast.
 */
export const startStrictScimTarget = async (options: StrictTargetOptions) => {
  const settings = { patch: true, patchRefusal: 501 as 405 | 501, filter: true, maxResults: 200, uniqueUserName: true, ...options };
  const users = new Map<string, Json>();
  const groups = new Map<string, Json>();
  const requests: TargetRequest[] = [];

  const serviceProviderConfig = () => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: settings.patch },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: settings.filter, maxResults: settings.maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Bearer', description: 'A bearer token' }],
  });

  const list = (all: Json[], query: URLSearchParams) => {
    const filter = query.get('filter');
    if (filter !== null && !settings.filter) throw new Refusal(400, 'invalidFilter', 'filtering is not supported');
    const equality = filter === null ? undefined : parseEquality(filter);
    const matching = equality ? all.filter((r) => String(valueAt(r, equality.attribute) ?? '').toLowerCase() === equality.value.toLowerCase()) : all;
    const startIndex = Math.max(1, Number(query.get('startIndex') ?? 1) || 1);
    const count = Math.min(settings.maxResults, Math.max(0, Number(query.get('count') ?? settings.maxResults) || 0));
    const page = matching.slice(startIndex - 1, startIndex - 1 + count);
    return { schemas: [LIST_SCHEMA], totalResults: matching.length, startIndex, itemsPerPage: page.length, Resources: page };
  };

  const project = (resource: Json, query: URLSearchParams): Json => {
    const excluded = (query.get('excludedAttributes') ?? '').split(',').filter(Boolean);
    return Object.fromEntries(Object.entries(resource).filter(([name]) => !excluded.includes(name)));
  };

  const userNameTaken = (userName: unknown, exceptId?: string) =>
    settings.uniqueUserName && [...users.values()].some((u) => u.id !== exceptId && String(u.userName).toLowerCase() === String(userName).toLowerCase());

  const patchResource = (resource: Json, body: unknown, kind: 'Users' | 'Groups'): Json => {
    const operations = (body as { Operations?: Array<{ op: string; path?: string; value?: unknown }> })?.Operations;
    if (!Array.isArray(operations)) throw new Refusal(400, 'invalidSyntax', 'a PatchOp needs Operations');
    if (kind === 'Groups' && settings.membersPerRequest !== undefined) {
      const values = operations.reduce((sum, o) => sum + (o.path?.toLowerCase().startsWith('members') ? (Array.isArray(o.value) ? o.value.length : 1) : 0), 0);
      if (values > settings.membersPerRequest)
        throw new Refusal(400, 'invalidValue', `at most ${settings.membersPerRequest} members per request, got ${values}`);
    }
    const next: Json = structuredClone(resource);
    for (const operation of operations) {
      const op = operation.op.toLowerCase();
      const path = operation.path ?? '';
      const memberFilter = /^members\[value eq "([^"]+)"\]$/i.exec(path);
      if (kind === 'Groups' && memberFilter && op === 'remove') {
        next.members = ((next.members as Json[] | undefined) ?? []).filter((m) => m.value !== memberFilter[1]);
      } else if (kind === 'Groups' && path.toLowerCase() === 'members' && op === 'add') {
        const members = ((next.members as Json[] | undefined) ?? []).slice();
        for (const member of (operation.value as Json[]) ?? []) {
          if (!users.has(String(member.value))) throw new Refusal(400, 'invalidValue', `no user ${String(member.value)}`);
          if (!members.some((m) => m.value === member.value)) members.push({ value: member.value });
        }
        next.members = members;
      } else if (path && (op === 'replace' || op === 'add')) {
        setAt(next, path, operation.value);
      } else if (path && op === 'remove') {
        setAt(next, path, undefined);
      } else {
        throw new Refusal(400, 'invalidPath', `unsupported operation ${op} ${path}`);
      }
    }
    return next;
  };

  const handle = async (method: string, url: URL, body: unknown): Promise<{ status: number; body?: unknown }> => {
    const [, collection, id, extra] = url.pathname.replace(/^\/scim\/v2/, '').split('/');
    if (extra !== undefined) throw new Refusal(404, undefined, `no endpoint ${url.pathname}`);
    if (collection === 'ServiceProviderConfig' && method === 'GET') return { status: 200, body: serviceProviderConfig() };
    if (method === 'PATCH' && !settings.patch) throw new Refusal(settings.patchRefusal, undefined, 'PATCH is not supported');
    const store = collection === 'Users' ? users : collection === 'Groups' ? groups : undefined;
    if (!store) throw new Refusal(404, undefined, `no endpoint ${url.pathname}`);
    if (id === undefined) {
      if (method === 'GET') {
        const page = list([...store.values()], url.searchParams);
        return { status: 200, body: { ...page, Resources: page.Resources.map((r) => project(r, url.searchParams)) } };
      }
      if (method !== 'POST') throw new Refusal(405, undefined, `${method} ${url.pathname} is not allowed`);
      const input = (body ?? {}) as Json;
      if (collection === 'Users') {
        if (typeof input.userName !== 'string' || !input.userName) throw new Refusal(400, 'invalidValue', 'userName is required');
        if (userNameTaken(input.userName)) throw new Refusal(409, 'uniqueness', `userName ${input.userName} is taken`);
      } else if (typeof input.displayName !== 'string' || !input.displayName) {
        throw new Refusal(400, 'invalidValue', 'displayName is required');
      }
      const created: Json = {
        ...input,
        schemas: [collection === 'Users' ? USER_SCHEMA : GROUP_SCHEMA],
        id: randomUUID(),
        meta: { resourceType: collection === 'Users' ? 'User' : 'Group' },
      };
      if (collection === 'Groups') created.members = [];
      store.set(String(created.id), created);
      return { status: 201, body: created };
    }
    const current = store.get(id);
    if (!current) throw new Refusal(404, undefined, `${collection} ${id} not found`);
    if (method === 'GET') return { status: 200, body: project(current, url.searchParams) };
    if (method === 'DELETE') {
      store.delete(id);
      return { status: 204 };
    }
    if (method === 'PUT') {
      const input = (body ?? {}) as Json;
      if (collection === 'Users' && userNameTaken(input.userName, id)) throw new Refusal(409, 'uniqueness', `userName ${String(input.userName)} is taken`);
      const replaced = { ...input, id, schemas: current.schemas, meta: current.meta };
      store.set(id, replaced);
      return { status: 200, body: replaced };
    }
    if (method === 'PATCH') {
      const patched = patchResource(current, body, collection as 'Users' | 'Groups');
      store.set(id, patched);
      return { status: 200, body: patched };
    }
    throw new Refusal(405, undefined, `${method} ${url.pathname} is not allowed`);
  };

  const respond = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/scim+json' });
    response.end(body === undefined ? undefined : JSON.stringify(body));
  };

  const server: Server = createServer((request, response) => {
    const at = Date.now();
    const method = request.method ?? 'GET';
    const path = (request.url ?? '/').replace(/^\/scim\/v2/, '');
    void (async () => {
      let body: unknown;
      let answer: { status: number; body?: unknown };
      try {
        body = await read(request);
        if (request.headers.authorization !== `Bearer ${settings.token}`) throw new Refusal(401, undefined, 'a valid bearer token is required');
        answer = await handle(method, new URL(request.url ?? '/', 'http://target'), body);
      } catch (error) {
        const refusal = error instanceof Refusal ? error : new Refusal(500, undefined, String(error));
        answer = {
          status: refusal.status,
          body: {
            schemas: [ERROR_SCHEMA],
            status: String(refusal.status),
            ...(refusal.scimType ? { scimType: refusal.scimType } : {}),
            detail: refusal.message,
          },
        };
      }
      requests.push({ method, path, body, status: answer.status, at });
      respond(response, answer.status, answer.body);
    })();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/scim/v2`,
    requests,
    users: () => [...users.values()],
    groups: () => [...groups.values()],
    /** Requests other than the ServiceProviderConfig reads. */
    calls: () => requests.filter((r) => r.path !== '/ServiceProviderConfig'),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
};

export type StrictScimTarget = Awaited<ReturnType<typeof startStrictScimTarget>>;
