import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../infra/local/net.ts';
import { projectRoot } from './local-hub.ts';

/**
 * A second, separate hub started as `npm start` starts it (its own DynamoDB Local, in memory,
 * no connectors): a real SCIM server for the hub under test to provision into.
 *
 * It listens on a port its own listen chose (`PORT=0`), read back from its start-up banner. A
 * port picked here and handed over would be free only until the child binds it, seconds later;
 * meanwhile another hub of the run can take it, and the health check would then pass against
 * that hub instead of this one.
 */
export const startHubProcess = async (token: string) => {
  const connectorsFile = join(tmpdir(), `no-connectors-${process.pid}-${randomUUID()}.json`);
  writeFileSync(connectorsFile, JSON.stringify({ connectors: [] }));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', DATA_DIR: 'memory', CONNECTORS_FILE: connectorsFile, SCIM_BEARER_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let url = '';
  let stopping = false;
  // A target that dies mid-test shows up as refused connections: say why it died.
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`target hub exited (code ${code}, signal ${signal}):\n${output.slice(-4000)}`);
  });
  /** SIGTERM, so the hub stops its own DynamoDB Local (java); SIGKILL only if it does not exit within 10 s. */
  const stop = () =>
    new Promise<void>((done) => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(force);
        done();
      });
      child.kill('SIGTERM');
    });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`target hub exited: ${output}`);
        // The banner's health line: `  health          http://127.0.0.1:<port>/health`.
        const health = /^\s*health\s+(http:\/\/127\.0\.0\.1:\d+)\/health$/m.exec(output);
        if (!health) throw new Error('no start-up banner yet');
        url = health[1] as string;
        const response = await fetch(`${url}/health`);
        if (response.status !== 200) throw new Error(`health ${response.status}`);
      },
      60_000,
      250,
    );
  } catch (error) {
    await stop();
    throw new Error(`target hub did not start: ${output.slice(-2000)}`, { cause: error });
  }
  return {
    url,
    scim: `${url}/scim/v2`,
    stop,
  };
};
