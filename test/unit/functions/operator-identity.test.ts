import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { consoleCors } from '../../../functions/admin-api/console-cors.ts';
import { LOCAL_OPERATOR, operatorOf } from '../../../functions/admin-api/operator-identity.ts';
import { httpErrors } from '../../../shared/observability/http-errors.middleware.ts';

const eventWith = (requestContext: unknown, headers: Record<string, string> = {}) => ({ headers, requestContext }) as unknown as APIGatewayProxyEvent;

describe('operatorOf', () => {
  it.each([
    ['an access token of the pool: its username', { authorizer: { claims: { sub: 's-1', username: 'grace' } } }, 'grace'],
    ['an ID token of the pool: its cognito:username', { authorizer: { claims: { sub: 's-1', 'cognito:username': 'ada' } } }, 'ada'],
    ['a token without a name: its subject', { authorizer: { claims: { sub: 's-1' } } }, 's-1'],
    ['an IAM-signed call: the caller ARN', { identity: { userArn: 'arn:aws:sts::1:assumed-role/ops/lin' } }, 'arn:aws:sts::1:assumed-role/ops/lin'],
    ['a local call with the operator token', { identity: { userArn: null } }, LOCAL_OPERATOR],
  ])('names %s', (_case, requestContext, expected) => {
    expect(operatorOf(eventWith(requestContext))).toBe(expected);
  });
});

describe('consoleCors', () => {
  const CONSOLE = 'https://d111111abcdef8.cloudfront.net';
  const logger = new Logger({ logLevel: 'SILENT' });
  const context = { getRemainingTimeInMillis: () => 1000 } as unknown as Context;
  /** The admin API's chain, in its order: CORS before the error middleware. */
  const handlerOf = (origin: string | undefined, answer: () => Promise<APIGatewayProxyResult>) =>
    middy<APIGatewayProxyEvent, APIGatewayProxyResult>().use(consoleCors(origin)).use(httpErrors(logger)).handler(answer);
  const ok = async () => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' });

  it("lets the console's origin read an answer", async () => {
    const response = await handlerOf(CONSOLE, ok)(eventWith({}, { origin: CONSOLE }), context);
    expect(response.headers).toEqual({ 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': CONSOLE, Vary: 'Origin' });
  });

  it('allows no other origin', async () => {
    const response = await handlerOf(CONSOLE, ok)(eventWith({}, { origin: 'https://evil.example' }), context);
    expect(response.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    expect(response.headers?.Vary).toBe('Origin');
  });

  it("lets the console read a failure too, as the error middleware's plain 500", async () => {
    const response = await handlerOf(CONSOLE, () => Promise.reject(new Error('boom')))(eventWith({}, { origin: CONSOLE }), context);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('boom');
    expect(response.headers?.['Access-Control-Allow-Origin']).toBe(CONSOLE);
  });

  it('adds nothing without a console origin (locally, where the console is on the hub’s own origin)', async () => {
    const response = await handlerOf('', ok)(eventWith({}, { origin: CONSOLE }), context);
    expect(response.headers).toEqual({ 'Content-Type': 'application/json' });
  });
});
