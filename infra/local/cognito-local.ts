import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CognitoIdentityProviderClient, CreateUserPoolCommand, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { type CognitoConnectorConfig, CognitoConnectorSchema } from '#shared/connectors/connectors.schema.ts';
import { localAwsConfig } from './local-aws.ts';

export interface CognitoLocal {
  /** `http://127.0.0.1:<port>`: the endpoint override for the Cognito client. */
  endpoint: string;
  /** Its working directory: `.cognito/config.json` and the pools in `.cognito/db`. */
  directory: string;
  /** The process id of cognito-local (it starts no processes of its own). */
  pid: number;
  /** Stops cognito-local and waits for its process to exit (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export interface CognitoLocalOptions {
  port: number;
  /**
   * Where its pools live (`<dataDir>/cognito/.cognito`), kept across restarts. Without one, a
   * temporary directory that stop() removes.
   */
  dataDir?: string;
  /** How long to wait for it to answer. About 1 s on a laptop; the default leaves room for a slow CI machine. */
  startTimeoutMs?: number;
}

const OUTPUT_TAIL = 4_000;

/** The entry point of the npm package's bin, found through its package.json (`"bin": "lib/bin/start.js"`). */
const locateStartScript = (): string => {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('cognito-local/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.['cognito-local'];
  if (!bin) throw new Error(`cognito-local's package.json names no bin (${manifestPath})`);
  return join(dirname(manifestPath), bin);
};

/**
 * cognito-local reads `.cognito/config.json` in its working directory. Its built-in default
 * makes every new pool use email addresses as usernames (UserPoolDefaults.UsernameAttributes
 * ["email"]), and it merges a CreateUserPool request into that default index by index, so an
 * explicit empty list in the request does not help: only the config can say "plain usernames".
 * Other settings already in the file are kept.
 */
const writeConfig = (workDir: string): void => {
  const configDir = join(workDir, '.cognito');
  mkdirSync(configDir, { recursive: true });
  const path = join(configDir, 'config.json');
  let config: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) config = parsed as Record<string, unknown>;
    } catch {
      // An unreadable config is replaced by ours.
    }
  }
  const defaults = config.UserPoolDefaults && typeof config.UserPoolDefaults === 'object' ? (config.UserPoolDefaults as Record<string, unknown>) : {};
  config.UserPoolDefaults = { ...defaults, UsernameAttributes: [] };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
};

/** Fails at once, with a clear message, when something else already listens on the port. */
const assertPortFree = (port: number): Promise<void> =>
  new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use (another cognito-local?): stop it or set COGNITO_LOCAL_PORT`) : error),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });

/**
 * Runs cognito-local's own start script in a Node that exits when the IPC channel to us closes,
 * so a parent that dies without calling stop() (SIGKILL, a crashed test worker) leaves no
 * orphan. cognito-local starts no processes of its own (its logger writes in-process), so
 * stopping this one process stops everything.
 */
const LAUNCHER = `process.on('disconnect', () => process.exit(0)); require(process.env.COGNITO_LOCAL_START);`;

/**
 * cognito-local 5.x loads ES-only packages (otplib 13 pulls in @scure/base) with require(),
 * which Node runs without a flag from 20.19 and 22.12 on. Older Nodes fail with ERR_REQUIRE_ESM.
 */
export const nodeRunsCognitoLocal = (version = process.versions.node): boolean => {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
};

/**
 * Starts the npm package cognito-local (an emulator of the Cognito user pools API) as a child
 * process on 127.0.0.1:`port`, with plain usernames (see writeConfig), and waits until it
 * answers ListUserPools.
 */
export const startCognitoLocal = async (options: CognitoLocalOptions): Promise<CognitoLocal> => {
  if (!nodeRunsCognitoLocal()) {
    throw new Error(`cognito-local needs Node 20.19+ or 22.12+ (it require()s ES modules); this is Node ${process.versions.node}`);
  }
  const start = locateStartScript();
  await assertPortFree(options.port);
  const temporary = options.dataDir === undefined;
  const workDir = options.dataDir ? resolve(options.dataDir, 'cognito') : mkdtempSync(join(tmpdir(), 'cognito-local-'));
  mkdirSync(workDir, { recursive: true });
  writeConfig(workDir);

  const child: ChildProcess = spawn(process.execPath, ['-e', LAUNCHER], {
    cwd: workDir,
    env: {
      ...process.env,
      COGNITO_LOCAL_START: start,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      // cognito-local uses the AWS SDK v2 for Lambda triggers; its end-of-support notice is noise here.
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Keep reading (a full pipe would block its logger) but remember only the tail, for errors.
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', () => done());
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(force);
      }
      if (temporary) rmSync(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  // Polled here rather than with net.ts waitFor, so the polling ends the moment the child dies.
  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint, maxAttempts: 1 });
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (spawnError) throw spawnError;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`cognito-local exited (code ${child.exitCode}, signal ${child.signalCode})`);
      try {
        await client.send(new ListUserPoolsCommand({ MaxResults: 1 }));
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (error) {
    await stop();
    throw new Error(`cognito-local did not start on port ${options.port}: ${output.trim().slice(-1_000)}`, { cause: error });
  } finally {
    client.destroy();
  }
  return { endpoint, directory: workDir, pid: child.pid ?? 0, stop };
};

/**
 * The id of the user pool called `name`, created when there is none yet. Usernames are plain
 * names (no UsernameAttributes), as the Cognito connector expects.
 */
export const ensureDemoPool = async (endpoint: string, name = 'demo'): Promise<string> => {
  const client = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint });
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListUserPoolsCommand({ MaxResults: 60, NextToken: token }));
      const found = page.UserPools?.find((pool) => pool.Name === name);
      if (found?.Id) return found.Id;
      token = page.NextToken;
    } while (token);
    const created = await client.send(new CreateUserPoolCommand({ PoolName: name }));
    if (!created.UserPool?.Id) throw new Error(`cognito-local answered CreateUserPool ${name} without a pool id`);
    return created.UserPool.Id;
  } finally {
    client.destroy();
  }
};

/** @deprecated The earlier name of ensureDemoPool, still used by infra/local/main.ts. */
export const ensureUserPool = ensureDemoPool;

/**
 * The connector `npm start` provisions into when no CONNECTORS_FILE is given: the `demo` pool
 * on cognito-local, with the mapping written out so the generated document shows it.
 */
export const demoCognitoConnector = (endpoint: string, userPoolId: string): CognitoConnectorConfig =>
  CognitoConnectorSchema.parse({
    id: 'cognito-demo',
    type: 'cognito',
    userPoolId,
    region: localAwsConfig.region,
    endpoint,
    sendInvitation: false,
    deprovision: 'disable',
    mapping: [
      { target: 'username', source: 'userName' },
      { target: 'email', source: 'emails[primary eq true].value' },
      { target: 'given_name', source: 'name.givenName' },
      { target: 'family_name', source: 'name.familyName' },
      { target: 'active', source: 'active' },
    ],
    matching: ['username', 'email'],
  });
