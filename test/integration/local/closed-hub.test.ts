import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/local/net.ts';
import { eventually } from '../../support/eventually.ts';
import { projectRoot } from '../../support/local-hub.ts';

/** Pids of every process in a process group. */
const processGroup = (pgid: number): number[] => execSync(`pgrep -g ${pgid} || true`).toString().trim().split('\n').filter(Boolean).map(Number);

/** The socket inodes a process holds open. */
const socketInodes = (pid: number): Set<string> => {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
};

/** `/proc/net/tcp` addresses are little-endian hex per 32-bit word. */
const decodeAddress = (hex: string): string => {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
};

/** Every listening TCP socket (state 0A) of the given pids: address, port and owner. */
const listeningSockets = (pids: number[]): Array<{ pid: number; address: string; port: number }> => {
  const owners = new Map<string, number>();
  for (const pid of pids) for (const inode of socketInodes(pid)) owners.set(inode, pid);
  const found: Array<{ pid: number; address: string; port: number }> = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [address = '', port = '0'] = (fields[1] ?? '').split(':');
      const pid = owners.get(fields[9] ?? '');
      if (fields[3] === '0A' && pid !== undefined) found.push({ pid, address: decodeAddress(address), port: Number.parseInt(port, 16) });
    }
  }
  return found;
};

const LOOPBACK = new Set(['127.0.0.1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']);

/** Lines a user can do nothing about, which must not reach the terminal. */
const NOISE = [/NodeVersionSupportWarning/, /correlationIdPath/, /differs from SQSClient/, /Warning:/, /trace-warnings/, /MaintenanceMode/i];

describe('npm start, closed to the network and quiet', () => {
  let child: ChildProcess;
  let port: number;
  let dataDir: string;
  let stdout = '';
  let stderr = '';
  const scimToken = 'closed-hub-scim-token-0123456789';
  const adminToken = 'closed-hub-admin-token-0123456789';
  const base = () => `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), 'closed-hub-'));
    // No CONNECTORS_FILE: the default demo, so cognito-local runs too and every port is open.
    child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        DATA_DIR: dataDir,
        COGNITO_LOCAL_PORT: String(await freePort()),
        SCIM_BEARER_TOKEN: scimToken,
        ADMIN_TOKEN: adminToken,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`npm start exited: ${stderr}`);
        expect(stdout).toContain('Ctrl-C stops everything');
        const response = await fetch(`${base()}/health`);
        expect(response.status).toBe(200);
      },
      120_000,
      250,
    );
  }, 150_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGINT');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('listens on 127.0.0.1 only, in every process it starts (hub, fauxqs, cognito-local, DynamoDB Local)', () => {
    const pids = processGroup(child.pid as number);
    const sockets = listeningSockets(pids);
    const commands = new Set(
      pids.map((pid) =>
        execFileSync('ps', ['-o', 'comm=', '-p', String(pid)])
          .toString()
          .trim(),
      ),
    );
    expect(commands).toContain('java');
    // The hub's port, fauxqs, cognito-local and DynamoDB Local: at least four listeners.
    expect(sockets.length).toBeGreaterThanOrEqual(4);
    expect(sockets.map((s) => s.port)).toContain(port);
    expect(sockets.filter((s) => !LOOPBACK.has(s.address))).toEqual([]);
  });

  it('takes the SCIM token from SCIM_BEARER_TOKEN stored hashed, never in clear, and refuses others', async () => {
    const ok = await fetch(`${base()}/scim/v2/Users`, { headers: { authorization: `Bearer ${scimToken}` } });
    expect(ok.status).toBe(200);
    const refused = await fetch(`${base()}/scim/v2/Users`, { headers: { authorization: 'Bearer not-the-token-0123456789' } });
    expect(refused.status).toBe(401);
    const tokens = execFileSync(process.execPath, ['--import', 'tsx', 'infra/cli/tokens.cli.ts', 'list'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir },
    }).toString();
    expect(tokens).toContain('SCIM_BEARER_TOKEN (npm start)');
    expect(tokens).not.toContain(scimToken);
  });

  it('keeps /admin behind the operator token and refuses cross-site requests', async () => {
    const call = (headers: Record<string, string>) => fetch(`${base()}/admin/connectors`, { headers });
    expect((await call({})).status).toBe(401);
    expect((await call({ authorization: `Bearer ${scimToken}` })).status).toBe(403);
    expect((await call({ authorization: `Bearer ${adminToken}`, origin: 'https://evil.example' })).status).toBe(403);
    expect((await call({ authorization: `Bearer ${adminToken}`, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await call({ authorization: `Bearer ${adminToken}`, 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await call({ origin: 'https://evil.example' })).status).toBe(403);
    const same = await call({ authorization: `Bearer ${adminToken}`, origin: `http://localhost:${port}`, 'sec-fetch-site': 'same-origin' });
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({ connectors: [{ id: 'cognito-demo', breaker: { state: 'closed' }, deadLetters: 0 }] });
  });

  it('serves the console, built at start, without a token and under a policy that allows only its own scripts', async () => {
    const page = await fetch(`${base()}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="(\/console\/assets\/app-[^"]+\.js)"/.exec(await page.text())?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${base()}${script}`)).headers.get('content-type')).toContain('javascript');
    expect(stdout).toContain(`localhost:${port}/console/`);
  });

  it('leaves its endpoints and operator token for the CLI in an owner-only file, and the CLI uses them', () => {
    const file = join(dataDir, 'local-endpoints.json');
    expect(statSync(file).mode & 0o077).toBe(0);
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'infra/cli/operations.cli.ts', 'dlq', 'cognito-demo'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir },
    }).toString();
    expect(out).toContain('cognito-demo: 0 dead-lettered message(s)');
  }, 60_000);

  it('prints the banner and nothing a user cannot act on, through requests that reach every part', async () => {
    // A user through SCIM, the stream, the fan-out, SQS and the worker into cognito-local.
    const created = await fetch(`${base()}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'quiet.ada',
        emails: [{ value: 'ada@example.com', primary: true }],
      }),
    });
    expect(created.status).toBe(201);
    await eventually(
      async () => {
        const audit = await fetch(`${base()}/admin/audit?connector=cognito-demo`, { headers: { authorization: `Bearer ${adminToken}` } });
        const body = (await audit.json()) as { items: Array<{ status: string; name?: string }> };
        expect(body.items.some((item) => item.name === 'quiet.ada' && item.status === 'success')).toBe(true);
      },
      60_000,
      250,
    );
    await fetch(`${base()}/scim/v2/Users?filter=${encodeURIComponent('userName eq "quiet.ada"')}`, { headers: { authorization: `Bearer ${scimToken}` } });
    await fetch(`${base()}/scim/v2/Users/unknown-id`, { headers: { authorization: `Bearer ${scimToken}` } });

    for (const pattern of NOISE) {
      expect(stderr).not.toMatch(pattern);
      expect(stdout).not.toMatch(pattern);
    }
    expect(stderr.trim()).toBe('');
    expect(stdout).toContain(`admin token     ${adminToken}`);
  }, 90_000);
});
