import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

type Json = Record<string, unknown>;

/** One request as it reached the SCIM server: the body as sent (copied before SCIMMY touches it) and the status it got. */
export interface ScimmyRequest {
  method: string;
  /** Path under the SCIM base, with the query string: `/Groups/<id>`, `/Users?filter=...`. */
  path: string;
  body: unknown;
  /** The status SCIMMY answered with; undefined while the request is in flight. */
  status?: number;
}

/**
 * What SCIMMY hands the handlers. Its own declarations type each handler's return value as the
 * schema class instance; this store returns plain JSON, which is what SCIMMY coerces at run time.
 */
interface HandlerResource {
  id?: string;
  /** SCIMMY's parsed filter: its alternatives (`or`), each mapping attribute names to expressions (`and`). */
  filter?: Json[] & { match(values: Json[]): Json[] };
}
interface Declarable {
  ingress(handler: (resource: HandlerResource, instance: Json) => Promise<Json>): Declarable;
  egress(handler: (resource: HandlerResource) => Promise<Json | Json[]>): Declarable;
  degress(handler: (resource: HandlerResource) => Promise<void>): Declarable;
}
const resources = SCIMMY.Resources as unknown as { User: Declarable; Group: Declarable; declare(resource: Declarable): unknown };

/** SCIMMY's own error type: its routers render it as an RFC 7644 section 3.12 error with this status. */
const notFound = (kind: string, id: string | undefined) => new SCIMMY.Types.Error(404, null as unknown as string, `${kind} ${id} not found`);

let running = false;

/**
 * What a store's index does for `attribute eq "value"`: the candidates for SCIMMY's own filter,
 * so that finding one account among a thousand does not cost SCIMMY's full evaluation of each.
 * It keeps every resource SCIMMY's `eq` could match (SCIMMY compares strings exactly, finds
 * the attribute whatever its case, and coerces nothing but booleans); SCIMMY's `match` decides.
 */
const candidatesFor = (filter: Json[], all: Json[]): Json[] => {
  if (filter.length !== 1) return all;
  for (const [attribute, expression] of Object.entries(filter[0] ?? {})) {
    if (!Array.isArray(expression) || expression.length !== 2 || String(expression[0]).toLowerCase() !== 'eq' || typeof expression[1] !== 'string') continue;
    const name = attribute.toLowerCase();
    return all.filter((resource) => {
      const actual = Object.entries(resource).find(([key]) => key.toLowerCase() === name)?.[1];
      return actual !== undefined && (typeof actual !== 'string' || actual === expression[1]);
    });
  }
  return all;
};

/**
 * A SCIM 2.0 server nobody on this project wrote: the npm packages scimmy and scimmy-routers on
 * express, in process on a free 127.0.0.1 port. SCIMMY parses every request, validates it against
 * the RFC 7643 schemas, applies PATCH operations and sorts and pages lists; this module only
 * stores what SCIMMY's ingress, egress and degress handlers are given, in memory:
 * - ids are assigned here, never taken from the client;
 * - userName is unique, compared without case (RFC 7643 section 4.1.1: caseExact false, uniqueness
 *   server): a clash is SCIMMY's 409 `uniqueness` error;
 * - a list request gets the resources that match SCIMMY's parsed filter (`resource.filter.match`,
 *   SCIMMY's own evaluator, given the candidates an equality index would give); SCIMMY sorts and
 *   pages the result by `resource.constraints` itself;
 * - deleting a user takes it out of every group, as a directory does.
 *
 * SCIMMY keeps its resource declarations in module state, so one server runs per process at a time.
 */
export const startScimmyServer = async (token: string) => {
  if (running) throw new Error('one scimmy server per process: SCIMMY declares its resources globally');
  running = true;
  const users = new Map<string, Json>();
  const groups = new Map<string, Json>();
  const requests: ScimmyRequest[] = [];

  const stamp = (previous: Json | undefined): Json => {
    const now = new Date().toISOString();
    return { created: (previous?.meta as Json | undefined)?.created ?? now, lastModified: now };
  };
  // SCIMMY hands ingress a schema instance; keep a plain copy so later requests cannot alter what is stored.
  const plain = (instance: Json): Json => JSON.parse(JSON.stringify(instance)) as Json;

  const egressOf = (kind: string, table: Map<string, Json>) => async (resource: HandlerResource) => {
    if (resource.id !== undefined) {
      const found = table.get(resource.id);
      if (!found) throw notFound(kind, resource.id);
      return found;
    }
    const all = [...table.values()];
    return resource.filter ? resource.filter.match(candidatesFor(resource.filter, all)) : all;
  };

  resources.declare(
    resources.User.ingress(async (resource, instance) => {
      const id = resource.id ?? randomUUID();
      const previous = users.get(id);
      if (resource.id !== undefined && !previous) throw notFound('User', resource.id);
      const userName = String(instance.userName).toLowerCase();
      if ([...users.values()].some((other) => other.id !== id && String(other.userName).toLowerCase() === userName)) {
        throw new SCIMMY.Types.Error(409, 'uniqueness', `userName ${String(instance.userName)} is already taken`);
      }
      const stored = { ...plain(instance), id, meta: stamp(previous) };
      users.set(id, stored);
      return stored;
    })
      .egress(egressOf('User', users))
      .degress(async (resource) => {
        if (resource.id === undefined || !users.delete(resource.id)) throw notFound('User', resource.id);
        for (const group of groups.values()) {
          const members = (group.members as Json[] | undefined) ?? [];
          if (members.some((member) => member.value === resource.id)) group.members = members.filter((member) => member.value !== resource.id);
        }
      }),
  );
  resources.declare(
    resources.Group.ingress(async (resource, instance) => {
      const id = resource.id ?? randomUUID();
      const previous = groups.get(id);
      if (resource.id !== undefined && !previous) throw notFound('Group', resource.id);
      const stored = { ...plain(instance), id, meta: stamp(previous) };
      groups.set(id, stored);
      return stored;
    })
      .egress(egressOf('Group', groups))
      .degress(async (resource) => {
        if (resource.id === undefined || !groups.delete(resource.id)) throw notFound('Group', resource.id);
      }),
  );

  const app = express();
  // Record every request as it arrives, before SCIMMY handles it (PatchOp keeps references to
  // the request's values, so the body is copied here), and the status it answers with.
  app.use(express.json({ type: ['application/scim+json', 'application/json'], limit: '1mb' }));
  app.use('/scim/v2', (request, response, next) => {
    const recorded: ScimmyRequest = {
      method: request.method,
      path: request.url,
      body: request.body === undefined ? undefined : structuredClone(request.body),
    };
    requests.push(recorded);
    response.on('finish', () => {
      recorded.status = response.statusCode;
    });
    // scimmy-routers 1.3 (written for Express 4) turns `startIndex` and `count` into numbers by
    // assigning to `req.query`; Express 5 parses `req.query` again on every read, so the numbers
    // would be lost and SCIMMY would ignore both parameters. A plain, writable copy keeps them.
    Object.defineProperty(request, 'query', { value: { ...request.query }, writable: true, configurable: true, enumerable: true });
    next();
  });
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      docUri: 'https://example.com/scim-auth',
      handler: (request: express.Request) => {
        if (request.header('authorization') !== `Bearer ${token}`) throw new Error('Authorization failed');
        return 'provisioning-hub';
      },
    }),
  );

  const server: Server = await new Promise((done) => {
    const listening = app.listen(0, '127.0.0.1', () => done(listening));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    /** The SCIM base URL, as a connector's `baseUrl`. */
    url: `http://127.0.0.1:${port}/scim/v2`,
    users: () => [...users.values()],
    groups: () => [...groups.values()],
    requests,
    /** The PATCH requests received, in order. */
    patches: () => requests.filter((r) => r.method === 'PATCH'),
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => {
          running = false;
          done();
        });
      }),
  };
};

export type ScimmyServer = Awaited<ReturnType<typeof startScimmyServer>>;
