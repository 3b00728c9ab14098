import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleRuntimeConfig } from '../../console/src/runtime-config.ts';
import type { ConsoleAsset } from '../console/console.build.ts';

export const CONSOLE_PREFIX = '/console';

/**
 * The headers CloudFront's response headers policy sets in AWS, so the console meets the same
 * rules locally: only its own scripts and styles, calls to its own origin, no framing.
 */
export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * Serves the built console under `/console/`: its hashed assets as they are, its runtime
 * settings as `config.json` (in AWS the stack writes that file beside the assets), `index.html`
 * for every other path (the console routes in the browser), `/console` redirected to
 * `/console/`. The files are public; the data behind them is not (every admin call carries the token).
 */
export const serveConsole = (assets: Map<string, ConsoleAsset>, config: ConsoleRuntimeConfig) => {
  const configAsset: ConsoleAsset = { contentType: 'application/json', body: new TextEncoder().encode(JSON.stringify(config)), immutable: false };
  return (request: IncomingMessage, url: URL, response: ServerResponse): void => {
    request.resume();
    const method = (request.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      response.end('The console is read with GET');
      return;
    }
    if (url.pathname === CONSOLE_PREFIX) {
      response.writeHead(301, { location: `${CONSOLE_PREFIX}/${url.search}` });
      response.end();
      return;
    }
    const path = url.pathname.slice(CONSOLE_PREFIX.length + 1);
    const asset = path === 'config.json' ? configAsset : assets.get(path);
    if (!asset && path.startsWith('assets/')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...CONSOLE_SECURITY_HEADERS });
      response.end('No such asset');
      return;
    }
    const served = asset ?? (assets.get('index.html') as ConsoleAsset);
    response.writeHead(200, {
      'content-type': served.contentType,
      'content-length': String(served.body.byteLength),
      'cache-control': served.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...CONSOLE_SECURITY_HEADERS,
    });
    response.end(method === 'HEAD' ? undefined : served.body);
  };
};
