import { execSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/local/net.ts';
import { eventually } from '../../support/eventually.ts';
import { projectRoot } from '../../support/local-hub.ts';

const processesInGroup = (pgid: number): string[] => execSync(`pgrep -g ${pgid} -a || true`).toString().trim().split('\n').filter(Boolean);

describe('npm start', () => {
  it('answers /health, and Ctrl-C stops it leaving no child process behind', async () => {
    const port = await freePort();
    const connectors = join(tmpdir(), `start-stop-${port}.json`);
    writeFileSync(connectors, '{"connectors":[]}');
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), DATA_DIR: 'memory', CONNECTORS_FILE: connectors },
      stdio: 'ignore',
      detached: true,
    });
    const pgid = child.pid as number;
    await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        expect(response.status).toBe(200);
      },
      60_000,
      200,
    );
    // DynamoDB Local (java) runs in the hub's process group.
    expect(processesInGroup(pgid).some((line) => line.includes('java'))).toBe(true);

    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await eventually(() => expect(processesInGroup(pgid)).toEqual([]), 5_000, 100);
  }, 90_000);

  it('refuses a connectors document that is not valid, naming the field', async () => {
    const connectors = join(tmpdir(), `bad-connectors-${Date.now()}.json`);
    writeFileSync(connectors, JSON.stringify({ connectors: [{ id: 'acme', type: 'scim', baseUrl: 'nope', bearerToken: 't' }] }));
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(await freePort()), DATA_DIR: 'memory', CONNECTORS_FILE: connectors },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('connectors.0.baseUrl');
  }, 60_000);
});
