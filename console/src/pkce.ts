import type { CognitoSignIn } from './runtime-config.ts';

/**
 * The operator's session and the sign-in at the operators' pool, on the tab's storage
 * (sessionStorage in the browser; session.ts binds it). Free of the DOM, so it runs in tests
 * as it does in the page.
 */

/** What of the Web Storage API the session uses. */
export interface TabStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEY = 'scim-hub.operator-token';
const EXPIRES_KEY = 'scim-hub.operator-token-expires';
/** The sign-in under way: the PKCE verifier and the state, until the pool sends the browser back. */
export const PENDING_KEY = 'scim-hub.sign-in';

/** The operator's token in a tab's storage: the operator token locally, the pool's access token (until it expires) in AWS. */
export const tokenStore = (storage: TabStorage, now: () => number = Date.now) => {
  const forget = (): void => {
    storage.removeItem(KEY);
    storage.removeItem(EXPIRES_KEY);
  };
  return {
    stored: (): string | undefined => {
      const expires = Number(storage.getItem(EXPIRES_KEY) ?? Number.POSITIVE_INFINITY);
      if (now() >= expires) {
        forget();
        return undefined;
      }
      return storage.getItem(KEY) ?? undefined;
    },
    store: (token: string, expiresAt?: number): void => {
      storage.setItem(KEY, token);
      if (expiresAt === undefined) storage.removeItem(EXPIRES_KEY);
      else storage.setItem(EXPIRES_KEY, String(expiresAt));
    },
    forget,
  };
};

// Authorization code with PKCE (RFC 7636) at the pool's managed login.

/** Base64url without padding (RFC 4648 section 5), as RFC 7636 appendix A has it. */
export const base64Url = (bytes: Uint8Array): string => {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** A fresh secret of 32 random bytes as 43 base64url characters: a code verifier (section 4.1) or a state. */
export const randomSecret = (): string => base64Url(crypto.getRandomValues(new Uint8Array(32)));

/** The S256 code challenge of a verifier (section 4.2): BASE64URL(SHA256(ASCII(code_verifier))). */
export const codeChallengeOf = async (verifier: string): Promise<string> =>
  base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));

/** The managed login's authorize URL for a code with PKCE. */
export const authorizeUrl = (signIn: CognitoSignIn, redirectUri: string, state: string, challenge: string): string => {
  const url = new URL(`${signIn.domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: signIn.clientId,
    redirect_uri: redirectUri,
    scope: signIn.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
};

/** Where sign-out goes: the managed login ends its own session, then sends the browser back to the console. */
export const signOutUrl = (signIn: CognitoSignIn, redirectUri: string): string => {
  const url = new URL(`${signIn.domain}/logout`);
  url.search = new URLSearchParams({ client_id: signIn.clientId, logout_uri: redirectUri }).toString();
  return url.toString();
};

interface PendingSignIn {
  verifier: string;
  state: string;
  /** Where the operator was, to return there after signing in. */
  returnTo: string;
}

/** The URL the pool sends the browser back to: the console's root, exactly as the app client lists it. */
export const redirectUriOf = (origin: string): string => `${origin}/console/`;

/** Starts signing in: keeps a new verifier and state for this tab, and answers the URL to send the browser to. */
export const beginSignIn = async (storage: TabStorage, signIn: CognitoSignIn, origin: string, returnTo: string): Promise<string> => {
  const pending: PendingSignIn = { verifier: randomSecret(), state: randomSecret(), returnTo };
  storage.setItem(PENDING_KEY, JSON.stringify(pending));
  return authorizeUrl(signIn, redirectUriOf(origin), pending.state, await codeChallengeOf(pending.verifier));
};

/** A signed-in session: the access token and when it ends (epoch ms). */
export interface PoolSession {
  accessToken: string;
  expiresAt: number;
  /** The page to show now: where the operator was when sign-in began. */
  returnTo: string;
}

export class SignInError extends Error {
  override readonly name = 'SignInError';
}

/**
 * Finishes a sign-in when the pool has sent the browser back with `code` and `state`: checks
 * the state against the one this tab kept (so another site cannot push its own code in), then
 * exchanges the code and the verifier at the pool's `/oauth2/token`. Undefined when the URL
 * carries no answer from the pool.
 */
export const completeSignIn = async (
  storage: TabStorage,
  signIn: CognitoSignIn,
  location: { origin: string; search: string },
  post: typeof fetch = fetch,
  now: () => number = Date.now,
): Promise<PoolSession | undefined> => {
  const answer = new URLSearchParams(location.search);
  const code = answer.get('code');
  const error = answer.get('error');
  if (!code && !error) return undefined;
  const raw = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY);
  if (error) throw new SignInError(`Signing in failed: ${answer.get('error_description') ?? error}`);
  const pending = raw ? (JSON.parse(raw) as PendingSignIn) : undefined;
  if (!pending || pending.state !== answer.get('state')) throw new SignInError('This sign-in was not started in this tab: sign in again.');
  let response: Response;
  try {
    response = await post(`${signIn.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: signIn.clientId,
        code: code as string,
        redirect_uri: redirectUriOf(location.origin),
        code_verifier: pending.verifier,
      }).toString(),
    });
  } catch {
    throw new SignInError('The sign-in service does not answer: try again.');
  }
  const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new SignInError(`Signing in failed: ${typeof body.error === 'string' ? body.error : `${response.status} from the sign-in service`}`);
  }
  const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 3600;
  return { accessToken: body.access_token, expiresAt: now() + lifetime * 1000, returnTo: pending.returnTo };
};
