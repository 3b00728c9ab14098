import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../infra/console/console.build.ts';
import { chromiumPath, launchChromium, signInToConsole } from '../support/browser.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';

const executablePath = chromiumPath();
if (!executablePath) console.warn("test/browser: no Chromium (set CHROMIUM_PATH or install Debian's chromium): the import and export page tests are skipped");

/** Two good rows, a bad email on line 4 and a repeated userName on line 5. */
const CSV = [
  'userName,name.givenName,name.familyName,emails[type eq "work"].value',
  'ada.import@example.com,Ada,Lovelace,ada.import@example.com',
  'alan.import@example.com,Alan,Turing,alan.import@example.com',
  'bad.import@example.com,Bad,Mail,not-an-email',
  'ada.import@example.com,Ada,Again,ada.again@example.com',
].join('\r\n');

/**
 * The console's import and export page in a real Chromium on the local hub (no connectors): a
 * CSV's dry run writes nothing and lists its rejected rows by line, the import then creates the
 * good rows through the job API, and the CSV export holds them.
 */
describe.skipIf(!executablePath)('the console’s import and export page', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let browser: Browser;
  let page: Page;
  const exported = join(tmpdir(), `console-export-${process.pid}.csv`);

  const userNames = async (): Promise<string[]> =>
    ((await scimClient(hub.scim).get('/Users?count=100')).json.Resources as Array<{ userName: string }>).map((u) => u.userName).sort();

  beforeAll(async () => {
    const [consoleAssets, started] = await Promise.all([buildConsole(), launchChromium(executablePath as string)]);
    browser = started;
    hub = await startTestHub('console-transfer', { consoleAssets });
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
    await signInToConsole(page, hub);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    rmSync(exported, { force: true });
  });

  it('runs a dry run that writes nothing and names each rejected row, then imports the good rows', async () => {
    await page.getByRole('link', { name: 'Import and export' }).click();
    const importButton = page.getByRole('button', { name: 'Import', exact: true });
    expect(await importButton.isDisabled()).toBe(true);
    await page.getByLabel('File (CSV, JSON or NDJSON)').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.locator('.job h3', { hasText: 'completed (nothing was written)' }).waitFor();
    const rejected = page.locator('table.rejected tbody tr');
    await rejected.nth(1).waitFor();
    expect(await rejected.count()).toBe(2);
    const lines = await rejected.locator('td:first-child').allTextContents();
    expect(lines.sort()).toEqual(['4', '5']);
    expect(await rejected.filter({ hasText: 'on row 2' }).count()).toBe(1);
    expect(await userNames()).toEqual([]);

    await importButton.click();
    await page.getByRole('dialog').getByRole('button', { name: 'Import now' }).click();
    await page.locator('.job h3', { hasText: /^Import .*: completed$/ }).waitFor();
    expect(await page.locator('.job dl').textContent()).toMatch(/created2/);
    expect(await userNames()).toEqual(['ada.import@example.com', 'alan.import@example.com']);
  });

  it('exports the users as CSV that holds what was imported', async () => {
    await page.getByLabel('Format').selectOption('csv');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^users-.*\.csv$/);
    await download.saveAs(exported);
    const rows = parse(readFileSync(exported, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.userName, r['name.familyName']]).sort()).toEqual([
      ['ada.import@example.com', 'Lovelace'],
      ['alan.import@example.com', 'Turing'],
    ]);
  });

  it('says why a file it cannot read is refused', async () => {
    await page.getByLabel('File (CSV, JSON or NDJSON)').setInputFiles({ name: 'people.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
    await page.getByText('the name must end in .csv, .json or .ndjson').waitFor();
    expect(await page.getByRole('button', { name: 'Dry run' }).isDisabled()).toBe(true);
  });
});
