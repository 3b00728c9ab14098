import { useEffect, useState } from 'preact/hooks';

/** Where the console is served: every page is a path under it, every filter in its query. */
export const BASE = '/console';

export interface Location {
  /** The page, without the base: `/log`, `/` ... */
  page: string;
  search: URLSearchParams;
}

const current = (): Location => {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : window.location.pathname;
  return { page: path === '' ? '/' : path, search: new URLSearchParams(window.location.search) };
};

/** Moves to a page of the console (`/log?status=failed`), as a link would, without reloading. */
export const navigate = (to: string, options: { replace?: boolean } = {}): void => {
  const url = `${BASE}${to}`;
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
};

/** The console's location, following links, the back and forward buttons and navigate(). */
export const useLocation = (): Location => {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const follow = () => setLocation(current());
    window.addEventListener('popstate', follow);
    return () => window.removeEventListener('popstate', follow);
  }, []);
  return location;
};

/** A query string of the non-empty values, in the given order. */
export const searchOf = (values: Record<string, string | undefined>): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
};

/**
 * Follows a click on a same-origin link inside the console without a reload; a click with a
 * modifier key (new tab, new window) is left to the browser.
 */
export const onLinkClick = (event: MouseEvent): void => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = (event.target as Element | null)?.closest('a');
  if (!link || link.target || link.hasAttribute('download') || link.origin !== window.location.origin || !link.pathname.startsWith(BASE)) return;
  event.preventDefault();
  navigate(`${link.pathname.slice(BASE.length)}${link.search}`);
};
