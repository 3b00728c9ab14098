import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeAuthorizer } from '../../../functions/scim-authorizer/authorizer.ts';
import { hashToken } from '../../../shared/auth/bearer-token.ts';
import type { TokenRecord } from '../../../shared/store/token.repository.ts';

const TOKEN = 'a-token-of-at-least-sixteen-characters';
const ARN = 'arn:aws:execute-api:us-east-1:123456789012:api1234/prod/GET/scim/v2/Users';

const stored = (overrides: Partial<TokenRecord> = {}): TokenRecord => ({
  id: 'tok-1',
  hash: hashToken(TOKEN),
  name: 'entra',
  created: '2026-01-01T00:00:00.000Z',
  strictUnknownAttributes: false,
  ...overrides,
});

const eventWith = (headers: Record<string, string>): APIGatewayRequestAuthorizerEvent =>
  ({ type: 'REQUEST', methodArn: ARN, headers }) as unknown as APIGatewayRequestAuthorizerEvent;

/** The authorizer on an in-memory token table: only stored, unrevoked tokens pass. */
const authorizerWith = (tokens: TokenRecord[]) => {
  const lookups: string[] = [];
  const authorize = makeAuthorizer({
    findToken: async (hash) => {
      lookups.push(hash);
      return tokens.find((token) => token.hash === hash);
    },
  });
  return { authorize, lookups };
};

describe('the SCIM authorizer', () => {
  it('allows a stored token on every route of the stage, and passes its settings on', async () => {
    // Prepare
    const { authorize, lookups } = authorizerWith([stored({ strictUnknownAttributes: true })]);
    // Act
    const result = await authorize(eventWith({ Authorization: `Bearer ${TOKEN}` }));
    // Assess: API Gateway caches one answer per token for every route, so the policy covers the stage
    expect(result).toEqual({
      principalId: 'tok-1',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:123456789012:api1234/prod/*' }],
      },
      context: { tokenId: 'tok-1', strictUnknownAttributes: true },
    });
    expect(lookups).toEqual([hashToken(TOKEN)]);
  });

  it('reads the header whatever its case', async () => {
    const { authorize } = authorizerWith([stored()]);
    await expect(authorize(eventWith({ authorization: `Bearer ${TOKEN}` }))).resolves.toMatchObject({ principalId: 'tok-1' });
  });

  it.each([
    ['no Authorization header', {}],
    ['a scheme other than Bearer', { Authorization: `Basic ${TOKEN}` }],
    ['an unknown token', { Authorization: 'Bearer some-other-token-0123456789' }],
  ])('answers Unauthorized (401) for %s', async (_, headers) => {
    const { authorize } = authorizerWith([stored()]);
    await expect(authorize(eventWith(headers))).rejects.toThrow('Unauthorized');
  });

  it('answers Unauthorized for a revoked token', async () => {
    const { authorize } = authorizerWith([stored({ revoked: '2026-02-01T00:00:00.000Z' })]);
    await expect(authorize(eventWith({ Authorization: `Bearer ${TOKEN}` }))).rejects.toThrow('Unauthorized');
  });

  it('lets a failure to read the table through as an error, not as a refusal that would be cached', async () => {
    // Prepare
    const authorize = makeAuthorizer({
      findToken: async () => {
        throw new Error('ProvisionedThroughputExceeded');
      },
    });
    // Act and assess
    await expect(authorize(eventWith({ Authorization: `Bearer ${TOKEN}` }))).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});
