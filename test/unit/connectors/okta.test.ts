import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConnectorsDocumentSchema } from '../../../shared/connectors/connectors.schema.ts';
import { clientAssertion, parsePrivateKey } from '../../../shared/connectors/okta/okta-credentials.ts';
import { describeOktaError, nextLinkOf, oktaFailureKind } from '../../../shared/connectors/okta/okta-http.ts';
import { oktaBucketOf, OktaRateGovernor } from '../../../shared/connectors/okta/okta-rate-governor.ts';
import { DEFAULT_MAPPINGS, mapUser } from '../../../shared/sync/attribute-mapping.ts';

const headers = (values: Record<string, string>) => new Headers(values);
const clock = () => {
  const state = { at: 1_800_000_000_000, slept: [] as number[] };
  return {
    state,
    now: () => state.at,
    sleep: async (ms: number) => {
      state.slept.push(ms);
      state.at += ms;
    },
  };
};
const report = (remaining: number, resetSeconds: number, limit = 600) =>
  headers({ 'x-rate-limit-limit': String(limit), 'x-rate-limit-remaining': String(remaining), 'x-rate-limit-reset': String(resetSeconds) });

describe('the Okta connector document entry', () => {
  it('accepts the minimal entry, with the defaults it documents', () => {
    const [entry] = ConnectorsDocumentSchema.parse({
      connectors: [{ id: 'okta', type: 'okta', enabled: true, orgUrl: 'https://acme.okta.com', apiToken: 'token' }],
    }).connectors;
    expect(entry).toMatchObject({
      type: 'okta',
      activate: true,
      sendActivationEmail: false,
      disableAs: 'deactivate',
      concurrentRequests: 10,
      deprovision: 'disable',
    });
  });

  it.each([
    ['both credentials', { apiToken: 't', oauth: { clientId: 'c', privateKey: 'k' } }, 'exactly one of apiToken or oauth'],
    ['no credential', {}, 'exactly one of apiToken or oauth'],
    ['an org URL with a path', { apiToken: 't', orgUrl: 'https://acme.okta.com/api/v1' }, 'no path'],
  ])('refuses %s, naming the problem', (_, fields, message) => {
    const parsed = ConnectorsDocumentSchema.safeParse({ connectors: [{ id: 'okta', type: 'okta', orgUrl: 'https://acme.okta.com', ...fields }] });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain(message);
  });

  it('maps a hub user to an Okta profile by default', () => {
    const hubUser = { userName: 'ada@example.com', name: { givenName: 'Ada', familyName: 'Lovelace' }, emails: [{ value: 'ada@work.example' }], active: true };
    expect(mapUser(hubUser, DEFAULT_MAPPINGS.okta, 'create')).toEqual({
      login: 'ada@example.com',
      email: 'ada@work.example',
      firstName: 'Ada',
      lastName: 'Lovelace',
      active: true,
    });
  });
});

describe('Okta rate-limit buckets', () => {
  it.each([
    ['GET', '/api/v1/users?search=x', 'users'],
    ['POST', '/api/v1/users?activate=false', 'users'],
    ['POST', '/api/v1/users/00u1', 'user'],
    ['DELETE', '/api/v1/users/00u1', 'user'],
    ['GET', '/api/v1/users/00u1', 'other'],
    ['POST', '/api/v1/users/00u1/lifecycle/activate', 'other'],
    ['GET', '/api/v1/groups', 'groups'],
    ['PUT', '/api/v1/groups/00g1', 'group'],
    ['PUT', '/api/v1/groups/00g1/users/00u1', 'other'],
  ] as const)('%s %s counts against %s', (method, path, bucket) => {
    expect(oktaBucketOf(method, path)).toBe(bucket);
  });
});

describe('the Okta rate governor', () => {
  it('lets requests through until the reserve, then waits for the reset', async () => {
    const time = clock();
    const governor = new OktaRateGovernor({ maxConcurrent: 5, now: time.now, sleep: time.sleep, maxWaitMs: 60_000 });
    const resetSeconds = time.state.at / 1000 + 30;
    governor.observe('users', report(62, resetSeconds), 200);
    for (let i = 0; i < 2; i++) {
      await governor.acquire('users');
      governor.release();
    }
    expect(time.state.slept).toEqual([]);
    await governor.acquire('users');
    governor.release();
    // 60 left is the reserve of 10%: the third request waited the 30 s to the reset.
    expect(time.state.slept).toEqual([30_000]);
    expect(governor.heldBack).toBe(1);
  });

  it('fails a request whose wait would outlast its in-process limit as throttled, with the wait', async () => {
    const time = clock();
    const governor = new OktaRateGovernor({ maxConcurrent: 5, now: time.now, sleep: time.sleep, label: 'okta-prod' });
    governor.observe('users', report(60, time.state.at / 1000 + 30), 200);
    await expect(governor.acquire('users')).rejects.toMatchObject({ kind: 'throttled', retryAfterMs: 30_000, message: expect.stringContaining('okta-prod') });
    expect(time.state.slept).toEqual([]);
  });

  it('keeps the lowest remaining of one window when reports arrive out of order, and a newer window replaces it', () => {
    const time = clock();
    const governor = new OktaRateGovernor({ maxConcurrent: 5, now: time.now, sleep: time.sleep });
    const reset = time.state.at / 1000 + 10;
    governor.observe('groups', report(100, reset), 200);
    governor.observe('groups', report(120, reset), 200);
    expect(governor.report('groups')?.remaining).toBe(100);
    governor.observe('groups', report(599, reset + 60), 200);
    expect(governor.report('groups')?.remaining).toBe(599);
  });

  it('empties the bucket on a 429 and says how long until its reset', () => {
    const time = clock();
    const governor = new OktaRateGovernor({ maxConcurrent: 5, now: time.now, sleep: time.sleep });
    expect(governor.observe('user', report(250, time.state.at / 1000 + 42), 429)).toBe(42_000);
    expect(governor.report('user')?.remaining).toBe(0);
  });

  it("corrects the reset by the server's Date when the clocks disagree", () => {
    const time = clock();
    const governor = new OktaRateGovernor({ maxConcurrent: 5, now: time.now, sleep: time.sleep });
    const serverNow = time.state.at - 300_000;
    const answer = report(10, serverNow / 1000 + 20);
    answer.set('date', new Date(serverNow).toUTCString());
    expect(governor.observe('users', answer, 200)).toBe(20_000);
  });

  it('never has more requests in flight than allowed, and hands a freed slot to the next in line', async () => {
    const governor = new OktaRateGovernor({ maxConcurrent: 2 });
    let inFlight = 0;
    let most = 0;
    const order = [] as number[];
    const request = async (n: number) => {
      await governor.acquire('other');
      inFlight++;
      most = Math.max(most, inFlight);
      await Promise.resolve();
      order.push(n);
      inFlight--;
      governor.release();
    };
    await Promise.all([1, 2, 3, 4, 5].map(request));
    expect(most).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('Okta answers', () => {
  it('finds the next page in a Link header, whatever the order of its links', () => {
    expect(nextLinkOf('<https://a.okta.com/api/v1/users?limit=2>; rel="self", <https://a.okta.com/api/v1/users?after=00u2&limit=2>; rel="next"')).toBe(
      'https://a.okta.com/api/v1/users?after=00u2&limit=2',
    );
    expect(nextLinkOf('<https://a.okta.com/api/v1/users?after=00u2>; rel="next", <https://a.okta.com/api/v1/users>; rel="self"')).toBe(
      'https://a.okta.com/api/v1/users?after=00u2',
    );
    expect(nextLinkOf('<https://a.okta.com/api/v1/users?limit=2>; rel="self"')).toBeUndefined();
    expect(nextLinkOf(null)).toBeUndefined();
  });

  it.each([
    [
      400,
      { errorCode: 'E0000001', errorCauses: [{ errorSummary: 'login: An object with this field already exists in the current organization' }] },
      'conflict',
    ],
    [400, { errorCode: 'E0000001', errorCauses: [{ errorSummary: 'email: Does not match required pattern' }] }, 'permanent'],
    [404, { errorCode: 'E0000007' }, 'notFound'],
    [401, { errorCode: 'E0000011' }, 'unauthorized'],
    [403, { errorCode: 'E0000006' }, 'unauthorized'],
    [403, { errorCode: 'E0000038' }, 'permanent'],
    [429, { errorCode: 'E0000047' }, 'throttled'],
    [500, { errorCode: 'E0000009' }, 'retryable'],
    [502, undefined, 'retryable'],
  ])('%i %j is %s', (status, body, kind) => {
    expect(oktaFailureKind(status, body)).toBe(kind);
  });

  it('keeps the code, summary and causes of an error for the audit record', () => {
    expect(describeOktaError({ errorCode: 'E0000001', errorSummary: 'Api validation failed: email', errorCauses: [{ errorSummary: 'email: bad' }] }, 'x')).toBe(
      'E0000001 Api validation failed: email (email: bad)',
    );
    expect(describeOktaError(undefined, '<html>bad gateway</html>')).toBe('<html>bad gateway</html>');
  });
});

describe('the service app client assertion', () => {
  it.each(['rsa', 'ec'] as const)('is a JWT signed with the %s key, naming the client and the token endpoint', (type) => {
    const keys = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = JSON.stringify(keys.privateKey.export({ format: 'jwk' }));
    const assertion = clientAssertion({
      clientId: '0oa1',
      audience: 'https://a.okta.com/oauth2/v1/token',
      key: parsePrivateKey(jwk),
      keyId: 'k1',
      nowSeconds: 1000,
    });
    const [header, claims, signature] = assertion.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: type === 'rsa' ? 'RS256' : 'ES256', typ: 'JWT', kid: 'k1' });
    expect(JSON.parse(Buffer.from(claims, 'base64url').toString())).toMatchObject({
      iss: '0oa1',
      sub: '0oa1',
      aud: 'https://a.okta.com/oauth2/v1/token',
      iat: 1000,
      exp: 1300,
    });
    const key = type === 'rsa' ? keys.publicKey : { key: keys.publicKey, dsaEncoding: 'ieee-p1363' as const };
    expect(verify('sha256', Buffer.from(`${header}.${claims}`), key, Buffer.from(signature, 'base64url'))).toBe(true);
  });
});
