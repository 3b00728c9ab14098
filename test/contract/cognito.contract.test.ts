import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ListUsersInGroupCommand,
  TooManyRequestsException,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { ensureDemoPool, startCognitoLocal } from '../../infra/local/cognito-local.ts';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import { freePort } from '../../infra/local/net.ts';
import { CognitoConnector } from '../../shared/connectors/cognito/cognito.connector.ts';
import { createConnector } from '../../shared/connectors/connector.factory.ts';
import { CognitoConnectorSchema } from '../../shared/connectors/connectors.schema.ts';
import { withResilience } from '../../shared/connectors/resilience/resilient.connector.ts';
import { connectorContract } from './connector.contract.ts';

// The connector builds its own client from the document entry, with the default credential
// chain: the environment, as in Lambda. cognito-local checks no signature.
vi.stubEnv('AWS_ACCESS_KEY_ID', localAwsConfig.credentials.accessKeyId);
vi.stubEnv('AWS_SECRET_ACCESS_KEY', localAwsConfig.credentials.secretAccessKey);

/**
 * The Cognito connector, built from its document entry, against cognito-local. cognito-local
 * never throttles, so the throttled case runs the same connector class on an SDK client mocked
 * with aws-sdk-client-mock to answer TooManyRequestsException, as Cognito does over its quotas.
 */
connectorContract({
  name: 'cognito on cognito-local',
  start: async () => {
    const cognito = await startCognitoLocal({ port: await freePort() });
    const userPoolId = await ensureDemoPool(cognito.endpoint, 'contract');
    const client = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint: cognito.endpoint });
    const config = CognitoConnectorSchema.parse({
      id: 'contract-cognito',
      type: 'cognito',
      userPoolId,
      region: localAwsConfig.region,
      endpoint: cognito.endpoint,
    });
    const throttlingClient = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint: 'http://127.0.0.1:9' });
    const throttling = mockClient(throttlingClient);
    throttling.onAnyCommand().rejects(new TooManyRequestsException({ message: 'Too many requests', $metadata: { httpStatusCode: 400 } }));
    return {
      connector: await createConnector(config),
      newUser: (tag) => ({ username: `contract-${tag}`, email: `${tag}@example.com`, given_name: 'Ada', family_name: 'Lovelace', active: true }),
      matchOn: { attribute: 'username', valueOf: (tag) => `contract-${tag}` },
      updatable: { attribute: 'given_name', value: 'Augusta' },
      readUser: async (id) => {
        try {
          const user = await client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: id }));
          return {
            active: user.Enabled === true,
            attributes: { username: user.Username, ...Object.fromEntries((user.UserAttributes ?? []).map((a) => [a.Name, a.Value])) },
          };
        } catch (error) {
          if (error instanceof UserNotFoundException) return undefined;
          throw error;
        }
      },
      groupMembers: async (id) =>
        ((await client.send(new ListUsersInGroupCommand({ UserPoolId: userPoolId, GroupName: id }))).Users ?? []).map((u) => String(u.Username)).sort(),
      throttled: async () => ({
        connector: withResilience(new CognitoConnector(config, throttlingClient), { sleep: async () => undefined }),
        how: 'aws-sdk-client-mock answering TooManyRequestsException (cognito-local never throttles)',
        retryAfterMs: undefined,
      }),
      peerDeviations: {
        'list-page-size':
          'cognito-local ignores Limit and pagination tokens and answers every item at once: test/unit/connectors/cognito-listing.test.ts pages through a mocked client',
        'update-not-found':
          'cognito-local answers AdminUpdateUserAttributes for a missing user with NotAuthorizedException, Cognito with UserNotFoundException: test/unit/connectors/cognito.connector.test.ts covers the real answer',
      },
      stop: async () => {
        throttling.restore();
        throttlingClient.destroy();
        client.destroy();
        await cognito.stop();
      },
    };
  },
});
