import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSalesforceConnector } from '../shared/connectors/salesforce/salesforce.connector.ts';
import { SalesforceConnectorSchema } from '../shared/connectors/salesforce/salesforce.schema.ts';
import { salesforceEntryFor, startSalesforceFake } from '../test/support/fakes/salesforce-fake.ts';
import { buildBundle } from './support/bundle.ts';
import { percentile } from './support/percentile.ts';

/**
 * `npm run bench -- salesforce [N]`: Salesforce API calls (what the org's daily allocation
 * counts) that the connector spends on N users created and on N role changes of each kind,
 * counted by the fake org, next to what one record per call would cost; and the connector's
 * own share of a bundle: its minified size and cold import time in a fresh Node process.
 * Aim (issue 14): role changes in collections of up to 200.
 */
const root = resolve(import.meta.dirname, '..');
const N = Number(process.argv[2] ?? 1000);
/** Developer Edition's allocation, the smallest an org has. */
const DEVELOPER_EDITION_DAILY = 15_000;

const run = async () => {
  const org = await startSalesforceFake({ dailyLimit: 10_000_000, licences: N * 2 });
  try {
    const config = SalesforceConnectorSchema.parse(salesforceEntryFor(org, { id: 'bench' }));
    const sf = createSalesforceConnector(config);
    const rows: [string, number, number][] = [];
    const measure = async (label: string, naive: number, work: () => Promise<unknown>) => {
      org.resetCalls();
      await work();
      rows.push([label, org.apiCalls(), naive]);
    };

    const ids: string[] = [];
    await measure(`create ${N} users`, N, async () => {
      for (let i = 0; i < N; i++) {
        const account = await sf.createUser({
          Username: `u${i}@example.com`,
          Email: `u${i}@example.com`,
          FirstName: 'Bench',
          LastName: `User ${i}`,
          active: true,
        });
        ids.push(account.id);
      }
    });
    const permissionSet = org.idOf('PermissionSet', 'Sales_Ops');
    await measure(`assign a permission set to ${N}`, N, () => sf.changeGroupMembers(permissionSet, { add: ids, remove: [] }));
    // One query per member to find its assignment, then one deletion each.
    await measure(`unassign it from ${N}`, 2 * N, () => sf.changeGroupMembers(permissionSet, { add: [], remove: ids }));
    const group = await sf.createGroup('Bench Everyone', 'bench-group');
    await measure(`add ${N} to a public group`, N, () => sf.changeGroupMembers(group.id, { add: ids, remove: [] }));
    await measure(`remove ${N} from it`, 2 * N, () => sf.changeGroupMembers(group.id, { add: [], remove: ids }));
    const role = org.idOf('UserRole', 'Sales_Manager');
    await measure(`give ${N} a role`, N, () => sf.changeGroupMembers(role, { add: ids, remove: [] }));

    console.log(`Salesforce connector on the fake org: API calls counted against the daily allocation`);
    console.log('| work | calls | one record per call | ratio | share of a Developer Edition day (15 000) |');
    console.log('|---|---:|---:|---:|---:|');
    for (const [label, calls, naive] of rows) {
      console.log(
        `| ${label} | ${calls} | ${naive} | ${(naive / Math.max(1, calls)).toFixed(0)}x | ${((100 * calls) / DEVELOPER_EDITION_DAILY).toFixed(2)}% |`,
      );
    }
    const roleCalls = rows.slice(1).reduce((sum, [, calls]) => sum + calls, 0);
    const roleChanges = 5 * N;
    console.log(
      `role changes: ${roleChanges} in ${roleCalls} calls, ${(roleChanges / roleCalls).toFixed(0)} changes per call (collections of 200, five per composite request)`,
    );
  } finally {
    await org.close();
  }

  const work = mkdtempSync(join(tmpdir(), 'sf-bench-'));
  try {
    // The connector against what every connector-calling function loads anyway (the connectors
    // document and secret sources, with their SSM and Secrets Manager clients): the difference
    // is what the Salesforce connector adds to the worker.
    const measureModule = async (name: string, contents: string) => {
      const bundle = await buildBundle({ contents, resolveDir: root }, join(work, name));
      const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle.file).href)}); process.stdout.write(String(performance.now() - t));`;
      const imports = Array.from({ length: 5 }, () => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })));
      return { kb: bundle.startKb, ms: percentile(imports, 50) };
    };
    const base = await measureModule('source', "export { secretSourceOf } from './shared/connectors/connectors.source.ts';");
    const connector = await measureModule('salesforce', "export { createSalesforceConnector } from './shared/connectors/salesforce/salesforce.connector.ts';");
    console.log(
      `connector bundle: ${connector.kb.toFixed(0)} KB minified, of which ${(connector.kb - base.kb).toFixed(1)} KB are the Salesforce connector and its client ` +
        `(the rest is the secret source every connector loads); cold import ${connector.ms.toFixed(0)} ms against ${base.ms.toFixed(0)} ms for the secret source alone (medians of 5, a loaded machine varies)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};

await run();
