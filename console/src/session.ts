import { beginSignIn as begin, completeSignIn as complete, tokenStore } from './pkce.ts';
import type { CognitoSignIn } from './runtime-config.ts';

export { redirectUriOf, signOutUrl } from './pkce.ts';

/**
 * The operator's token for this browser tab only (sessionStorage): it goes with the tab, is
 * never written to the URL, and another site cannot read it. Locally it is the operator token
 * (`ADMIN_TOKEN`); in AWS the access token of the operators' pool, kept until it expires.
 */
const tab = tokenStore(window.sessionStorage);

export const storedToken = tab.stored;
export const storeToken = tab.store;
export const forgetToken = tab.forget;

/** Starts a sign-in at the operators' pool from this tab (pkce.ts). */
export const beginSignIn = (signIn: CognitoSignIn, origin: string, returnTo: string) => begin(window.sessionStorage, signIn, origin, returnTo);

/** Finishes a sign-in the pool sent this tab back from (pkce.ts). */
export const completeSignIn = (signIn: CognitoSignIn, location: { origin: string; search: string }) => complete(window.sessionStorage, signIn, location);
