import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../../infra/local/net.ts';
import { projectRoot } from './local-hub.ts';

/**
 * A second, separate hub started as `npm start` starts it (its own DynamoDB Local, in memory,
 * no connectors): a real SCIM server for the hub under test to provision into.
 */
export const startHubProcess = async (token: string) => {
  const port = await freePort();
  const connectorsFile = join(tmpdir(), `no-connectors-${port}.json`);
  writeFileSync(connectorsFile, JSON.stringify({ connectors: [] }));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), DATA_DIR: 'memory', CONNECTORS_FILE: connectorsFile, SCIM_BEARER_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  /** SIGTERM, so the hub stops its own DynamoDB Local (java); SIGKILL only if it does not exit within 10 s. */
  const stop = () =>
    new Promise<void>((done) => {
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
