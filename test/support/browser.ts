import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * The Chromium binary the browser tests drive: `CHROMIUM_PATH`, else `chromium` on the PATH
 * (Debian's package, which .ci/run installs). undefined when there is none: the tests skip then.
 */
export const chromiumPath = (): string | undefined => {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : undefined;
  try {
    const found = execFileSync('which', ['chromium'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return found || undefined;
  } catch {
    return undefined;
  }
};

/** Headless Chromium; as root (a CI container) it cannot use its sandbox. */
export const launchChromium = (executablePath: string): Promise<Browser> =>
  chromium.launch({
    executablePath,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });

/** Signs a page in to the local hub's console with the operator token and waits for the first page. */
export const signInToConsole = async (page: Page, hub: { url: string; adminToken: string }): Promise<void> => {
  await page.goto(`${hub.url}/console/`);
  await page.getByLabel('Operator token').fill(hub.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
};
