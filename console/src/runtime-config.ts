/**
 * The console's runtime settings, read from `config.json` beside `index.html`: written by the
 * stack at deployment in AWS (infra/aws/console-hosting.construct.ts) and served by `npm start`
 * locally (infra/local/console-site.ts), so one bundle serves every stage.
 */
export interface ConsoleRuntimeConfig {
  /** The base of the admin routes the console calls: `/operator` on the hub's own origin locally, the API stage's `/operator` in AWS. */
  apiBaseUrl: string;
  /** How operators sign in: the operator token (`ADMIN_TOKEN`) locally, the operators' Cognito pool in AWS. */
  signIn: TokenSignIn | CognitoSignIn;
}

export interface TokenSignIn {
  kind: 'token';
}

/** Authorization code with PKCE (RFC 7636) at the pool's managed login. */
export interface CognitoSignIn {
  kind: 'cognito';
  /** The pool domain's base URL: `https://<prefix>.auth.<region>.amazoncognito.com`. */
  domain: string;
  /** The app client id (a public client: no secret). */
  clientId: string;
  /** The scopes to ask for, space-separated: `openid` and the API's operator scope. */
  scope: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** Checks a parsed `config.json`; a broken one is an error that names what is wrong, not a page that half works. */
export const parseRuntimeConfig = (value: unknown): ConsoleRuntimeConfig => {
  if (!isRecord(value) || !nonEmpty(value.apiBaseUrl) || !isRecord(value.signIn)) throw new Error('config.json: apiBaseUrl and signIn are required');
  const signIn = value.signIn;
  if (signIn.kind === 'token') return { apiBaseUrl: value.apiBaseUrl, signIn: { kind: 'token' } };
  if (signIn.kind === 'cognito' && nonEmpty(signIn.domain) && nonEmpty(signIn.clientId) && nonEmpty(signIn.scope)) {
    if (!/^https:\/\//.test(signIn.domain)) throw new Error('config.json: signIn.domain must be an https URL');
    return {
      apiBaseUrl: value.apiBaseUrl,
      signIn: { kind: 'cognito', domain: signIn.domain.replace(/\/+$/, ''), clientId: signIn.clientId, scope: signIn.scope },
    };
  }
  throw new Error('config.json: signIn is {"kind":"token"} or {"kind":"cognito","domain","clientId","scope"}');
};
