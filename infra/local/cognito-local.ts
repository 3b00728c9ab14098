import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { CognitoConnectorConfig } from '#shared/connectors/connectors.schema.ts';
import { localAwsConfig } from './local-aws.ts';
import { waitFor } from './net.ts';

export interface CognitoLocal {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the npm package cognito-local as a child process. It keeps its pools under
 * `<dir>/.cognito`; usernames are plain names rather than email aliases
 * (UserPoolDefaults.UsernameAttributes = []), as the hub's Cognito connector expects.
 */
export const startCognitoLocal = async (options: { port: number; dataDir?: string }): Promise<CognitoLocal> => {
  const require = createRequire(import.meta.url);
  const start = join(dirname(require.resolve('cognito-local/package.json')), 'lib', 'bin', 'start.js');
  const cwd = options.dataDir ? resolve(options.dataDir, 'cognito') : mkdtempSync(join(tmpdir(), 'cognito-local-'));
  mkdirSync(join(cwd, '.cognito'), { recursive: true });
  writeFileSync(join(cwd, '.cognito', 'config.json'), JSON.stringify({ UserPoolDefaults: { UsernameAttributes: [] } }, null, 2));
  const child: ChildProcess = spawn(process.execPath, [start], {
    cwd,
    env: { ...process.env, PORT: String(options.port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 8_000) output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint });
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`cognito-local exited: ${output}`);
      await client.send(new ListUserPoolsCommand({ MaxResults: 1 }));
    }, 30_000, 100);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`cognito-local did not start on port ${options.port}: ${output.slice(-1000)}`, { cause: error });
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
};

/** The id of the user pool named `name`, created when it does not exist yet. */
export const ensureUserPool = async (endpoint: string, name = 'demo'): Promise<string> => {
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
    if (!created.UserPool?.Id) throw new Error(`cognito-local created no pool ${name}`);
    return created.UserPool.Id;
  } finally {
    client.destroy();
  }
};

/** The connector `npm start` provisions into when no CONNECTORS_FILE is given. */
export const demoCognitoConnector = (endpoint: string, userPoolId: string): CognitoConnectorConfig => ({
  id: 'cognito-demo',
  type: 'cognito',
  enabled: true,
  userPoolId,
  region: localAwsConfig.region,
  endpoint,
  sendInvitation: false,
  deprovision: 'disable',
  scope: {},
  groups: { provision: true, mappings: [] },
  operations: { create: true, update: true, disable: true, delete: true },
  retry: { maxAttempts: 8 },
  breaker: { failureThreshold: 5, probeIntervalSeconds: 30 },
});
