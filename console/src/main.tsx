import { render } from 'preact';
import { App } from './app.tsx';
import { type ConsoleRuntimeConfig, parseRuntimeConfig } from './runtime-config.ts';
import { completeSignIn, storeToken } from './session.ts';
import './styles.css';

/** config.json beside index.html: where the admin API is and how operators sign in (runtime-config.ts). */
const loadConfig = async (): Promise<ConsoleRuntimeConfig> => {
  const response = await fetch('/console/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: ${response.status} ${response.statusText}`);
  return parseRuntimeConfig(await response.json());
};

/** Finishes a pool sign-in the browser came back from, and takes the code out of the address bar. */
const signInFromRedirect = async (config: ConsoleRuntimeConfig): Promise<string | undefined> => {
  if (config.signIn.kind !== 'cognito') return undefined;
  try {
    const session = await completeSignIn(config.signIn, window.location);
    if (!session) return undefined;
    storeToken(session.accessToken, session.expiresAt);
    window.history.replaceState(null, '', session.returnTo.startsWith('/console/') ? session.returnTo : '/console/');
    return undefined;
  } catch (error) {
    window.history.replaceState(null, '', '/console/');
    return error instanceof Error ? error.message : 'Signing in failed.';
  }
};

const root = document.getElementById('app');
if (root) {
  loadConfig()
    .then(async (config) => {
      const notice = await signInFromRedirect(config);
      root.textContent = '';
      render(<App config={config} notice={notice} />, root);
    })
    .catch((error: unknown) => {
      root.textContent = `The console cannot start: ${error instanceof Error ? error.message : String(error)}`;
    });
}
