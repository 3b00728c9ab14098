import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CognitoLocal, ensureDemoPool, startCognitoLocal } from '../../../infra/local/cognito-local.ts';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { freePort } from '../../../infra/local/net.ts';
import { CognitoConnector } from '../../../shared/connectors/cognito/cognito.connector.ts';
import { reconcileHarness } from '../../builders/reconcile.harness.ts';

/**
 * A reconciliation run with the Cognito connector against a real cognito-local: the run's ports
 * in memory, the pool drifted behind the hub's back with the AWS SDK.
 */
describe('a reconciliation run against a Cognito user pool (cognito-local)', () => {
  let cognito: CognitoLocal;
  let client: CognitoIdentityProviderClient;
  let userPoolId: string;
  let t: ReturnType<typeof reconcileHarness<CognitoConnector>>;
  const pool = async () => (await client.send(new ListUsersCommand({ UserPoolId: userPoolId }))).Users ?? [];
  const attributeOf = async (username: string, name: string) =>
    (await pool()).find((u) => u.Username === username)?.Attributes?.find((a) => a.Name === name)?.Value;

  beforeAll(async () => {
    // Prepare: three users and a group provisioned as real time does, then drift in the pool.
    cognito = await startCognitoLocal({ port: await freePort() });
    userPoolId = await ensureDemoPool(cognito.endpoint, 'reconcile-test');
    client = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint: cognito.endpoint });
    const connector = new CognitoConnector({ id: 'pool', userPoolId, sendInvitation: false }, client);
    t = reconcileHarness({ id: 'pool', type: 'cognito', userPoolId, region: 'us-east-1', endpoint: cognito.endpoint }, connector);
    for (const name of ['ada', 'bob', 'cy'])
      t.hub.user(name, { emails: [{ value: `${name}@example.com`, primary: true }], name: { givenName: name.toUpperCase(), familyName: 'Family' } });
    await t.provision('ada', 'bob', 'cy');
    t.hub.group('eng', 'engineering', ['ada', 'cy']);
    await t.provisionGroups('eng');
    await client.send(
      new AdminUpdateUserAttributesCommand({ UserPoolId: userPoolId, Username: 'ada', UserAttributes: [{ Name: 'given_name', Value: 'Changed' }] }),
    );
    await client.send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: 'bob' }));
    await client.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: 'stranger', MessageAction: 'SUPPRESS' }));
    await client.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: userPoolId, Username: 'cy', GroupName: 'engineering' }));
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await cognito?.stop();
  });

  it('plans every drift in a dry run and leaves the pool as it was', async () => {
    const before = JSON.stringify(await pool());

    const started = await t.reconciliation.start(t.config, { trigger: 'on-demand', dryRun: true });
    await t.runPages();

    const run = await t.runs.get(started.runId);
    expect(run?.counters.situations).toEqual({ inSync: 1, drifted: 1, gone: 1, orphan: 1 });
    expect(run?.counters.memberships).toEqual({ situations: { drifted: 1 }, actions: { add: 1 } });
    expect(JSON.stringify(await pool())).toBe(before);
    expect(t.lanes.queue.sends).toBe(0);
  });

  it('repairs the pool through the lane: the attribute, the deleted user and the group member', async () => {
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    await t.applyLane();

    expect((await t.runs.get(started.runId))?.state).toBe('done');
    expect(await attributeOf('ada', 'given_name')).toBe('ADA');
    expect(await attributeOf('bob', 'email')).toBe('bob@example.com');
    expect((await t.target.listGroupMembers('engineering', { pageSize: 60 })).items.sort()).toEqual(['ada', 'cy']);
    expect((await pool()).find((u) => u.Username === 'stranger')?.Enabled).toBe(true);
  });
});
