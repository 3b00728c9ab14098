import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ScimConnector } from '../../../shared/connectors/scim/scim.connector.ts';

type Handler = (request: IncomingMessage, body: string) => { status: number; body?: unknown };

/** A SCIM target on a local port answering with `handle`; every request is logged. */
const target = async (handle: Handler) => {
  const requests: Array<{ method: string; url: string; authorization: string; body: string }> = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      requests.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization ?? '', body });
      const answer =
        request.url === '/ServiceProviderConfig' ? { status: 200, body: { patch: { supported: true }, filter: { supported: true } } } : handle(request, body);
      response.writeHead(answer.status, { 'content-type': 'application/scim+json' });
      response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
};

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const scimError = (status: number, scimType?: string) => ({
  status,
  body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), ...(scimType ? { scimType } : {}) },
});

describe('ScimConnector', () => {
  it('after a 401 reads the token again once and retries with the new one', async () => {
    const app = await target((request) => (request.headers.authorization === 'Bearer new' ? { status: 204 } : scimError(401)));
    let current = 'old';
    const connector = new ScimConnector(
      { id: 'app', baseUrl: app.url, membersPerRequest: 100 },
      {
        get: async () => current,
        refresh: async () => {
          current = 'new';
          return current;
        },
      },
    );

    await connector.deleteUser('u1');

    expect(app.requests.filter((r) => r.method === 'DELETE').map((r) => r.authorization)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('reports a 403 that a fresh token does not cure as unauthorized, after one retry', async () => {
    const app = await target(() => scimError(403));
    const connector = new ScimConnector({ id: 'app', baseUrl: app.url, membersPerRequest: 100 }, 'token');

    await expect(connector.deleteUser('u1')).rejects.toMatchObject({ kind: 'unauthorized' });
    expect(app.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
  });

  it('treats removing members the target no longer has (noTarget, 404) as done, member by member', async () => {
    const app = await target((_request, body) => {
      const operations = (JSON.parse(body) as { Operations: Array<{ path: string }> }).Operations;
      if (operations.length > 1) return scimError(400, 'noTarget');
      return operations[0]?.path.includes('gone') ? scimError(400, 'noTarget') : { status: 204 };
    });
    const connector = new ScimConnector({ id: 'app', baseUrl: app.url, membersPerRequest: 100 }, 'token');

    await connector.changeGroupMembers('g1', { add: [], remove: ['here', 'gone'] });

    expect(app.requests.filter((r) => r.method === 'PATCH')).toHaveLength(3);
  });

  it('treats removing a member from a group the target deleted as done', async () => {
    const app = await target(() => scimError(404));
    const connector = new ScimConnector({ id: 'app', baseUrl: app.url, membersPerRequest: 100 }, 'token');

    await expect(connector.changeGroupMembers('g1', { add: [], remove: ['u1'] })).resolves.toBeUndefined();
    await expect(connector.changeGroupMembers('g1', { add: ['u1'], remove: [] })).rejects.toMatchObject({ kind: 'notFound' });
  });

  it('renames a group with one PATCH replace of displayName', async () => {
    const app = await target(() => ({ status: 204 }));
    const connector = new ScimConnector({ id: 'app', baseUrl: app.url, membersPerRequest: 100 }, 'token');

    expect(await connector.renameGroup('g1', 'R&D', 'hub-g1')).toEqual({ id: 'g1', displayName: 'R&D', externalId: 'hub-g1' });
    const patch = app.requests.find((r) => r.method === 'PATCH');
    expect(patch?.url).toBe('/Groups/g1');
    expect(JSON.parse(patch?.body ?? '{}').Operations).toEqual([{ op: 'replace', path: 'displayName', value: 'R&D' }]);
  });
});

describe('ScimConnector listing', () => {
  /** A target holding `total` users that answers at most `cap` per page, whatever count asks. */
  const pagedTarget = (total: number, cap: number) =>
    target((request) => {
      const url = new URL(request.url ?? '', 'http://target');
      const start = Number(url.searchParams.get('startIndex'));
      const count = Math.min(Number(url.searchParams.get('count')), cap);
      const ids = Array.from({ length: total }, (_, i) => i + 1).slice(start - 1, start - 1 + count);
      const Resources = ids.map((i) => ({ id: `u${i}`, userName: `user${i}`, name: { givenName: `G${i}` }, meta: { resourceType: 'User' } }));
      return { status: 200, body: { totalResults: total, startIndex: start, itemsPerPage: Resources.length, Resources } };
    });

  it('pages with startIndex from what the target really returned, so a target capping pages lower loses nothing', async () => {
    // Prepare
    const app = await pagedTarget(7, 3);
    const connector = new ScimConnector({ id: 'app', baseUrl: app.url, membersPerRequest: 100 }, 'token');
    // Act
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await connector.listUsers({ pageSize: 5, cursor });
      ids.push(...page.items.map((a) => a.id));
      cursor = page.next;
    } while (cursor);
    // Assess
    expect(ids).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']);
    expect(app.requests.filter((r) => r.url.startsWith('/Users')).map((r) => r.url)).toEqual([
      '/Users?startIndex=1&count=5',
      '/Users?startIndex=4&count=5',
      '/Users?startIndex=7&count=5',
    ]);
  });

  it('lists accounts as flat attribute maps, the vocabulary findUser answers in', async () => {
    const app = await pagedTarget(1, 10);
    const connector = new ScimConnector({ id: 'app', baseUrl: app.url, membersPerRequest: 100 }, 'token');

    const page = await connector.listUsers({ pageSize: 10 });

    expect(page).toEqual({ items: [{ id: 'u1', attributes: { userName: 'user1', 'name.givenName': 'G1' } }] });
  });

  it('refuses a cursor it did not make', async () => {
    const app = await pagedTarget(1, 10);
    const connector = new ScimConnector({ id: 'app', baseUrl: app.url, membersPerRequest: 100 }, 'token');

    await expect(connector.listUsers({ pageSize: 10, cursor: 'abc' })).rejects.toMatchObject({ kind: 'permanent' });
  });
});
