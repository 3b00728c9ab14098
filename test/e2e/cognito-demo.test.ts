import { type ChildProcess, spawn } from 'node:child_process';
import { AdminGetUserCommand, CognitoIdentityProviderClient, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import { freePort } from '../../infra/local/net.ts';
import { eventually } from '../support/eventually.ts';
import { projectRoot, scimClient } from '../support/local-hub.ts';

/**
 * The default `npm start`: no CONNECTORS_FILE, so the hub starts cognito-local with a `demo`
 * user pool and provisions into it. An IdP's SCIM create shows up in the pool seconds later.
 */
describe('npm start without a connectors document', () => {
  const token = 'demo-token-0123456789';
  let child: ChildProcess;
  let port: number;
  let cognito: CognitoIdentityProviderClient;
  let poolId: string;

  beforeAll(async () => {
    port = await freePort();
    const cognitoPort = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        DATA_DIR: 'memory',
        SCIM_BEARER_TOKEN: token,
        COGNITO_LOCAL_PORT: String(cognitoPort),
      },
      stdio: 'ignore',
      detached: true,
    });
    await eventually(
      async () => {
        const health = await fetch(`http://127.0.0.1:${port}/health`);
        const body = (await health.json()) as { parts: Record<string, string> };
        expect(body.parts.cognito).toBe('ok');
      },
      60_000,
      200,
    );
    cognito = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint: `http://127.0.0.1:${cognitoPort}` });
    const pools = await cognito.send(new ListUserPoolsCommand({ MaxResults: 10 }));
    poolId = pools.UserPools?.find((pool) => pool.Name === 'demo')?.Id ?? '';
  }, 90_000);

  afterAll(async () => {
    cognito?.destroy();
    if (child && child.exitCode === null) {
      await new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    }
  });

  it('puts a user created over SCIM into the demo pool, and disables it there', async () => {
    expect(poolId).not.toBe('');
    const scim = scimClient(`http://127.0.0.1:${port}/scim/v2`, token);
    const started = Date.now();
    const created = await scim.post('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'grace',
      name: { givenName: 'Grace', familyName: 'Hopper' },
      emails: [{ value: 'grace@example.com', primary: true }],
    });
    expect(created.status).toBe(201);
    const user = await eventually(() => cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'grace' })), 10_000, 100);
    const elapsed = Date.now() - started;
    expect(user.Enabled).toBe(true);
    expect(user.UserAttributes).toEqual(
      expect.arrayContaining([
        { Name: 'email', Value: 'grace@example.com' },
        { Name: 'given_name', Value: 'Grace' },
      ]),
    );
    expect(elapsed).toBeLessThan(10_000);

    await scim.patch(`/Users/${created.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    await eventually(
      async () => {
        expect((await cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'grace' }))).Enabled).toBe(false);
      },
      10_000,
      100,
    );
  });
});
