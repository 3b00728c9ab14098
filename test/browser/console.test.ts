import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { startRecordingProxy } from '../support/recording-proxy.ts';
import { type ScimmyServer, startScimmyServer } from '../support/scimmy-server.ts';

const executablePath = chromiumPath();
if (!executablePath) console.warn("test/browser: no Chromium (set CHROMIUM_PATH or install Debian's chromium): the console tests are skipped");

const targetApi = (url: string) => scimClient(url, TARGET_TOKEN);
const TARGET_TOKEN = 'target-token-0123456789';
const USER_NAME = 'ada.console@example.com';

type AuditRecord = AuditEntry & { id: string };

/**
 * The operators' console in a real Chromium, on the local hub: a user created over SCIM
 * reaches a SCIM server (acme) and a target that refuses everything (refusing). The console
 * shows both records, filters and exports them, charts them, redrives the refused change,
 * provisions on demand after a dry run and approves a reconciliation run.
 */
describe.skipIf(!executablePath)('the operators’ console', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let scimmy: ScimmyServer;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
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
    // The same SCIM server behind a proxy that answers 400 to everything, until told otherwise:
    // the hub's change is dead-lettered at once.
    proxy = await startRecordingProxy(new URL(scimmy.url).origin);
    proxy.setBehaviour(() => ({
      status: 400,
      body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: 'this target refuses everything' },
    }));
    const connectorsFile = join(directory, 'connectors.json');
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          {
            id: 'acme',
            type: 'scim',
            enabled: true,
            baseUrl: scimmy.url,
            bearerToken: TARGET_TOKEN,
            // Any orphan to disable needs an operator's approval.
            reconcile: { orphans: 'disable', deletionThreshold: { percent: 0, minimum: 1 } },
          },
          { id: 'refusing', type: 'scim', enabled: true, baseUrl: `${proxy.url}/scim/v2`, bearerToken: TARGET_TOKEN },
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
    await proxy?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('refuses a wrong operator token and signs in with the right one', async () => {
    await page.goto(`${hub.url}/console/`);
    await page.getByLabel('Operator token').fill('not-the-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('does not accept this token');

    await page.getByLabel('Operator token').fill(hub.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Provisioning log' }).click();
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
    expect(await userNameChange.locator('td.none').textContent()).toBe('(none)');
  });

  it('keeps the filters in the URL: the view opens again from its address alone', async () => {
    const shared = page.url();
    const second = await browser.newPage();
    try {
      await second.goto(`${hub.url}/console/`);
      await second.getByLabel('Operator token').fill(hub.adminToken);
      await second.getByRole('button', { name: 'Sign in' }).click();
      await second.getByRole('heading', { name: 'Overview' }).waitFor();
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

  it('shows each connector’s operations, error rate and dead letters on the overview', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    const acme = page.getByRole('article', { name: 'acme' });
    const refusing = page.getByRole('article', { name: 'refusing' });
    await acme.waitFor();
    expect(Number(await acme.locator('dt:has-text("Operations") + dd').textContent())).toBeGreaterThan(0);
    expect(await acme.locator('canvas[role="img"]').count()).toBe(1);
    expect(await refusing.locator('dt:has-text("Error rate") + dd').textContent()).toContain('100.0 %');
    expect(await refusing.locator('dt:has-text("Dead letters") + dd').textContent()).toMatch(/^1 /);
    // The chart's numbers, as a table.
    await refusing.getByText('Show as a table').click();
    expect(await refusing.locator('details table tbody').textContent()).toContain('1');
  });

  it('lists a dead letter with its reason and redrives it after confirmation', async () => {
    await page.getByRole('article', { name: 'refusing' }).getByRole('link', { name: 'inspect and redrive' }).click();
    await page.getByRole('heading', { name: 'Dead letters of refusing' }).waitFor();
    expect(new URL(page.url()).searchParams.get('connector')).toBe('refusing');
    const letters = page.locator('section.card table tbody tr');
    await expect.poll(() => letters.count()).toBe(1);
    expect(await letters.first().textContent()).toContain(created.json.id);
    expect(await letters.first().textContent()).toContain('refuses everything');

    await page.getByRole('button', { name: 'Redrive', exact: true }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('Move the 1 dead letter of refusing back to its lane?');
    await dialog.getByRole('button', { name: 'Redrive now' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Moved' }).textContent()).toMatch(/^Moved 1;/);
    // The change runs again: the target still refuses, so a second dead-lettered record follows.
    await eventually(async () => expect((await allRecords(`connector=refusing&status=dead-lettered`)).length).toBe(2));
  });

  it('shows an on-demand dry run’s diff, then applies it', async () => {
    // The second target takes requests again; it holds the account acme created, renamed there since.
    proxy.setBehaviour(() => 'forward');
    const target = targetApi(scimmy.url);
    const account = (await target.get(`/Users?filter=${encodeURIComponent(`userName eq "${USER_NAME}"`)}`)).json.Resources[0];
    expect((await target.put(`/Users/${account.id}`, { ...account, name: { givenName: 'Augusta', familyName: 'Lovelace' } })).status).toBe(200);

    await page.getByRole('link', { name: 'On demand' }).click();
    await page.getByLabel('Connector').selectOption('refusing');
    await page.getByLabel('User (id, userName or externalId)').fill(USER_NAME);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const outcome = page.getByRole('article');
    await outcome.getByRole('heading', { name: /Dry run: nothing was changed/ }).waitFor();
    expect(new URL(page.url()).searchParams.get('user')).toBe(USER_NAME);
    const givenName = outcome.locator('table.changes tr', { has: page.locator('th', { hasText: /^name\.givenName$/ }) });
    expect(await givenName.locator('td.old').textContent()).toBe('Augusta');
    expect(await givenName.locator('td.new').textContent()).toBe('Ada');
    expect((await target.get(`/Users/${account.id}`)).json.name.givenName).toBe('Augusta');

    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Apply now' }).click();
    await outcome.getByRole('heading', { name: /^Applied/ }).waitFor();
    expect((await target.get(`/Users/${account.id}`)).json.name.givenName).toBe('Ada');
  }, 60_000);

  it('shows a run awaiting approval with what it would disable, and approves it', async () => {
    // An account on the target that no hub user matches: an orphan the run would disable.
    const orphan = await targetApi(scimmy.url).post('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'orphan@example.com',
      active: true,
    });
    expect(orphan.status).toBe(201);

    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByLabel('Connector').selectOption('acme');
    await page.getByRole('button', { name: 'Start a run' }).click();
    const run = page.locator('article[data-run]').first();
    await eventually(
      async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        expect(await run.locator('h2').textContent()).toContain('awaiting-approval');
      },
      30_000,
      250,
    );
    const plan = run.locator('.approval table tbody tr', { hasText: orphan.json.id });
    await expect.poll(() => plan.textContent()).toContain('disable');
    // The orphan is named as the target knows it, beside its id.
    expect(await plan.textContent()).toContain('orphan@example.com');

    await run.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('dialog', { name: 'Approve' }).getByRole('button', { name: 'Approve the run' }).click();
    await expect.poll(() => page.locator('article[data-run]').first().textContent()).toMatch(/approved by/);
    await eventually(async () => expect((await allRecords('connector=acme&action=approve')).map((r) => r.reason)).toEqual(['approved by operator token']));
  }, 90_000);

  it('starts a full round when asked, and says how the run read its source', async () => {
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByLabel('Connector').selectOption('acme');
    await page.getByRole('checkbox', { name: /Full round/ }).check();
    await page.getByRole('button', { name: 'Start a dry run' }).click();

    const run = page.locator('article[data-run]', { hasText: 'full round, asked for' }).first();
    await run.waitFor({ timeout: 30_000 });
    expect(await run.locator('h2').textContent()).toContain('dry run');
    expect(await run.locator('dt', { hasText: 'Source read' }).count()).toBe(1);
  }, 60_000);
});
