import { type KeyObject, randomBytes, randomUUID, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * A fake Okta org that holds the contract of ../shared/contracts (README section 1 and Okta's own
 * `okta.openapi.json`): every request body is validated against the operation's schema in that
 * file, users move through Okta's lifecycle state machine with its preconditions and error
 * codes, logins are unique, lists page only through `Link: <...after=...>; rel="next"`, each
 * endpoint family has its per-minute bucket with `X-Rate-Limit-*` on every response and 429
 * E0000047 (no Retry-After) beyond it, requests over the concurrent limit get 429 too, and a
 * missing or expired credential gets 401 E0000011. It also serves the org authorization
 * server's token endpoint for service apps (client credentials with private_key_jwt).
 */

type Json = Record<string, unknown>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Okta's own description of the API, beside the checkout. */
export const OKTA_CONTRACT_PATH = resolve(import.meta.dirname, '../../../../shared/contracts/okta.openapi.json');
export const oktaContractPresent = existsSync(OKTA_CONTRACT_PATH);
export const OKTA_CONTRACT_MISSING = `../shared/contracts/okta.openapi.json is absent beside the checkout (${OKTA_CONTRACT_PATH}): the Okta fake cannot enforce Okta's contract, so its tests are skipped`;

/** The families of Okta's management rate limits page. */
export type FakeBucket = 'users' | 'user' | 'groups' | 'group' | 'other';

/** The Enterprise column of Okta's management rate limits, per minute; the concurrent limit is 75 per org. */
export const OKTA_ENTERPRISE_LIMITS: Record<FakeBucket, number> = { users: 600, user: 600, groups: 600, group: 600, other: 600 };
export const OKTA_CONCURRENT_LIMIT = 75;

export interface ServiceApp {
  clientId: string;
  publicKey: KeyObject;
  /** The scopes granted to the app; requests for others are refused. */
  scopes?: string[];
}

export interface OktaFakeOptions {
  /** The API token accepted as `Authorization: SSWS <token>`. */
  apiToken?: string;
  serviceApps?: ServiceApp[];
  /** Requests per window and bucket (default: Okta's Enterprise limits). */
  limits?: Partial<Record<FakeBucket, number>>;
  concurrentLimit?: number;
  /** The rate-limit window (Okta's is a minute); a benchmark may shorten it. */
  windowMs?: number;
  /** The fake's clock (epoch ms): tests share one with the connector. */
  now?: () => number;
  accessTokenLifetimeSeconds?: number;
  /**
   * `search` reads an eventually consistent store: a user created or updated less than this
   * long ago is not found by it yet (reads by id or login, `filter` and plain lists are
   * current). Default 0.
   */
  searchLagMs?: number;
}

export interface FakeRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  bucket: FakeBucket | 'token';
  status: number;
  body: unknown;
  at: number;
}

export interface FakeUser {
  id: string;
  status: string;
  transitioningToStatus: string | null;
  created: string;
  activated: string | null;
  statusChanged: string | null;
  lastUpdated: string;
  profile: Json;
}

export interface FakeGroup {
  id: string;
  type: 'OKTA_GROUP' | 'APP_GROUP' | 'BUILT_IN';
  profile: Json;
  created: string;
  lastUpdated: string;
  lastMembershipUpdated: string;
  members: Set<string>;
}

class OktaFailure extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly errorSummary: string,
    readonly causes: string[] = [],
  ) {
    super(errorSummary);
  }
}

const notFound = (what: string) => new OktaFailure(404, 'E0000007', `Not found: Resource not found: ${what} (${what.split(' ')[0]})`);
const validation = (field: string, causes: string[]) => new OktaFailure(400, 'E0000001', `Api validation failed: ${field}`, causes);

interface Answer {
  status: number;
  body?: unknown;
  /** Applied once the answer is sent (Okta's asynchronous activation). */
  after?: () => void;
}

/** OpenAPI 3.0 `nullable: true` in JSON Schema terms, for Ajv. */
const withNullable = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(withNullable);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) out[key] = withNullable(value);
  if (out.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
};

/** Ajv validators of the description's request bodies and response schemas, compiled once per process. */
let compiled: ReturnType<typeof compileValidators> | undefined;
const contractValidators = () => {
  compiled ??= compileValidators();
  return compiled;
};

const compileValidators = () => {
  const spec = withNullable(JSON.parse(readFileSync(OKTA_CONTRACT_PATH, 'utf8'))) as Json;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('password', true);
  ajv.addSchema(spec, 'okta');
  const paths = spec.paths as Record<string, Record<string, Json>>;
  const requestBody = (path: string, method: string): ValidateFunction => {
    const operation = paths[path]?.[method];
    if (!operation) throw new Error(`okta.openapi.json has no ${method.toUpperCase()} ${path}`);
    const pointer = `#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/requestBody/content/application~1json/schema`;
    return ajv.getSchema(`okta${pointer}`) ?? ajv.compile({ $ref: `okta${pointer}` });
  };
  return {
    createUser: requestBody('/api/v1/users', 'post'),
    updateUser: requestBody('/api/v1/users/{id}', 'post'),
    replaceUser: requestBody('/api/v1/users/{id}', 'put'),
    addGroup: requestBody('/api/v1/groups', 'post'),
    replaceGroup: requestBody('/api/v1/groups/{groupId}', 'put'),
    /** Response schemas, for the fake's own test. */
    schema: (name: string): ValidateFunction => ajv.getSchema(`okta#/components/schemas/${name}`) as ValidateFunction,
  };
};

const causesOf = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((error) => `${error.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'body'}: ${error.message ?? 'is invalid'}`);

/** A condition of Okta's `search` and `filter` expressions: `profile.login eq "x"`, `status pr`, joined by `and` / `or`. */
type Condition = { attribute: string; op: string; value?: string };

const TOKEN = /\s*("(?:[^"\\]|\\.)*"|[^\s"]+)/g;

/** Or-of-ands: `a and b or c` is `(a and b) or c`. Parentheses are not supported by this fake. */
const parseExpression = (text: string): Condition[][] => {
  const tokens = [...text.matchAll(TOKEN)].map((m) => m[1] as string);
  const any: Condition[][] = [[]];
  for (let i = 0; i < tokens.length; ) {
    const attribute = tokens[i++] as string;
    const op = (tokens[i++] ?? '').toLowerCase();
    if (!['eq', 'sw', 'gt', 'ge', 'lt', 'le', 'pr'].includes(op))
      throw new OktaFailure(400, 'E0000031', 'Invalid search criteria.', [`unsupported operator "${op}"`]);
    const condition: Condition = { attribute, op };
    if (op !== 'pr') {
      const raw = tokens[i++] ?? '';
      if (!raw.startsWith('"')) throw new OktaFailure(400, 'E0000031', 'Invalid search criteria.', [`"${raw}" is not a quoted value`]);
      condition.value = JSON.parse(raw) as string;
    }
    any[any.length - 1]?.push(condition);
    const joiner = tokens[i]?.toLowerCase();
    if (joiner === undefined) break;
    if (joiner === 'or') any.push([]);
    else if (joiner !== 'and') throw new OktaFailure(400, 'E0000031', 'Invalid search criteria.', [`unexpected "${tokens[i]}"`]);
    i++;
  }
  return any;
};

const valueAt = (resource: Json, attribute: string): unknown => {
  let value: unknown = resource;
  for (const part of attribute.split('.')) value = value && typeof value === 'object' ? (value as Json)[part] : undefined;
  return value;
};

const matches = (resource: Json, expression: Condition[][], caseInsensitive: boolean): boolean =>
  expression.some((all) =>
    all.every(({ attribute, op, value }) => {
      const actual = valueAt(resource, attribute);
      if (op === 'pr') return actual !== undefined && actual !== null && actual !== '';
      if (actual === undefined || actual === null) return false;
      const [a, b] = caseInsensitive ? [String(actual).toLowerCase(), String(value).toLowerCase()] : [String(actual), String(value)];
      if (op === 'eq') return a === b;
      if (op === 'sw') return a.startsWith(b);
      if (op === 'gt') return a > b;
      if (op === 'ge') return a >= b;
      if (op === 'lt') return a < b;
      return a <= b;
    }),
  );

/** `filter` accepts only these properties (listUsers and listGroups parameter descriptions), with `eq`, and ranges on the timestamps. */
const USER_FILTERABLE = new Set(['status', 'lastUpdated', 'id', 'profile.login', 'profile.email', 'profile.firstName', 'profile.lastName']);
const GROUP_FILTERABLE = new Set(['id', 'type', 'lastUpdated', 'lastMembershipUpdated']);

const checkFilter = (expression: Condition[][], allowed: Set<string>) => {
  for (const condition of expression.flat()) {
    if (!allowed.has(condition.attribute)) throw new OktaFailure(400, 'E0000031', 'Invalid search criteria.', [`cannot filter on ${condition.attribute}`]);
    const ranged = condition.attribute === 'lastUpdated' || condition.attribute === 'lastMembershipUpdated';
    if (condition.op !== 'eq' && !(ranged && ['gt', 'ge', 'lt', 'le'].includes(condition.op)))
      throw new OktaFailure(400, 'E0000031', 'Invalid search criteria.', [`filter does not support ${condition.op} on ${condition.attribute}`]);
  }
};

/** Which family of the rate limits page a request counts against. */
const bucketOf = (method: string, path: string): FakeBucket => {
  if (/^\/api\/v1\/users\/?$/.test(path)) return 'users';
  if (/^\/api\/v1\/users\/[^/]+\/?$/.test(path)) return method === 'GET' ? 'other' : 'user';
  if (/^\/api\/v1\/groups\/?$/.test(path)) return 'groups';
  if (/^\/api\/v1\/groups\/[^/]+\/?$/.test(path)) return 'group';
  return 'other';
};

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const base64urlJson = (part: string | undefined): Json => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Json;

export const startOktaFake = async (options: OktaFakeOptions = {}) => {
  if (!oktaContractPresent) throw new Error(OKTA_CONTRACT_MISSING);
  const validators = contractValidators();
  const now = options.now ?? Date.now;
  const windowMs = options.windowMs ?? 60_000;
  const limits: Record<FakeBucket, number> = { ...OKTA_ENTERPRISE_LIMITS, ...options.limits };
  const concurrentLimit = options.concurrentLimit ?? OKTA_CONCURRENT_LIMIT;
  const users = new Map<string, FakeUser>();
  const groups = new Map<string, FakeGroup>();
  const accessTokens = new Map<string, { expiresAt: number; scopes: Set<string> }>();
  const windows = new Map<FakeBucket, { start: number; used: number }>();
  const requests: FakeRequest[] = [];
  const emails: Array<{ userId: string; kind: 'activation' }> = [];
  let sequence = 0;
  let inFlight = 0;
  let gate: Promise<void> | undefined;
  let origin = '';

  const iso = () => new Date(now()).toISOString();
  const nextId = (prefix: string) => `${prefix}${(++sequence).toString(36).padStart(17, '0')}`;
  const loginTaken = (login: unknown, except?: string) =>
    typeof login === 'string' && [...users.values()].some((u) => u.id !== except && String(u.profile.login).toLowerCase() === login.toLowerCase());

  const userJson = (user: FakeUser): Json => ({
    id: user.id,
    status: user.status,
    created: user.created,
    activated: user.activated,
    statusChanged: user.statusChanged,
    lastLogin: null,
    lastUpdated: user.lastUpdated,
    passwordChanged: null,
    type: { id: 'oty1fakedefaultusertype' },
    profile: structuredClone(user.profile),
    credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
    ...(user.transitioningToStatus ? { transitioningToStatus: user.transitioningToStatus } : {}),
    _links: { self: { href: `${origin}/api/v1/users/${user.id}` } },
  });
  const groupJson = (group: FakeGroup): Json => ({
    id: group.id,
    created: group.created,
    lastUpdated: group.lastUpdated,
    lastMembershipUpdated: group.lastMembershipUpdated,
    objectClass: ['okta:user_group'],
    type: group.type,
    profile: structuredClone(group.profile),
    _links: { self: { href: `${origin}/api/v1/groups/${group.id}` } },
  });

  /** A user by id, by login, or by the login's short name (the part before `@`) when only one user has it, as the path parameter accepts. */
  const userOf = (idOrLogin: string): FakeUser => {
    const wanted = idOrLogin.toLowerCase();
    const all = [...users.values()];
    const shortNamed = all.filter((u) => String(u.profile.login).toLowerCase().split('@')[0] === wanted);
    const user =
      users.get(idOrLogin) ?? all.find((u) => String(u.profile.login).toLowerCase() === wanted) ?? (shortNamed.length === 1 ? shortNamed[0] : undefined);
    if (!user) throw notFound(`User ${idOrLogin}`);
    return user;
  };
  const groupOf = (id: string): FakeGroup => {
    const group = groups.get(id);
    if (!group) throw notFound(`UserGroup ${id}`);
    return group;
  };
  const changeable = (group: FakeGroup) => {
    // Only OKTA_GROUP groups take profile and membership changes; APP_GROUP groups are managed by app imports.
    if (group.type !== 'OKTA_GROUP') throw new OktaFailure(403, 'E0000006', 'You do not have permission to perform the requested action');
  };
  const setStatus = (user: FakeUser, status: string) => {
    user.status = status;
    user.transitioningToStatus = null;
    user.statusChanged = iso();
    user.lastUpdated = iso();
    if (status === 'ACTIVE' && !user.activated) user.activated = iso();
  };
  const validate = (check: ValidateFunction, body: unknown, field: string) => {
    if (!check(body)) throw validation(field, causesOf(check.errors));
  };

  /** One page of `items` after the `after` cursor, with the `Link` header Okta pages by. */
  const page = <T extends { id: string }>(url: URL, items: T[], defaultLimit: number, maxLimit: number, pageable: boolean) => {
    const raw = url.searchParams.get('limit');
    const limit = raw === null ? defaultLimit : Number(raw);
    if (!Number.isInteger(limit) || limit < 1) throw validation('limit', ['limit: must be a positive integer']);
    const size = Math.min(limit, maxLimit);
    const after = url.searchParams.get('after');
    const start = after ? items.findIndex((item) => item.id > after) : 0;
    const slice = start < 0 ? [] : items.slice(start, start + size);
    const links = [`<${origin}${url.pathname}${url.search}>; rel="self"`];
    const last = slice[slice.length - 1];
    if (pageable && last && start + size < items.length) {
      const next = new URL(url.toString());
      next.searchParams.set('after', last.id);
      links.push(`<${origin}${next.pathname}${next.search}>; rel="next"`);
    }
    return { slice, link: links.join(', ') };
  };

  const listUsers = (url: URL): Answer & { link: string } => {
    const search = url.searchParams.get('search');
    const filter = url.searchParams.get('filter');
    const q = url.searchParams.get('q');
    let found = [...users.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    if (search) {
      const expression = parseExpression(search);
      if (expression.flat().some((c) => c.op === 'ne')) throw new OktaFailure(400, 'E0000031', 'Invalid search criteria.');
      const indexedBefore = now() - (options.searchLagMs ?? 0);
      found = found.filter((u) => Date.parse(u.lastUpdated) <= indexedBefore && matches(userJson(u), expression, true));
    } else if (filter) {
      const expression = parseExpression(filter);
      checkFilter(expression, USER_FILTERABLE);
      found = found.filter((u) => matches(userJson(u), expression, false));
    } else {
      // Without filter or search, DEPROVISIONED users are left out.
      found = found.filter((u) => u.status !== 'DEPROVISIONED');
      if (q) {
        const prefix = q.toLowerCase();
        found = found.filter((u) =>
          ['firstName', 'lastName', 'email'].some((name) =>
            String(u.profile[name] ?? '')
              .toLowerCase()
              .startsWith(prefix),
          ),
        );
      }
    }
    // With q the default page is 10 and there is no paging; users pages hold at most 200.
    const { slice, link } = page(url, found, q ? 10 : 200, 200, !q);
    return { status: 200, body: slice.map(userJson), link };
  };

  const listGroups = (url: URL): Answer & { link: string } => {
    const search = url.searchParams.get('search');
    const filter = url.searchParams.get('filter');
    const q = url.searchParams.get('q');
    let found = [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    if (search) found = found.filter((g) => matches(groupJson(g), parseExpression(search), true));
    else if (filter) {
      const expression = parseExpression(filter);
      checkFilter(expression, GROUP_FILTERABLE);
      found = found.filter((g) => matches(groupJson(g), expression, false));
    } else if (q) found = found.filter((g) => String(g.profile.name).toLowerCase().startsWith(q.toLowerCase()));
    const max = 10_000;
    if (Number(url.searchParams.get('limit') ?? 0) > max) throw validation('limit', [`limit: must be at most ${max}`]);
    const { slice, link } = page(url, found, q ? 300 : max, max, !q);
    return { status: 200, body: slice.map(groupJson), link };
  };

  const createUser = (url: URL, body: unknown): Answer => {
    validate(validators.createUser, body, 'profile');
    const request = body as { profile: Json };
    const activate = url.searchParams.get('activate') !== 'false';
    if (url.searchParams.get('nextLogin') && !activate)
      throw new OktaFailure(400, 'E0000125', 'Creating a user with nextLogin=changePassword requires activate=true.');
    if (typeof request.profile.login !== 'string') throw validation('login', ['login: The field cannot be left blank']);
    if (loginTaken(request.profile.login)) throw validation('login', ['login: An object with this field already exists in the current organization']);
    const user: FakeUser = {
      id: nextId('00u'),
      status: 'STAGED',
      transitioningToStatus: activate ? 'ACTIVE' : null,
      created: iso(),
      activated: null,
      statusChanged: null,
      lastUpdated: iso(),
      profile: structuredClone(request.profile),
    };
    users.set(user.id, user);
    if (activate) emails.push({ userId: user.id, kind: 'activation' });
    // Activation is asynchronous: the answer shows the user transitioning to ACTIVE.
    return { status: 200, body: userJson(user), ...(activate ? { after: () => setStatus(user, 'ACTIVE') } : {}) };
  };

  const updateUser = (id: string, body: unknown, replace: boolean): Answer => {
    validate(replace ? validators.replaceUser : validators.updateUser, body, 'profile');
    const user = userOf(id);
    const profile = (body as { profile?: Json }).profile ?? {};
    const next: Json = replace ? {} : { ...user.profile };
    for (const [name, value] of Object.entries(profile)) {
      if (value === null) delete next[name];
      else next[name] = value;
    }
    if (typeof next.login !== 'string') throw validation('login', ['login: The field cannot be left blank']);
    if (loginTaken(next.login, user.id)) throw validation('login', ['login: An object with this field already exists in the current organization']);
    user.profile = next;
    user.lastUpdated = iso();
    return { status: 200, body: userJson(user) };
  };

  /** Okta's lifecycle preconditions: 403 where the operation documents 403 only, 400 for suspend and unsuspend. */
  const lifecycle = (id: string, operation: string, url: URL): Answer => {
    const user = userOf(id);
    const disallowed = () => new OktaFailure(403, 'E0000038', "This operation is not allowed in the user's current status.");
    const sendEmail = url.searchParams.get('sendEmail') !== 'false';
    switch (operation) {
      case 'activate': {
        if (user.status !== 'STAGED' && user.status !== 'DEPROVISIONED')
          throw new OktaFailure(403, 'E0000016', 'Activation failed because the user is already active');
        setStatus(user, 'ACTIVE');
        if (sendEmail) {
          emails.push({ userId: user.id, kind: 'activation' });
          return { status: 200, body: {} };
        }
        const token = randomBytes(10).toString('base64url');
        return { status: 200, body: { activationToken: token, activationUrl: `${origin}/welcome/${token}` } };
      }
      case 'deactivate':
        if (user.status === 'DEPROVISIONED') throw disallowed();
        setStatus(user, 'DEPROVISIONED');
        return { status: 200, body: {} };
      case 'reactivate':
        if (user.status !== 'PROVISIONED' && user.status !== 'RECOVERY') throw disallowed();
        setStatus(user, 'PROVISIONED');
        if (sendEmail) emails.push({ userId: user.id, kind: 'activation' });
        return { status: 200, body: {} };
      case 'suspend':
        if (user.status !== 'ACTIVE') throw validation('status', ['Cannot suspend a user that is not active']);
        setStatus(user, 'SUSPENDED');
        return { status: 200, body: {} };
      case 'unsuspend':
        if (user.status !== 'SUSPENDED') throw validation('status', ['Cannot unsuspend a user that is not suspended']);
        setStatus(user, 'ACTIVE');
        return { status: 200, body: {} };
      case 'unlock':
        if (user.status !== 'LOCKED_OUT') throw disallowed();
        setStatus(user, 'ACTIVE');
        return { status: 200, body: {} };
      default:
        throw notFound(`lifecycle operation ${operation}`);
    }
  };

  const saveGroup = (body: unknown, check: ValidateFunction, existing?: FakeGroup): Answer => {
    validate(check, body, 'profile');
    const profile = (body as { profile?: Json }).profile ?? {};
    if (typeof profile.name !== 'string' || profile.name === '') throw validation('name', ['name: The field cannot be left blank']);
    const clash = [...groups.values()].some(
      (g) => g.id !== existing?.id && g.type === 'OKTA_GROUP' && String(g.profile.name).toLowerCase() === String(profile.name).toLowerCase(),
    );
    if (clash) throw validation('name', ['name: An object with this field already exists in the current organization']);
    if (existing) {
      changeable(existing);
      existing.profile = structuredClone(profile);
      existing.lastUpdated = iso();
      return { status: 200, body: groupJson(existing) };
    }
    const group: FakeGroup = {
      id: nextId('00g'),
      type: 'OKTA_GROUP',
      profile: structuredClone(profile),
      created: iso(),
      lastUpdated: iso(),
      lastMembershipUpdated: iso(),
      members: new Set(),
    };
    groups.set(group.id, group);
    return { status: 200, body: groupJson(group) };
  };

  const route = (method: string, url: URL, body: unknown, headers: IncomingMessage['headers']): Answer & { link?: string } => {
    const parts = url.pathname.replace(/\/+$/, '').split('/').slice(3).map(decodeURIComponent);
    const [collection, id, sub, subId] = parts;
    if (collection === 'users') {
      if (id === undefined) {
        if (method === 'GET') return listUsers(url);
        if (method === 'POST') return createUser(url, body);
      } else if (sub === undefined) {
        if (method === 'GET') return { status: 200, body: userJson(userOf(id)) };
        if (method === 'POST' || method === 'PUT') return updateUser(id, body, method === 'PUT');
        if (method === 'DELETE') {
          // `Prefer: respond-async` is accepted; the fake completes at once either way.
          void headers.prefer;
          const user = userOf(id);
          if (user.status !== 'DEPROVISIONED') {
            setStatus(user, 'DEPROVISIONED');
            return { status: 204 };
          }
          users.delete(user.id);
          for (const group of groups.values()) group.members.delete(user.id);
          return { status: 204 };
        }
      } else if (sub === 'groups' && method === 'GET') {
        const user = userOf(id);
        return { status: 200, body: [...groups.values()].filter((g) => g.members.has(user.id)).map(groupJson) };
      } else if (sub === 'lifecycle' && subId && method === 'POST') return lifecycle(id, subId, url);
    }
    if (collection === 'groups') {
      if (id === undefined) {
        if (method === 'GET') return listGroups(url);
        if (method === 'POST') return saveGroup(body, validators.addGroup);
      } else if (sub === undefined) {
        const group = groupOf(id);
        if (method === 'GET') return { status: 200, body: groupJson(group) };
        if (method === 'PUT') return saveGroup(body, validators.replaceGroup, group);
        if (method === 'DELETE') {
          changeable(group);
          groups.delete(group.id);
          return { status: 204 };
        }
      } else if (sub === 'users') {
        const group = groupOf(id);
        if (subId === undefined && method === 'GET') {
          const members = [...group.members].sort().map((userId) => users.get(userId) as FakeUser);
          const { slice, link } = page(url, members, 1000, 10_000, true);
          return { status: 200, body: slice.map(userJson), link };
        }
        if (subId !== undefined && (method === 'PUT' || method === 'DELETE')) {
          changeable(group);
          const user = userOf(subId);
          if (method === 'PUT') group.members.add(user.id);
          else group.members.delete(user.id);
          group.lastMembershipUpdated = iso();
          return { status: 204 };
        }
      }
    }
    throw notFound(`${method} ${url.pathname}`);
  };

  /** The org authorization server's token endpoint: client credentials with a private_key_jwt client assertion. */
  const token = (text: string): Answer => {
    const form = new URLSearchParams(text);
    const refuse = (error: string, description: string): Answer => ({
      status: error === 'invalid_scope' ? 400 : 401,
      body: { error, error_description: description },
    });
    if (form.get('grant_type') !== 'client_credentials')
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'client_credentials only' } };
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return refuse('invalid_client', 'client_assertion_type must be jwt-bearer');
    const [header, payload, signature] = (form.get('client_assertion') ?? '').split('.');
    let claims: Json;
    let alg: unknown;
    try {
      alg = base64urlJson(header).alg;
      claims = base64urlJson(payload);
    } catch {
      return refuse('invalid_client', 'The client_assertion is not a JWT.');
    }
    const app = options.serviceApps?.find((a) => a.clientId === claims.iss);
    if (!app || claims.sub !== app.clientId) return refuse('invalid_client', 'The client_assertion names no known client.');
    const key = alg === 'ES256' ? { key: app.publicKey, dsaEncoding: 'ieee-p1363' as const } : app.publicKey;
    if (!verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature ?? '', 'base64url')))
      return refuse('invalid_client', 'The client_assertion signature is invalid.');
    if (claims.aud !== `${origin}/oauth2/v1/token`) return refuse('invalid_client', 'The audience of the client_assertion is not this token endpoint.');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now()) return refuse('invalid_client', 'The client_assertion has expired.');
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const granted = new Set(app.scopes ?? ['okta.users.manage', 'okta.groups.manage']);
    if (requested.length === 0 || requested.some((s) => !granted.has(s)))
      return refuse('invalid_scope', 'The requested scope is invalid, unknown, or malformed.');
    const lifetime = options.accessTokenLifetimeSeconds ?? 3600;
    const accessToken = randomBytes(24).toString('base64url');
    accessTokens.set(accessToken, { expiresAt: now() + lifetime * 1000, scopes: new Set(requested) });
    return { status: 200, body: { token_type: 'Bearer', expires_in: lifetime, access_token: accessToken, scope: requested.join(' ') } };
  };

  /** 401 E0000011 unless the request carries the API token or a live access token with the scope its path needs. */
  const authenticate = (authorization: string | undefined, path: string) => {
    const invalid = new OktaFailure(401, 'E0000011', 'Invalid token provided');
    if (options.apiToken && authorization === `SSWS ${options.apiToken}`) return;
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const access = bearer ? accessTokens.get(bearer) : undefined;
    if (!access || access.expiresAt <= now()) throw invalid;
    const needed = path.startsWith('/api/v1/groups') ? 'okta.groups.manage' : 'okta.users.manage';
    if (!access.scopes.has(needed)) throw new OktaFailure(403, 'E0000006', 'You do not have permission to perform the requested action');
  };

  /** The bucket's window on the fake's clock, counting this request. */
  const meter = (bucket: FakeBucket) => {
    const start = Math.floor(now() / windowMs) * windowMs;
    let window = windows.get(bucket);
    if (!window || window.start !== start) {
      window = { start, used: 0 };
      windows.set(bucket, window);
    }
    window.used++;
    const limit = limits[bucket];
    return {
      over: window.used > limit,
      headers: {
        'x-rate-limit-limit': String(limit),
        'x-rate-limit-remaining': String(Math.max(0, limit - window.used)),
        'x-rate-limit-reset': String(Math.ceil((start + windowMs) / 1000)),
      },
    };
  };

  const send = (response: ServerResponse, answer: Answer, headers: Record<string, string>) => {
    const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
    response.writeHead(answer.status, {
      date: new Date(now()).toUTCString(),
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    });
    response.end(body);
  };

  const failure = (error: OktaFailure): Answer => ({
    status: error.status,
    body: {
      errorCode: error.errorCode,
      errorSummary: error.errorSummary,
      errorLink: error.errorCode,
      errorId: `oae${randomUUID().replace(/-/g, '').slice(0, 19)}`,
      errorCauses: error.causes.map((errorSummary) => ({ errorSummary })),
    },
  });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', origin);
    const text = await readBody(request);
    const record = (bucket: FakeRequest['bucket'], status: number, body: unknown) =>
      requests.push({ method, path: `${url.pathname}${url.search}`, bucket, status, body, at: now() });
    if (url.pathname === '/oauth2/v1/token' && method === 'POST') {
      const answer = token(text);
      record('token', answer.status, Object.fromEntries(new URLSearchParams(text)));
      send(response, answer, {});
      return;
    }
    const bucket = bucketOf(method, url.pathname);
    let body: unknown;
    let headers: Record<string, string> = {};
    inFlight++;
    try {
      let answer: Answer & { link?: string };
      try {
        if (!url.pathname.startsWith('/api/v1/')) throw notFound(url.pathname);
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          throw new OktaFailure(400, 'E0000003', 'The request body was not well-formed.');
        }
        authenticate(request.headers.authorization, url.pathname);
        if (inFlight > concurrentLimit) {
          // Over the concurrent limit the headers report the concurrent values; the reset is an estimate.
          headers = { 'x-rate-limit-limit': String(concurrentLimit), 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.ceil(now() / 1000) + 1) };
          throw new OktaFailure(429, 'E0000047', 'API call exceeded rate limit due to too many requests.');
        }
        const metered = meter(bucket);
        headers = metered.headers;
        if (metered.over) throw new OktaFailure(429, 'E0000047', 'API call exceeded rate limit due to too many requests.');
        if (gate) await gate;
        answer = route(method, url, body, request.headers);
      } catch (error) {
        if (!(error instanceof OktaFailure)) throw error;
        answer = failure(error);
      }
      record(bucket, answer.status, body);
      send(response, answer, { ...headers, ...(answer.link ? { link: answer.link } : {}) });
      answer.after?.();
    } finally {
      inFlight--;
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errorCode: 'E0000009', errorSummary: `Internal Server Error: ${(error as Error).message}`, errorCauses: [] }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    requests,
    /** Activation emails Okta would have sent. */
    emails,
    user: (id: string): FakeUser | undefined => users.get(id),
    users: (): FakeUser[] => [...users.values()],
    group: (id: string): FakeGroup | undefined => groups.get(id),
    groups: (): FakeGroup[] => [...groups.values()],
    /** A group the hub did not make: an APP_GROUP imported by an app, or an existing OKTA_GROUP to map to. */
    seedGroup: (name: string, type: FakeGroup['type'] = 'OKTA_GROUP'): FakeGroup => {
      const group: FakeGroup = {
        id: nextId('00g'),
        type,
        profile: { name },
        created: iso(),
        lastUpdated: iso(),
        lastMembershipUpdated: iso(),
        members: new Set(),
      };
      groups.set(group.id, group);
      return group;
    },
    /** A user made outside the hub, ACTIVE (a large group's members, an account to match). */
    seedUser: (login: string): FakeUser => {
      const user: FakeUser = {
        id: nextId('00u'),
        status: 'ACTIVE',
        transitioningToStatus: null,
        created: iso(),
        activated: iso(),
        statusChanged: iso(),
        lastUpdated: iso(),
        profile: { login, email: login, firstName: 'Seeded', lastName: 'User' },
      };
      users.set(user.id, user);
      return user;
    },
    /** Puts a user in a status only Okta itself reaches (LOCKED_OUT after failed sign-ins, RECOVERY, PROVISIONED). */
    setStatus: (id: string, status: string) => setStatus(userOf(id), status),
    /** Every access token issued so far stops working, as when they expire early or are revoked. */
    revokeAccessTokens: () => accessTokens.clear(),
    /** Requests that pass authentication and metering wait here until the returned release is called. */
    hold: (): (() => void) => {
      let release = () => {};
      gate = new Promise<void>((done) => {
        release = () => {
          gate = undefined;
          done();
        };
      });
      return release;
    },
    inFlight: () => inFlight,
    /** The response schemas of the description, to check what the fake answers. */
    schema: validators.schema,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
};

export type OktaFake = Awaited<ReturnType<typeof startOktaFake>>;
