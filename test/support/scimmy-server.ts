import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

type Json = Record<string, unknown>;

/** SCIMMY's handler types are stricter than this in-memory store needs; the runtime contract is what matters. */
interface LooseResource {
  ingress(handler: (resource: { id?: string }, instance: Json) => Promise<Json>): LooseResource;
  egress(handler: (resource: { id?: string; filter?: { match(values: Json[]): Json[] } }) => Promise<Json | Json[]>): LooseResource;
  degress(handler: (resource: { id?: string }) => Promise<void>): LooseResource;
}
const resources = SCIMMY.Resources as unknown as { User: LooseResource; Group: LooseResource; declare(resource: LooseResource): void };
const scimError = (status: number, detail: string) =>
  new SCIMMY.Types.Error(status, (status === 409 ? 'uniqueness' : null) as unknown as string, detail);

/**
 * A SCIM 2.0 server nobody on this project wrote: the npm packages scimmy and scimmy-routers on
 * express, with in-memory storage behind SCIMMY's ingress, egress and degress handlers. SCIMMY
 * parses requests, applies filters and PATCH operations itself. One per process (SCIMMY keeps
 * its resource declarations in module state).
 */
export const startScimmyServer = async (token: string) => {
  const users = new Map<string, Json>();
  const groups = new Map<string, Json>();
  const patches: Array<{ path: string; body: unknown }> = [];

  const store = (kind: 'User' | 'Group', table: Map<string, Json>, uniqueKey: string) => ({
    ingress: async (resource: { id?: string }, instance: Json) => {
      const id = resource.id ?? randomUUID();
      if (resource.id && !table.has(id)) throw scimError(404, `${kind} ${id} not found`);
      const clash = [...table.values()].find(
        (other) => other.id !== id && String(other[uniqueKey]).toLowerCase() === String(instance[uniqueKey]).toLowerCase(),
      );
      if (clash) throw scimError(409, `${uniqueKey} is taken`);
      const now = new Date().toISOString();
      const stored = { ...JSON.parse(JSON.stringify(instance)), id, meta: { created: (table.get(id)?.meta as Json | undefined)?.created ?? now, lastModified: now } };
      table.set(id, stored);
      return stored;
    },
    egress: async (resource: { id?: string; filter?: { match(values: Json[]): Json[] } }) => {
      if (resource.id) {
        const found = table.get(resource.id);
        if (!found) throw scimError(404, `${kind} ${resource.id} not found`);
        return found;
      }
      const all = [...table.values()];
      return resource.filter ? resource.filter.match(all) : all;
    },
    degress: async (resource: { id?: string }) => {
      if (!resource.id || !table.delete(resource.id)) throw scimError(404, `${kind} ${resource.id} not found`);
      // Like any directory, deleting a user takes it out of its groups.
      if (kind === 'User') {
        for (const group of groups.values()) {
          group.members = ((group.members as Json[] | undefined) ?? []).filter((member) => member.value !== resource.id);
        }
      }
    },
  });
  const userStore = store('User', users, 'userName');
  const groupStore = store('Group', groups, 'displayName');
  resources.declare(resources.User.ingress(userStore.ingress).egress(userStore.egress).degress(userStore.degress));
  resources.declare(resources.Group.ingress(groupStore.ingress).egress(groupStore.egress).degress(groupStore.degress));
  SCIMMY.Config.set({ patch: true, filter: true, sort: true, bulk: false, changePassword: false, etag: false });

  const app = express();
  // Record every PATCH the hub sends, before SCIMMY handles it.
  app.use(express.json({ type: ['application/json', 'application/scim+json'] }));
  app.use((request, _response, next) => {
    if (request.method === 'PATCH') patches.push({ path: request.path, body: request.body });
    next();
  });
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      docUri: 'https://example.com/scim-auth',
      handler: (request: express.Request) => {
        if (request.header('authorization') !== `Bearer ${token}`) throw new Error('Authorization failed');
        return 'hub';
      },
    }),
  );
  const server: Server = await new Promise((done) => {
    const listening = app.listen(0, '127.0.0.1', () => done(listening));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/scim/v2`,
    users: () => [...users.values()],
    groups: () => [...groups.values()],
    patches,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
};
