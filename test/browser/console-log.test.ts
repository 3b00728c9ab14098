import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../infra/console/console.build.ts';
import type { AuditEntry } from '../../shared/sync/sync.ports.ts';
import { chromiumPath, launchChromium } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { projectRoot, scimClient, startTestHub } from '../support/local-hub.ts';
import { type ScimmyServer, startScimmyServer } from '../support/scimmy-server.ts';

const executablePath = chromiumPath();
if (!executablePath) console.warn("test/browser: no Chromium (set CHROMIUM_PATH or install Debian's chromium): the console tests are skipped");

const TARGET_TOKEN = 'target-token-0123456789';
const USER_NAME = 'ada.console@example.com';

type AuditRecord = AuditEntry & { id: string };

/**
 * The provisioning log page of the operators' console in a real Chromium, on the local hub:
 * a user created over SCIM reaches a SCIM server (acme) and a target that refuses everything
 * (refusing), and the console shows both records, filters them and exports them.
 */
describe.skipIf(!executablePath)('the console: provisioning log', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let scimmy: ScimmyServer;
  let refusing: Server;
  let browser: Browser;
  let page: Page;
  let directory: string;
  // biome-ignore lint/suspicious/noExplicitAny: SCIM responses are inspected freely.
  let created: { status: number; json: any };

  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected freely.
  const adminGet = async (path: string): Promise<any> => {
    const response = await fetch(`${hub.url}/admin${path}`, { headers: { authorization: `Bearer ${hub.adminToken}` } });
    expect(response.status).toBe(200);
    return response.json();
  };
  /** Every record of a filter, through the admin API's cursor. */
  const allRecords = async (query: string): Promise<AuditRecord[]> => {
    const records: AuditRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await adminGet(`/audit?${query}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      records.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return records;
  };
  const applyFilters = () => page.getByRole('button', { name: 'Apply filters' }).click();
  const rows = () => page.locator('table.log > tbody > tr[data-record]');

  beforeAll(async () => {
    directory = join(tmpdir(), `console-log-${process.pid}`);
    mkdirSync(directory, { recursive: true });
    scimmy = await startScimmyServer(TARGET_TOKEN);
    // A target that answers 400 to everything: the hub's change is dead-lettered at once.
    refusing = createServer((request, response) => {
      request.resume();
      response.writeHead(400, { 'content-type': 'application/scim+json' });
      response.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: 'this target refuses everything' }));
    });
    await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', done));
    const refusingPort = (refusing.address() as { port: number }).port;
    const connectorsFile = join(directory, 'connectors.json');
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          { id: 'acme', type: 'scim', enabled: true, baseUrl: scimmy.url, bearerToken: TARGET_TOKEN },
          { id: 'refusing', type: 'scim', enabled: true, baseUrl: `http://127.0.0.1:${refusingPort}/scim/v2`, bearerToken: TARGET_TOKEN },
        ],
      }),
    );
    const [consoleAssets, started] = await Promise.all([buildConsole(), launchChromium(executablePath as string)]);
    browser = started;
    hub = await startTestHub('console-log', { connectorIds: ['acme', 'refusing'], environment: { CONNECTORS_FILE: connectorsFile }, consoleAssets });
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    await scimmy?.stop();
    await new Promise((done) => (refusing ? refusing.close(done) : done(undefined)));
    rmSync(directory, { recursive: true, force: true });
  });

  it('refuses a wrong operator token and signs in with the right one', async () => {
    await page.goto(`${hub.url}/console/`);
    await page.getByLabel('Operator token').fill('not-the-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('does not accept this token');

    await page.getByLabel('Operator token').fill(hub.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Provisioning log' }).waitFor();
    await expect.poll(() => page.locator('.empty').textContent()).toContain('No operations recorded yet');
  });

  it('finds the record of a user created over SCIM, with its steps and changed attributes', async () => {
    created = await scimClient(hub.scim).post('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: USER_NAME,
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: USER_NAME, type: 'work', primary: true }],
    });
    expect(created.status).toBe(201);
    // Both connectors have acted on it: acme created the account, refusing dead-lettered the change.
    await eventually(async () =>
      expect(new Set((await allRecords(`resource=${created.json.id}`)).map((r) => r.connectorId))).toEqual(new Set(['acme', 'refusing'])),
    );

    await page.getByLabel('User or group').fill(USER_NAME);
    await page.getByLabel('Connector').selectOption('acme');
    await applyFilters();
    expect(new URL(page.url()).searchParams.get('resource')).toBe(USER_NAME);
    expect(new URL(page.url()).searchParams.get('connector')).toBe('acme');
    // The create; a settling sync of the same user may follow it.
    const row = rows().filter({ has: page.locator('td', { hasText: /^create$/ }) });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('success');
    await row.getByRole('button', { name: /Details/ }).click();
    const details = page.locator('tr.details');
    const steps = await details.locator('ol.steps > li').allTextContents();
    expect(steps.length).toBeGreaterThan(1);
    expect(steps.join('\n')).toMatch(/create/);
    const userNameChange = details.locator('table.changes tr', { has: page.locator('th', { hasText: /^userName$/ }) });
    expect(await userNameChange.locator('td.new').textContent()).toBe(USER_NAME);
    expect(await userNameChange.locator('td.old').textContent()).toBe('(none)');
  });

  it('keeps the filters in the URL: the view opens again from its address alone', async () => {
    const shared = page.url();
    const second = await browser.newPage();
    try {
      await second.goto(`${hub.url}/console/`);
      await second.getByLabel('Operator token').fill(hub.adminToken);
      await second.getByRole('button', { name: 'Sign in' }).click();
      await second.getByRole('heading', { name: 'Provisioning log' }).waitFor();
      await second.goto(shared);
      const shown = second.locator('table.log > tbody > tr[data-record]');
      await expect.poll(() => shown.count()).toBeGreaterThan(0);
      expect(await second.getByLabel('User or group').inputValue()).toBe(USER_NAME);
      expect(await second.getByLabel('Connector').inputValue()).toBe('acme');
      expect(new Set(await shown.locator('td:nth-child(2)').allTextContents())).toEqual(new Set(['acme']));
    } finally {
      await second.close();
    }
  });

  it('filters by failure: only the refusing target’s dead-lettered change, with its error', async () => {
    await page.goto(`${hub.url}/console/log`);
    await page.getByRole('checkbox', { name: 'failed' }).check();
    await page.getByRole('checkbox', { name: 'dead-lettered' }).check();
    await applyFilters();
    expect(new URL(page.url()).searchParams.get('status')).toBe('failed,dead-lettered');
    await expect.poll(() => rows().count()).toBe(1);
    const row = rows().first();
    expect(await row.textContent()).toContain('refusing');
    expect(await row.textContent()).toContain('dead-lettered');
    await row.getByRole('button', { name: /Details/ }).click();
    expect(await page.locator('tr.details .error-box').textContent()).toContain('refuses everything');
  });

  it('exports the whole filtered set as CSV, equal to the admin API’s records', async () => {
    // By the hub id: the records of both connectors (a dead-lettered change carries the id only).
    const expected = await allRecords(`resource=${created.json.id}`);
    await page.goto(`${hub.url}/console/log?resource=${created.json.id}`);
    await expect.poll(() => rows().count()).toBe(expected.length);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^provisioning-log-.*\.csv$/);
    const file = join(directory, 'export.csv');
    await download.saveAs(file);
    const exported = parse(readFileSync(file, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(
      exported.map((row) => ({ id: row.id, time: row.time, connectorId: row.connectorId, status: row.status, steps: JSON.parse(row.steps ?? '[]') })),
    ).toEqual(expected.map((record) => ({ id: record.id, time: record.time, connectorId: record.connectorId, status: record.status, steps: record.steps })));
    expect(exported.find((row) => row.connectorId === 'refusing')?.errorMessage).toContain('refuses everything');

    const screenshot = process.env.CONSOLE_SCREENSHOT;
    if (screenshot) {
      const target = resolve(projectRoot, screenshot);
      mkdirSync(dirname(target), { recursive: true });
      await rows()
        .first()
        .getByRole('button', { name: /Details/ })
        .click();
      await page.screenshot({ path: target, fullPage: true });
    }
  });
});
