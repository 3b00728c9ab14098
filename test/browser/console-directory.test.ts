import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../infra/console/console.build.ts';
import type { AuditEntry } from '../../shared/sync/sync.ports.ts';
import { chromiumPath, launchChromium, signInToConsole } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';
import { type ScimmyServer, startScimmyServer } from '../support/scimmy-server.ts';

const executablePath = chromiumPath();
if (!executablePath) console.warn("test/browser: no Chromium (set CHROMIUM_PATH or install Debian's chromium): the directory page tests are skipped");

const TARGET_TOKEN = 'target-token-0123456789';
const USER_NAME = 'grace.directory@example.com';

/**
 * The console's directory page in a real Chromium on the local hub, with one SCIM target
 * (acme): an operator creates, finds, edits, deactivates and deletes a user and gives a group
 * a member; each change reaches the target, and its audit records name the operator.
 */
describe.skipIf(!executablePath)('the console’s directory page', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let scimmy: ScimmyServer;
  let browser: Browser;
  let page: Page;
  let directory: string;
  let userId: string;

  const target = () => scimClient(scimmy.url, TARGET_TOKEN);
  const targetUser = async () => (await target().get(`/Users?filter=${encodeURIComponent(`userName eq "${USER_NAME}"`)}`)).json?.Resources?.[0];
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected freely.
  const admin = async (path: string): Promise<{ status: number; json: any }> => {
    const response = await fetch(`${hub.url}/admin${path}`, { headers: { authorization: `Bearer ${hub.adminToken}` } });
    return { status: response.status, json: await response.json().catch(() => undefined) };
  };

  beforeAll(async () => {
    directory = join(tmpdir(), `console-directory-${process.pid}`);
    mkdirSync(directory, { recursive: true });
    scimmy = await startScimmyServer(TARGET_TOKEN);
    const connectorsFile = join(directory, 'connectors.json');
    writeFileSync(
      connectorsFile,
      JSON.stringify({ connectors: [{ id: 'acme', type: 'scim', enabled: true, baseUrl: scimmy.url, bearerToken: TARGET_TOKEN }] }),
    );
    const [consoleAssets, started] = await Promise.all([buildConsole(), launchChromium(executablePath as string)]);
    browser = started;
    hub = await startTestHub('console-directory', { connectorIds: ['acme'], environment: { CONNECTORS_FILE: connectorsFile }, consoleAssets });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await signInToConsole(page, hub);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    await scimmy?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates a user from the keyboard, and shows it provisioned to acme by the operator', async () => {
    await page.getByRole('link', { name: 'Directory' }).click();
    await page.locator('.empty', { hasText: 'holds no users yet' }).waitFor();
    await page.getByRole('link', { name: 'New user' }).click();
    await page.getByLabel('User name').fill(USER_NAME);
    await page.getByLabel('Given name').fill('Grace');
    await page.getByLabel('Family name').fill('Hopper');
    await page.getByLabel('Work email').fill(USER_NAME);
    await page.getByLabel('Work email').press('Enter');
    await page.getByRole('heading', { name: `User ${USER_NAME}` }).waitFor();
    userId = new URL(page.url()).searchParams.get('id') as string;
    await page
      .getByRole('status')
      .filter({ hasText: `Created user ${USER_NAME}` })
      .waitFor();

    const provisioned = await eventually(async () => {
      const user = await targetUser();
      expect(user?.name?.familyName).toBe('Hopper');
      return user;
    });
    const row = page.locator('table.provisioning tr[data-connector="acme"]');
    await eventually(async () => {
      await page.reload();
      expect(await row.locator('td').first().textContent()).toContain(provisioned.id);
      expect(await row.textContent()).toContain('by operator token');
    });
    const records: Array<AuditEntry & { id: string }> = (await admin(`/audit?connector=acme&resource=${userId}`)).json.items;
    expect(records.map((r) => r.actor)).toContain('operator token');
  });

  it('finds the user by name, edits it and deactivates it after a confirmation; the target follows', async () => {
    await page.goto(`${hub.url}/console/directory`);
    await page.getByLabel('Name, id or SCIM filter').fill('grace');
    await page.getByRole('button', { name: 'Search' }).click();
    expect(new URL(page.url()).searchParams.get('q')).toBe('grace');
    await page.getByRole('link', { name: USER_NAME }).click();
    await page.getByLabel('Family name').fill('Hopper-Murray');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await eventually(async () => expect((await targetUser())?.name?.familyName).toBe('Hopper-Murray'));

    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('status').filter({ hasText: 'Deactivated.' }).waitFor();
    await page.getByRole('button', { name: 'Reactivate' }).waitFor();
    await eventually(async () => expect((await targetUser())?.active).toBe(false));
    // Two changes travel to the target and back: room for a loaded machine.
  }, 60_000);

  it('says plainly when the user changed meanwhile, rather than overwriting it', async () => {
    // Another operator (or the IdP) changes the user after this page read it.
    const patched = await scimClient(hub.scim).call('PATCH', `/Users/${userId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Admiral' }],
    });
    expect(patched.status).toBe(200);
    await page.getByLabel('Given name').fill('G.');
    await page.getByRole('button', { name: 'Save changes' }).click();
    // This alert only: a status from an earlier step may still be on the page.
    const conflict = page.getByRole('alert').filter({ hasText: 'changed since this page read it' });
    await conflict.waitFor();
    await conflict.getByRole('button', { name: 'Try again' }).click();
    await conflict.waitFor({ state: 'detached' });
    // The user read afresh: the edit that was refused is gone, and the form shows the stored name.
    await expect.poll(() => page.getByLabel('Given name').inputValue()).toBe('Grace');
  });

  it('creates a group and adds the user by userName; the target group gets the member', async () => {
    await page.goto(`${hub.url}/console/directory?type=groups&new=1`);
    await page.getByLabel('Group name').fill('Navy');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Group Navy' }).waitFor();
    await page.getByLabel('Add a member (user name or id)').fill(USER_NAME);
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.locator('ul.members li', { hasText: USER_NAME }).waitFor();
    expect(await page.locator('ul.members li').count()).toBe(1);
    await eventually(async () => {
      const group = (await target().get(`/Groups?filter=${encodeURIComponent('displayName eq "Navy"')}`)).json?.Resources?.[0];
      expect(group?.members?.map((m: { value: string }) => m.value)).toEqual([(await targetUser())?.id]);
    });
  });

  it('deletes the user after a confirmation and returns to the search', async () => {
    await page.goto(`${hub.url}/console/directory?id=${userId}`);
    await page.getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.locator('.notice', { hasText: `Deleted user ${USER_NAME}` }).waitFor();
    expect((await admin(`/directory/users/${userId}`)).status).toBe(404);
  });
});
