import { useState } from 'preact/hooks';
import type { CognitoSignIn } from '../runtime-config.ts';
import { beginSignIn } from '../session.ts';

/**
 * Sign-in through the operators' Cognito pool: the button sends the browser to the pool's
 * managed login (password and authenticator code are entered there, never here), which sends
 * it back to the console with a code (authorization code with PKCE).
 */
export const PoolSignInPage = ({ signIn, notice }: { signIn: CognitoSignIn; notice: string | undefined }) => {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    try {
      const returnTo = `${window.location.pathname}${window.location.search}`;
      window.location.assign(await beginSignIn(signIn, window.location.origin, returnTo));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : 'Signing in failed.');
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>SCIM hub console</h1>
      <p id="sign-in-help">Operators sign in with their account of the operators' user pool, and its authenticator code.</p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="button" onClick={start} disabled={busy} aria-describedby="sign-in-help">
        {busy ? 'Opening sign-in…' : 'Sign in'}
      </button>
    </main>
  );
};
