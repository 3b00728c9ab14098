import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRuntimeConfig, type CognitoSignIn } from '../../../console/src/runtime-config.ts';
import {
  authorizeUrl,
  base64Url,
  beginSignIn,
  codeChallengeOf,
  completeSignIn,
  PENDING_KEY,
  randomSecret,
  SignInError,
  signOutUrl,
  type TabStorage,
  tokenStore,
} from '../../../console/src/pkce.ts';

/** A tab's sessionStorage, as the Web Storage API keeps it (Node has none without a flag). */
class MemoryStorage implements TabStorage {
  private readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

const CONSOLE_ORIGIN = 'https://d111111abcdef8.cloudfront.net';

describe('PKCE helpers (RFC 7636)', () => {
  it('encodes base64url without padding', () => {
    expect(base64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(base64Url(new Uint8Array([0x66, 0x6f, 0x6f]))).toBe('Zm9v');
    expect(base64Url(new Uint8Array([]))).toBe('');
  });

  it('makes verifiers of 43 unreserved characters (section 4.1), never the same twice', () => {
    const secrets = Array.from({ length: 50 }, randomSecret);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(secrets).size).toBe(50);
  });

  it('derives the S256 challenge as BASE64URL(SHA256(verifier)) (section 4.2), as Node’s own SHA-256 does', async () => {
    for (const verifier of [...Array.from({ length: 10 }, randomSecret), 'a'.repeat(128), 'abc-._~XYZ0123456789abcdefghijklmnopqrstuvwxyz']) {
      expect(await codeChallengeOf(verifier)).toBe(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
    }
  });

  it('asks the managed login for a code with the S256 challenge, the client, the scope and the state', () => {
    // Prepare
    const signIn: CognitoSignIn = {
      kind: 'cognito',
      domain: 'https://ops.auth.eu-west-1.amazoncognito.com',
      clientId: 'client1',
      scope: 'openid scim-hub/console',
    };
    // Act
    const url = new URL(authorizeUrl(signIn, `${CONSOLE_ORIGIN}/console/`, 'state1', 'challenge1'));
    // Assess
    expect(`${url.origin}${url.pathname}`).toBe('https://ops.auth.eu-west-1.amazoncognito.com/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client1',
      redirect_uri: `${CONSOLE_ORIGIN}/console/`,
      scope: 'openid scim-hub/console',
      state: 'state1',
      code_challenge: 'challenge1',
      code_challenge_method: 'S256',
    });
    expect(signOutUrl(signIn, `${CONSOLE_ORIGIN}/console/`)).toBe(
      `https://ops.auth.eu-west-1.amazoncognito.com/logout?client_id=client1&logout_uri=${encodeURIComponent(`${CONSOLE_ORIGIN}/console/`)}`,
    );
  });
});

/**
 * The whole code flow against a token endpoint that checks what Cognito checks: the client,
 * the redirect URI, and that the verifier hashes to the challenge the authorize request sent.
 */
describe('signing in with the code and PKCE', () => {
  let server: Server;
  let signIn: CognitoSignIn;
  const exchanges: Array<Record<string, string>> = [];
  /** What the managed login was asked, by code it issued: the challenge to check the verifier against. */
  const issued = new Map<string, { challenge: string; redirectUri: string }>();
  let storage: MemoryStorage;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        exchanges.push(form);
        const grant = issued.get(form.code ?? '');
        const verified =
          request.url === '/oauth2/token' &&
          request.headers['content-type'] === 'application/x-www-form-urlencoded' &&
          form.grant_type === 'authorization_code' &&
          form.client_id === signIn.clientId &&
          grant !== undefined &&
          form.redirect_uri === grant.redirectUri &&
          createHash('sha256')
            .update(form.code_verifier ?? '')
            .digest('base64url') === grant.challenge;
        response.writeHead(verified ? 200 : 400, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify(
            verified ? { access_token: `token-for-${form.code}`, id_token: 'id', expires_in: 3600, token_type: 'Bearer' } : { error: 'invalid_grant' },
          ),
        );
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    signIn = {
      kind: 'cognito',
      domain: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      clientId: 'console-client',
      scope: 'openid scim-hub/console',
    };
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));
  beforeEach(() => {
    storage = new MemoryStorage();
    exchanges.length = 0;
  });

  /** The managed login: the operator signs in, and it sends the browser back with a code for the challenge it was given. */
  const managedLogin = (authorize: string, code: string): string => {
    const asked = new URL(authorize).searchParams;
    issued.set(code, { challenge: asked.get('code_challenge') ?? '', redirectUri: asked.get('redirect_uri') ?? '' });
    return `?code=${code}&state=${encodeURIComponent(asked.get('state') ?? '')}`;
  };

  it('exchanges the code with the verifier this tab kept, and returns to the page the operator was on', async () => {
    // Prepare
    const authorize = await beginSignIn(storage, signIn, CONSOLE_ORIGIN, '/console/log?status=failed');
    const back = managedLogin(authorize, 'code-1');
    // Act
    const session = await completeSignIn(storage, signIn, { origin: CONSOLE_ORIGIN, search: back }, fetch, () => 1_000);
    // Assess
    expect(session).toEqual({ accessToken: 'token-for-code-1', expiresAt: 1_000 + 3_600_000, returnTo: '/console/log?status=failed' });
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]?.redirect_uri).toBe(`${CONSOLE_ORIGIN}/console/`);
  });

  it('refuses an answer whose state this tab did not send, without calling the token endpoint', async () => {
    // Prepare
    const authorize = await beginSignIn(storage, signIn, CONSOLE_ORIGIN, '/console/');
    managedLogin(authorize, 'code-2');
    // Act
    const completing = completeSignIn(storage, signIn, { origin: CONSOLE_ORIGIN, search: '?code=code-2&state=forged' });
    // Assess
    await expect(completing).rejects.toThrow(SignInError);
    expect(exchanges).toEqual([]);
  });

  it('fails when the verifier is not the one the challenge came from', async () => {
    // Prepare: the challenge of one sign-in, then another sign-in (a new verifier) started in the same tab
    const first = await beginSignIn(storage, signIn, CONSOLE_ORIGIN, '/console/');
    const back = managedLogin(first, 'code-3');
    const state = new URLSearchParams(back).get('state') ?? '';
    const pending = JSON.parse(storage.getItem(PENDING_KEY) ?? '{}') as { verifier: string };
    storage.setItem(PENDING_KEY, JSON.stringify({ ...pending, verifier: randomSecret(), state }));
    // Act
    const completing = completeSignIn(storage, signIn, { origin: CONSOLE_ORIGIN, search: back });
    // Assess
    await expect(completing).rejects.toThrow('Signing in failed: invalid_grant');
    expect(exchanges).toHaveLength(1);
  });

  it('reports an error the managed login sent back, and uses a sign-in only once', async () => {
    // Prepare
    await beginSignIn(storage, signIn, CONSOLE_ORIGIN, '/console/');
    // Act
    const refused = completeSignIn(storage, signIn, { origin: CONSOLE_ORIGIN, search: '?error=access_denied&error_description=User+is+disabled' });
    // Assess
    await expect(refused).rejects.toThrow('Signing in failed: User is disabled');
    expect(storage.getItem(PENDING_KEY)).toBeNull();
    expect(await completeSignIn(storage, signIn, { origin: CONSOLE_ORIGIN, search: '?page=2' })).toBeUndefined();
  });

  it('keeps the access token until it expires, and the operator token until sign-out', () => {
    // Prepare
    let now = 1_000;
    const tokens = tokenStore(storage, () => now);
    // Act
    tokens.store('access-1', 61_000);
    const kept = tokens.stored();
    now = 61_000;
    const expired = tokens.stored();
    tokens.store('operator-token');
    now = Number.MAX_SAFE_INTEGER;
    const local = tokens.stored();
    tokens.forget();
    // Assess
    expect([kept, expired, local, tokens.stored()]).toEqual(['access-1', undefined, 'operator-token', undefined]);
  });
});

describe('config.json', () => {
  it('takes the local token sign-in and the pool sign-in, and names what is wrong in a broken one', () => {
    expect(parseRuntimeConfig({ apiBaseUrl: '/operator', signIn: { kind: 'token' } })).toEqual({ apiBaseUrl: '/operator', signIn: { kind: 'token' } });
    expect(
      parseRuntimeConfig({
        apiBaseUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/operator',
        signIn: { kind: 'cognito', domain: 'https://ops.auth.eu-west-1.amazoncognito.com/', clientId: 'c', scope: 'openid scim-hub/console' },
      }).signIn,
    ).toEqual({ kind: 'cognito', domain: 'https://ops.auth.eu-west-1.amazoncognito.com', clientId: 'c', scope: 'openid scim-hub/console' });
    expect(() => parseRuntimeConfig({ signIn: { kind: 'token' } })).toThrow('apiBaseUrl');
    expect(() => parseRuntimeConfig({ apiBaseUrl: '/operator', signIn: { kind: 'cognito', domain: 'http://x', clientId: 'c', scope: 's' } })).toThrow('https');
    expect(() => parseRuntimeConfig({ apiBaseUrl: '/operator', signIn: { kind: 'cognito' } })).toThrow('signIn is');
  });
});
