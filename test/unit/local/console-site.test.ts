import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleAsset } from '../../../infra/console/console.build.ts';
import { CONSOLE_PREFIX, serveConsole } from '../../../infra/local/console-site.ts';

const asset = (contentType: string, text: string, immutable: boolean): ConsoleAsset => ({ contentType, body: new TextEncoder().encode(text), immutable });

/** The console's static serving under npm start: its own files, the page for every route, the security headers. */
describe('the local console site', () => {
  let server: Server;
  let base: string;
  const assets = new Map<string, ConsoleAsset>([
    ['index.html', asset('text/html; charset=utf-8', '<!doctype html><title>console</title>', false)],
    ['assets/app-ABC.js', asset('text/javascript; charset=utf-8', 'console.log(1)', true)],
  ]);

  beforeAll(async () => {
    const serve = serveConsole(assets, { apiBaseUrl: '/operator', signIn: { kind: 'token' } });
    server = createServer((request, response) => serve(request, new URL(request.url ?? '/', 'http://localhost'), response));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}${CONSOLE_PREFIX}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('serves a hashed asset to be kept, with a policy that allows only the console’s own script and origin', async () => {
    const response = await fetch(`${base}/assets/app-ABC.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe('console.log(1)');
  });

  it.each(['/', '/log', '/runs?connector=acme'])('answers %s with the page, asked again on every visit', async (path) => {
    const response = await fetch(`${base}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(await response.text()).toContain('<title>console</title>');
  });

  it('serves its runtime settings as config.json, asked again on every load, as the stack writes them beside the page in AWS', async () => {
    const response = await fetch(`${base}/config.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(await response.json()).toEqual({ apiBaseUrl: '/operator', signIn: { kind: 'token' } });
  });

  it('redirects the bare prefix to the console’s root, keeping the query', async () => {
    const response = await fetch(`${base}?hours=6`, { redirect: 'manual' });
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('/console/?hours=6');
  });

  it('answers 404 for an asset it does not have, and 405 for a write', async () => {
    expect((await fetch(`${base}/assets/app-OLD.js`)).status).toBe(404);
    expect((await fetch(`${base}/log`, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});
