import { formatTable, measureBundles } from './bundles.bench.ts';
import { runProvisioningBench } from './provisioning.bench.ts';
import { runScimBench } from './scim.bench.ts';
import { runStartupBench } from './startup.bench.ts';

/**
 * `npm run bench`: every benchmark, each printing its own figures. Ratios and capacity units
 * are what to compare between runs; absolute times vary with the machine's load.
 */
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

if (wanted('startup')) await runStartupBench();
if (wanted('bundles')) {
  console.log('\n## Function bundles (esbuild as the stack bundles them; import in a fresh Node process)');
  console.log(formatTable(await measureBundles()));
}
if (wanted('scim')) await runScimBench();
if (wanted('provisioning')) await runProvisioningBench();
