import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../infra/local/net.ts';
import { processesInGroup } from '../test/support/processes.ts';

/**
 * How long `npm start` takes from launch to GET /health answering 200, and whether stopping it
 * with SIGTERM leaves any child process (java) behind. Median of three cold starts.
 */
const root = resolve(import.meta.dirname, '..');
const RUNS = 3;

const once = async (): Promise<{ upMs: number; stopMs: number; leftovers: number }> => {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DATA_DIR: 'memory', CONNECTORS_FILE: resolve(root, 'bench/fixtures/no-connectors.json') },
    stdio: 'ignore',
    detached: true,
  });
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 60_000) {
      // Its whole process group, java included: a failed run must not leave a hub behind.
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch (error) {
        // ESRCH: the group is gone already, which is what we wanted.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
      throw new Error('the hub did not come up within 60 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const upMs = performance.now() - started;
  const stopping = performance.now();
  await new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
  const stopMs = performance.now() - stopping;
  // Any process still in the hub's process group is a leak (java left running). A check that
  // cannot run fails the bench: it must never read as "nothing left behind".
  if (child.pid === undefined) throw new Error('the hub process has no pid: cannot check what it left behind');
  await new Promise((r) => setTimeout(r, 500));
  const left = processesInGroup(child.pid);
  if (process.env.BENCH_DEBUG) console.log(left.join('\n'));
  const leftovers = left.length;
  return { upMs, stopMs, leftovers };
};

export const runStartupBench = async (): Promise<void> => {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once());
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  console.log('\n## Local stack start-up (npm start, DATA_DIR=memory, no connectors)');
  console.log(`runs                     ${RUNS}`);
  console.log(
    `start to /health 200     median ${(median(runs.map((r) => r.upMs)) / 1000).toFixed(2)} s  (${runs.map((r) => (r.upMs / 1000).toFixed(2)).join(', ')})`,
  );
  console.log(`SIGTERM to exit          median ${(median(runs.map((r) => r.stopMs)) / 1000).toFixed(2)} s`);
  const leftBehind = runs.reduce((sum, r) => sum + r.leftovers, 0);
  console.log(`processes left behind    ${leftBehind}`);
  // A leak fails the run, so CI notices.
  if (leftBehind > 0) process.exitCode = 1;
};

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) await runStartupBench();
