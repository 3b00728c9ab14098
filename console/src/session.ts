/**
 * The operator's token for this browser tab only (sessionStorage): it goes with the tab, is
 * never written to the URL, and another site cannot read it.
 */
const KEY = 'scim-hub.operator-token';

export const storedToken = (): string | undefined => window.sessionStorage.getItem(KEY) ?? undefined;
export const storeToken = (token: string): void => window.sessionStorage.setItem(KEY, token);
export const forgetToken = (): void => window.sessionStorage.removeItem(KEY);
