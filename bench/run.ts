import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * `npm run bench`: every benchmark, each in a process of its own (handler modules read their
 * environment once, at load, as in Lambda, so two hubs cannot share a process), each printing
 * its own figures. Compare ratios and capacity units between runs; absolute times vary with
 * the machine's load. `npm run bench -- scim provisioning` runs a subset.
 */
const benches = [
  'startup',
  'bundles',
  'scim',
  'partitions',
  'provisioning',
  'cognito-load',
  'on-demand',
  'reconcile',
  'cost',
  'okta',
  'entra',
  'salesforce',
  'console-bundle',
  'audit-log',
  'import',
];
const only = process.argv.slice(2);
let failed = 0;
for (const name of benches.filter((bench) => only.length === 0 || only.includes(bench))) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, `${name}.bench.ts`)], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.error(`bench ${name} failed (exit ${run.status})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
