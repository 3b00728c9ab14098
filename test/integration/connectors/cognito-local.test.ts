import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AdminCreateUserCommand, CognitoIdentityProviderClient, DescribeUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CognitoLocal, ensureDemoPool, startCognitoLocal } from '../../../infra/local/cognito-local.ts';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { freePort, waitFor } from '../../../infra/local/net.ts';

/** Alive and not a zombie (an orphan's zombie lingers until whatever adopted it reaps it). */
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
};

/** The local stand-in itself: its configuration, its lifetime and its data across restarts. */
describe('startCognitoLocal', () => {
  let dataDir: string;
  let port: number;
  let cognito: CognitoLocal | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cognito-local-test-'));
    // An operator's own setting in the config file must survive our rewrite of it.
    mkdirSync(join(dataDir, 'cognito', '.cognito'), { recursive: true });
    writeFileSync(
      join(dataDir, 'cognito', '.cognito', 'config.json'),
      JSON.stringify({ TokenConfig: { IssuerDomain: 'http://issuer.test' }, UserPoolDefaults: { MfaConfiguration: 'OFF' } }),
    );
    port = await freePort();
    cognito = await startCognitoLocal({ port, dataDir });
  });

  afterAll(async () => {
    await cognito?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs in <dataDir>/cognito with plain usernames configured, keeping the other settings', () => {
    expect(cognito?.endpoint).toBe(`http://127.0.0.1:${port}`);
    expect(cognito?.directory).toBe(resolve(dataDir, 'cognito'));
    expect(JSON.parse(readFileSync(join(dataDir, 'cognito', '.cognito', 'config.json'), 'utf8'))).toEqual({
      TokenConfig: { IssuerDomain: 'http://issuer.test' },
      UserPoolDefaults: { MfaConfiguration: 'OFF', UsernameAttributes: [] },
    });
  });

  it('makes pools whose usernames are plain names, not email addresses', async () => {
    const endpoint = cognito?.endpoint ?? '';
    const pool = await ensureDemoPool(endpoint, 'plain-usernames');
    const client = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint });
    try {
      // With cognito-local's own default (UsernameAttributes ["email"]) this is refused: "Username should be an email."
      const created = await client.send(new AdminCreateUserCommand({ UserPoolId: pool, Username: 'ada', MessageAction: 'SUPPRESS' }));
      const described = await client.send(new DescribeUserPoolCommand({ UserPoolId: pool }));

      expect(created.User?.Username).toBe('ada');
      expect(described.UserPool?.UsernameAttributes ?? []).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('refuses at once a port that something already listens on', async () => {
    const started = Date.now();

    await expect(startCognitoLocal({ port, dataDir: join(dataDir, 'busy') })).rejects.toThrow(`port ${port} is in use`);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('reports a cognito-local that dies while starting with its own output, without waiting for the timeout', async () => {
    // A file where cognito-local wants its database directory: it logs EEXIST and exits.
    const broken = join(dataDir, 'broken');
    mkdirSync(join(broken, 'cognito', '.cognito'), { recursive: true });
    writeFileSync(join(broken, 'cognito', '.cognito', 'db'), 'not a directory');
    const started = Date.now();

    const error = await startCognitoLocal({ port: await freePort(), dataDir: broken, startTimeoutMs: 20_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^cognito-local did not start on port \d+: .*EEXIST/s);
    expect(String((error as Error).cause)).toContain('cognito-local exited (code 1');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('stops its process, frees the port, and finds its pools again after a restart', async () => {
    const first = cognito as CognitoLocal;
    const pool = await ensureDemoPool(first.endpoint, 'kept');

    await first.stop();
    await first.stop();

    expect(isRunning(first.pid)).toBe(false);
    cognito = await startCognitoLocal({ port, dataDir });
    expect(cognito.pid).not.toBe(first.pid);
    expect(await ensureDemoPool(cognito.endpoint, 'kept')).toBe(pool);
  });

  it('removes its temporary directory on stop when given no dataDir', async () => {
    const temporary = await startCognitoLocal({ port: await freePort() });
    expect(existsSync(join(temporary.directory, '.cognito', 'config.json'))).toBe(true);

    await temporary.stop();

    expect(existsSync(temporary.directory)).toBe(false);
    expect(isRunning(temporary.pid)).toBe(false);
  });

  it('exits by itself when the process that started it dies without stopping it', async () => {
    // An ES module of its own (.mts): a parent that starts cognito-local, prints its pid and idles.
    const script = join(dataDir, 'parent.mts');
    writeFileSync(
      script,
      `import { startCognitoLocal } from ${JSON.stringify(resolve('infra/local/cognito-local.ts'))};\n` +
        `const cognito = await startCognitoLocal({ port: ${await freePort()}, dataDir: ${JSON.stringify(join(dataDir, 'orphan'))} });\n` +
        "console.log('pid=' + cognito.pid);\nsetInterval(() => undefined, 1_000);\n",
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: resolve('.'), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    parent.stdout.on('data', collect);
    parent.stderr.on('data', collect);
    const parentExited = new Promise<never>((_, reject) => parent.once('exit', (code) => reject(new Error(`the parent exited early (${code}): ${output}`))));
    parentExited.catch(() => undefined);
    try {
      await Promise.race([
        parentExited,
        waitFor(async () => {
          if (!/pid=\d+/.test(output)) throw new Error(`no pid yet: ${output}`);
        }, 20_000),
      ]);
      const childPid = Number(/pid=(\d+)/.exec(output)?.[1]);
      expect(isRunning(childPid)).toBe(true);

      parent.kill('SIGKILL');

      await waitFor(
        async () => {
          if (isRunning(childPid)) throw new Error(`cognito-local ${childPid} still runs`);
        },
        5_000,
        50,
      );
      expect(isRunning(childPid)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
