import { useState } from 'preact/hooks';
import { ApiError, adminApi } from '../api.ts';

/**
 * Sign-in with the operator token `npm start` prints (ADMIN_TOKEN). The token is tried on the
 * admin API before it is kept, so a mistyped one is refused here, not on the first page.
 */
export const SignInPage = ({ notice, onSignedIn, apiBaseUrl }: { notice: string | undefined; onSignedIn: (token: string) => void; apiBaseUrl: string }) => {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate) return setError('Enter the operator token.');
    setBusy(true);
    setError(undefined);
    try {
      await adminApi(candidate, () => undefined, apiBaseUrl).get('/connectors');
      onSignedIn(candidate);
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.signedOut
          ? 'The hub does not accept this token.'
          : failure instanceof Error
            ? failure.message
            : 'Signing in failed.',
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>SCIM hub console</h1>
      <form onSubmit={submit} aria-describedby="sign-in-help">
        <p id="sign-in-help">
          Sign in with the operator token: <code>npm start</code> prints it as <em>admin token</em> (or set <code>ADMIN_TOKEN</code>).
        </p>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <label for="token">Operator token</label>
        <input
          id="token"
          type="password"
          autocomplete="current-password"
          value={token}
          onInput={(event) => setToken((event.target as HTMLInputElement).value)}
          aria-invalid={error ? 'true' : undefined}
          aria-errormessage={error ? 'sign-in-error' : undefined}
          required
        />
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
};
