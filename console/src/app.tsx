import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type AdminApi, adminApi } from './api.ts';
import { ConnectorsPage } from './pages/connectors-page.tsx';
import { DirectoryPage } from './pages/directory-page.tsx';
import { ImportExportPage } from './pages/import-export-page.tsx';
import { LogPage } from './pages/log-page.tsx';
import { OnDemandPage } from './pages/on-demand-page.tsx';
import { OverviewPage } from './pages/overview-page.tsx';
import { RunsPage } from './pages/runs-page.tsx';
import { NotFoundPage } from './pages/not-found-page.tsx';
import { PoolSignInPage } from './pages/pool-sign-in-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';
import type { ConsoleRuntimeConfig } from './runtime-config.ts';
import { onLinkClick, useLocation } from './router.ts';
import { forgetToken, redirectUriOf, signOutUrl, storedToken, storeToken } from './session.ts';

interface PageSpec {
  path: string;
  title: string;
  render: (api: AdminApi, search: URLSearchParams) => preact.JSX.Element;
}

const PAGES: PageSpec[] = [
  { path: '/', title: 'Overview', render: (api, search) => <OverviewPage api={api} search={search} /> },
  { path: '/log', title: 'Provisioning log', render: (api, search) => <LogPage api={api} search={search} /> },
  { path: '/connectors', title: 'Connectors', render: (api, search) => <ConnectorsPage api={api} search={search} /> },
  { path: '/runs', title: 'Runs', render: (api, search) => <RunsPage api={api} search={search} /> },
  { path: '/on-demand', title: 'On demand', render: (api, search) => <OnDemandPage api={api} search={search} /> },
  { path: '/directory', title: 'Directory', render: (api, search) => <DirectoryPage api={api} search={search} /> },
  { path: '/import-export', title: 'Import and export', render: (api, search) => <ImportExportPage api={api} search={search} /> },
];

/** The console: sign-in (the operator token locally, the operators' pool in AWS), then the pages, each at its own URL. */
export const App = ({ config, notice: initialNotice }: { config: ConsoleRuntimeConfig; notice?: string | undefined }) => {
  const [token, setToken] = useState(storedToken);
  const [notice, setNotice] = useState<string | undefined>(initialNotice);
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const firstPage = useRef(true);
  // A new page moves the keyboard's focus to its content, as a page load would; the first one leaves it where the browser put it.
  useEffect(() => {
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    main.current?.focus();
  }, [location.page]);
  const signOut = (why?: string) => {
    forgetToken();
    setToken(undefined);
    setNotice(why);
    // Asked for by the operator: the pool's own session ends too, or its login page would sign them straight back in.
    if (!why && config.signIn.kind === 'cognito') window.location.assign(signOutUrl(config.signIn, redirectUriOf(window.location.origin)));
  };
  const api = useMemo(() => (token ? adminApi(token, () => signOut('The hub refused the token: sign in again.'), config.apiBaseUrl) : undefined), [token]);

  if (!api && config.signIn.kind === 'cognito') return <PoolSignInPage signIn={config.signIn} notice={notice} />;
  if (!api) {
    return (
      <SignInPage
        apiBaseUrl={config.apiBaseUrl}
        notice={notice}
        onSignedIn={(accepted) => {
          storeToken(accepted);
          setNotice(undefined);
          setToken(accepted);
        }}
      />
    );
  }
  const page = PAGES.find((p) => p.path === location.page);
  document.title = `${page?.title ?? 'Not found'} · SCIM hub console`;
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the links inside are the keyboard's way; this only spares them a reload.
    // biome-ignore lint/a11y/noStaticElementInteractions: as above.
    <div class="shell" onClick={(event) => onLinkClick(event)}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">SCIM hub</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`/console${p.path}`} aria-current={p === page ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="link" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        {page ? page.render(api, location.search) : <NotFoundPage />}
      </main>
    </div>
  );
};
