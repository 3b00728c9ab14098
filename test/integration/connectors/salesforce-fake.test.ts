import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAssertion } from '../../../shared/connectors/salesforce/salesforce.client.ts';
import { eventually } from '../../support/eventually.ts';
import { type SalesforceFake, startSalesforceFake } from '../../support/fakes/salesforce-fake.ts';

/**
 * The fake Salesforce enforces every point of "Behaviours a faithful Salesforce fake must
 * reproduce" (../shared/contracts/README.md section 3), shown here over raw HTTP, so the
 * connector's tests can trust what it accepts and refuses.
 */
const V = '/services/data/v66.0';
let clock = Date.parse('2026-11-01T00:00:00Z');
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
let fake: SalesforceFake;
let token: string;

const signIn = async () => {
  const response = await fetch(`${fake.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'fake-consumer-key', client_secret: 'fake-consumer-secret' }).toString(),
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
};

const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${fake.url}${path.startsWith('/services/') ? path : `${V}${path}`}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in the assertions
  return { status: response.status, limitInfo: response.headers.get('sforce-limit-info'), json: (text ? JSON.parse(text) : undefined) as any };
};

let userCount = 0;
const newUser = (extra: Record<string, unknown> = {}) => ({
  Username: `user${++userCount}@example.com.fake`,
  LastName: 'Lovelace',
  Email: 'ada@example.com',
  Alias: 'alove',
  TimeZoneSidKey: 'Europe/London',
  LocaleSidKey: 'en_GB',
  EmailEncodingKey: 'UTF-8',
  LanguageLocaleKey: 'en_US',
  ProfileId: fake.idOf('Profile', 'Standard User'),
  ...extra,
});
const createUser = async (extra: Record<string, unknown> = {}) => (await call('POST', '/sobjects/User', newUser(extra))).json.id as string;

beforeAll(async () => {
  fake = await startSalesforceFake({
    dailyLimit: 1_000,
    licences: 12,
    // Salesforce may return fewer records than asked (large records): a small batch shows paging on few records.
    defaultBatchSize: 7,
    otherOrgUsernames: ['taken@elsewhere.example'],
    now: () => clock,
    maxConcurrentLong: 2,
    jwt: { publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), subject: 'integration@acme.example' },
  });
  token = (await signIn()).json.access_token as string;
});
afterAll(async () => {
  await fake?.close();
});

describe('the fake Salesforce', () => {
  it('signs in with client credentials and with a JWT bearer assertion, and refuses a wrong secret', async () => {
    const good = await signIn();
    expect(good.status).toBe(200);
    expect(good.json.instance_url).toBe(fake.url);
    const assertion = jwtAssertion(
      'fake-consumer-key',
      'integration@acme.example',
      fake.url,
      keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      clock / 1000,
    );
    const jwt = await fetch(`${fake.url}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
    });
    expect(jwt.status).toBe(200);
    const bad = await fetch(`${fake.url}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'fake-consumer-key', client_secret: 'wrong' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('1. serves data under /services/data/vNN.N only; an unknown resource or version is 404; the versions list counts nothing', async () => {
    const before = fake.usage().used;
    const versions = await call('GET', '/services/data/');
    expect(versions.status).toBe(200);
    expect(versions.limitInfo).toBeNull();
    expect(fake.usage().used).toBe(before);
    expect((await call('GET', '/services/data/v12.0/limits')).status).toBe(404);
    const unknown = await call('GET', '/sobjects/Nothing/001');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  });

  it('2. creates a User: 201 with id, success and errors; User ids start with 005', async () => {
    const created = await call('POST', '/sobjects/User', newUser());
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ id: expect.stringMatching(/^005[A-Za-z0-9]{15}$/), success: true, errors: [] });
  });

  it('3. refuses missing required fields naming them, and a Username any org holds', async () => {
    const { LastName: _l, Alias: _a, ...partial } = newUser();
    const missing = await call('POST', '/sobjects/User', partial);
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual([
      { errorCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName, Alias]', fields: ['LastName', 'Alias'] },
    ]);
    const first = newUser();
    await call('POST', '/sobjects/User', first);
    const again = await call('POST', '/sobjects/User', { ...newUser(), Username: first.Username.toUpperCase() });
    expect(again.json[0]).toMatchObject({ errorCode: 'DUPLICATE_USERNAME', fields: ['Username'] });
    const elsewhere = await call('POST', '/sobjects/User', { ...newUser(), Username: 'taken@elsewhere.example' });
    expect(elsewhere.json[0].errorCode).toBe('DUPLICATE_USERNAME');
  });

  it('validates field names and types: unknown field, wrong type, too long, bad reference', async () => {
    expect((await call('POST', '/sobjects/User', newUser({ Nickname: 'x' }))).json[0]).toMatchObject({ errorCode: 'INVALID_FIELD', fields: ['Nickname'] });
    expect((await call('POST', '/sobjects/User', newUser({ IsActive: 'false' }))).json[0].errorCode).toBe('JSON_PARSER_ERROR');
    expect((await call('POST', '/sobjects/User', newUser({ Alias: 'ninechars' }))).json[0]).toMatchObject({ errorCode: 'STRING_TOO_LONG', fields: ['Alias'] });
    expect((await call('POST', '/sobjects/User', newUser({ ProfileId: '00e000000000999AAA' }))).json[0]).toMatchObject({
      errorCode: 'FIELD_INTEGRITY_EXCEPTION',
      fields: ['ProfileId'],
    });
  });

  it('4. never deletes a User: DELETE is 405, deactivation is a PATCH answering 204', async () => {
    const id = await createUser();
    const deleted = await call('DELETE', `/sobjects/User/${id}`);
    expect(deleted.status).toBe(405);
    expect(deleted.json[0].errorCode).toBe('METHOD_NOT_ALLOWED');
    const patched = await call('PATCH', `/sobjects/User/${id}`, { IsActive: false });
    expect(patched.status).toBe(204);
    expect(patched.json).toBeUndefined();
    expect(fake.record('User', id)?.IsActive).toBe(false);
  });

  it('5. answers PATCH with 204 and no body; errors are arrays of {message, errorCode, fields}', async () => {
    const id = await createUser();
    expect((await call('PATCH', `/sobjects/User/${id}`, { Title: 'Countess' })).status).toBe(204);
    const cleared = await call('PATCH', `/sobjects/User/${id}`, { LastName: null });
    expect(cleared.status).toBe(400);
    expect(cleared.json).toEqual([{ errorCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName]', fields: ['LastName'] }]);
    expect((await call('PATCH', '/sobjects/User/005000000000999AAA', { Title: 'x' })).status).toBe(404);
  });

  it('refuses an active user beyond the licences with LICENSE_LIMIT_EXCEEDED', async () => {
    const spare = 12 - fake.records('User').filter((u) => u.IsActive !== false).length;
    for (let i = 0; i < spare; i++) await createUser();
    const over = await call('POST', '/sobjects/User', newUser());
    expect(over.json[0].errorCode).toBe('LICENSE_LIMIT_EXCEEDED');
    expect((await call('POST', '/sobjects/User', newUser({ IsActive: false }))).status).toBe(201);
    // Free the licences again for the other cases.
    for (const user of fake.records('User')) await call('PATCH', `/sobjects/User/${user.Id}`, { IsActive: false });
  });

  it('6. pages SOQL through done and nextRecordsUrl, and escapes literals as SOQL does', async () => {
    const page = await call('GET', `/query?q=${encodeURIComponent('SELECT Id, Username FROM User ORDER BY Id')}`);
    const total = fake.records('User').length;
    expect(total).toBeGreaterThan(7);
    expect(page.json).toMatchObject({ totalSize: total, done: false, nextRecordsUrl: expect.stringMatching(/^\/services\/data\/v66\.0\/query\/01g/) });
    const ids = page.json.records.map((r: { Id: string }) => r.Id);
    let next = page.json.nextRecordsUrl as string | undefined;
    while (next) {
      const more = await call('GET', next);
      expect(more.json.records.length).toBeLessThanOrEqual(7);
      ids.push(...more.json.records.map((r: { Id: string }) => r.Id));
      expect(more.json.done).toBe(more.json.nextRecordsUrl === undefined);
      next = more.json.nextRecordsUrl;
    }
    expect(ids).toEqual(fake.records('User').map((u) => u.Id));
    await createUser({ LastName: "O'Brien", IsActive: false });
    const escaped = await call('GET', `/query?q=${encodeURIComponent("SELECT Id, LastName, Profile.Name FROM User WHERE LastName = 'O\\'Brien'")}`);
    expect(escaped.json.records).toEqual([
      expect.objectContaining({ LastName: "O'Brien", Profile: { attributes: { type: 'Profile' }, Name: 'Standard User' }, attributes: expect.any(Object) }),
    ]);
    const injected = await call('GET', `/query?q=${encodeURIComponent("SELECT Id FROM User WHERE LastName = 'O'Brien'")}`);
    expect(injected.json[0].errorCode).toBe('MALFORMED_QUERY');
  });

  it('6. answers at most 2,000 records a batch by default', async () => {
    const org = await startSalesforceFake();
    try {
      const session = await fetch(`${org.url}/services/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'fake-consumer-key', client_secret: 'fake-consumer-secret' }),
      });
      const headers = { authorization: `Bearer ${((await session.json()) as { access_token: string }).access_token}`, 'content-type': 'application/json' };
      const profile = org.idOf('Profile', 'Standard User');
      // 2,001 users, 200 per collection call.
      for (let start = 0; start < 2001; start += 200) {
        const records = Array.from({ length: Math.min(200, 2001 - start) }, (_, i) => ({
          attributes: { type: 'User' },
          ...newUser({ Username: `bulk${start + i}@example.com.fake`, ProfileId: profile }),
        }));
        const saved = await fetch(`${org.url}${V}/composite/sobjects`, { method: 'POST', headers, body: JSON.stringify({ records }) });
        expect(((await saved.json()) as { success: boolean }[]).every((r) => r.success)).toBe(true);
      }
      const first = (await (await fetch(`${org.url}${V}/query?q=${encodeURIComponent('SELECT Id FROM User')}`, { headers })).json()) as Record<string, unknown>;
      expect(first).toMatchObject({ totalSize: 2001, done: false });
      expect((first.records as unknown[]).length).toBe(2000);
      const rest = (await (await fetch(`${org.url}${first.nextRecordsUrl}`, { headers })).json()) as Record<string, unknown>;
      expect(rest).toMatchObject({ totalSize: 2001, done: true });
      expect((rest.records as unknown[]).length).toBe(1);
    } finally {
      await org.close();
    }
  });

  it('7. GroupMember: a duplicate create answers the existing record, members of non-Regular groups are refused, deletes are by Id, no update', async () => {
    const user = await createUser({ IsActive: false });
    const group = (await call('POST', '/sobjects/Group', { Name: 'Crew', Type: 'Regular' })).json.id as string;
    const first = await call('POST', '/sobjects/GroupMember', { GroupId: group, UserOrGroupId: user });
    const second = await call('POST', '/sobjects/GroupMember', { GroupId: group, UserOrGroupId: user });
    expect(second.json).toEqual(first.json);
    expect((await call('PATCH', `/sobjects/GroupMember/${first.json.id}`, { UserOrGroupId: user })).status).toBe(405);
    const queue = (await call('POST', '/sobjects/Group', { Name: 'Queue', Type: 'Queue', DeveloperName: 'Queue_1' })).json.id as string;
    expect((await call('POST', '/sobjects/GroupMember', { GroupId: queue, UserOrGroupId: user })).json[0].errorCode).toBe('FIELD_INTEGRITY_EXCEPTION');
    expect((await call('DELETE', `/sobjects/GroupMember/${first.json.id}`)).status).toBe(204);
    expect(fake.records('GroupMember').filter((m) => m.GroupId === group)).toEqual([]);
  });

  it('7. PermissionSetAssignment: create, a duplicate is DUPLICATE_VALUE, delete by Id, no update', async () => {
    const user = await createUser({ IsActive: false });
    const permissionSet = fake.idOf('PermissionSet', 'Sales_Ops');
    const created = await call('POST', '/sobjects/PermissionSetAssignment', { AssigneeId: user, PermissionSetId: permissionSet });
    expect(created.status).toBe(201);
    expect((await call('POST', '/sobjects/PermissionSetAssignment', { AssigneeId: user, PermissionSetId: permissionSet })).json[0].errorCode).toBe(
      'DUPLICATE_VALUE',
    );
    expect((await call('PATCH', `/sobjects/PermissionSetAssignment/${created.json.id}`, { AssigneeId: user })).status).toBe(405);
    expect((await call('DELETE', `/sobjects/PermissionSetAssignment/${created.json.id}`)).status).toBe(204);
  });

  it('9. composite: 200 with a status per subrequest, references between them, rollback with allOrNone, one call for all', async () => {
    const before = fake.apiCalls();
    const user = newUser();
    const body = (allOrNone: boolean, second: Record<string, unknown>) => ({
      allOrNone,
      compositeRequest: [
        { method: 'POST', url: `${V}/sobjects/User`, referenceId: 'newUser', body: user },
        { method: 'POST', url: `${V}/sobjects/PermissionSetAssignment`, referenceId: 'psa', body: second },
      ],
    });
    const rolledBack = await call('POST', '/composite', body(true, { AssigneeId: '@{newUser.id}', PermissionSetId: '0PS000000000999AAA' }));
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.json.compositeResponse.map((r: { httpStatusCode: number }) => r.httpStatusCode)).toEqual([400, 400]);
    expect(fake.records('User').some((u) => u.Username === user.Username)).toBe(false);
    const kept = await call('POST', '/composite', body(false, { AssigneeId: '@{newUser.id}', PermissionSetId: '0PS000000000999AAA' }));
    expect(kept.json.compositeResponse.map((r: { httpStatusCode: number }) => r.httpStatusCode)).toEqual([201, 400]);
    expect(fake.records('User').some((u) => u.Username === user.Username)).toBe(true);
    expect(fake.apiCalls() - before).toBe(2);
    const headers = await call('POST', '/composite', {
      compositeRequest: [{ method: 'GET', url: `${V}/limits`, referenceId: 'l', httpHeaders: { Authorization: 'Bearer x' } }],
    });
    expect(headers.status).toBe(400);
    const tooMany = Array.from({ length: 26 }, (_, i) => ({ method: 'GET', url: `${V}/limits`, referenceId: `r${i}` }));
    expect((await call('POST', '/composite', { compositeRequest: tooMany })).status).toBe(400);
    const queries = Array.from({ length: 6 }, (_, i) => ({ method: 'GET', url: `${V}/query?q=SELECT+Id+FROM+Profile`, referenceId: `q${i}` }));
    expect((await call('POST', '/composite', { compositeRequest: queries })).status).toBe(400);
  });

  it('9. sObject Collections: at most 200 records, a SaveResult per record, rollback with allOrNone, 400 only when malformed', async () => {
    const user = await createUser({ IsActive: false });
    const permissionSet = fake.idOf('PermissionSet', 'Support_Agent');
    const records = [
      { attributes: { type: 'PermissionSetAssignment' }, AssigneeId: user, PermissionSetId: permissionSet },
      { attributes: { type: 'PermissionSetAssignment' }, AssigneeId: user, PermissionSetId: '0PS000000000999AAA' },
    ];
    const partial = await call('POST', '/composite/sobjects', { allOrNone: false, records });
    expect(partial.status).toBe(200);
    expect(partial.json).toEqual([
      { id: expect.any(String), success: true, errors: [] },
      { success: false, errors: [{ statusCode: 'FIELD_INTEGRITY_EXCEPTION', message: expect.any(String), fields: ['PermissionSetId'] }] },
    ]);
    const all = await call('POST', '/composite/sobjects', {
      allOrNone: true,
      records: [{ ...records[0], PermissionSetId: fake.idOf('PermissionSet', 'Sales_Ops') }, records[1]],
    });
    expect(all.json[0].errors[0].statusCode).toBe('ALL_OR_NONE_OPERATION_ROLLED_BACK');
    expect(fake.records('PermissionSetAssignment').filter((a) => a.AssigneeId === user)).toHaveLength(1);
    const tooMany = Array.from({ length: 201 }, () => records[0]);
    expect((await call('POST', '/composite/sobjects', { records: tooMany })).json[0].errorCode).toBe('EXCEEDED_ID_LIMIT');
    expect((await call('POST', '/composite/sobjects', { records: 'x' })).status).toBe(400);
    const removed = await call('DELETE', `/composite/sobjects?ids=${partial.json[0].id},0Pa000000000999AAA&allOrNone=false`);
    expect(removed.json.map((r: { success: boolean }) => r.success)).toEqual([true, false]);
  });

  it('10. answers 401 INVALID_SESSION_ID once the session has expired', async () => {
    fake.expireSessions();
    const expired = await call('GET', '/limits');
    expect(expired.status).toBe(401);
    expect(expired.json).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    token = (await signIn()).json.access_token as string;
    expect((await call('GET', '/limits')).status).toBe(200);
  });

  it('8. sends Sforce-Limit-Info on every answer and refuses with 403 REQUEST_LIMIT_EXCEEDED past the 24-hour allocation, never 429', async () => {
    const answer = await call('GET', '/limits');
    expect(answer.limitInfo).toBe(`api-usage=${fake.usage().used}/1000`);
    expect(answer.json.DailyApiRequests).toEqual({ Max: 1000, Remaining: 1000 - fake.usage().used });
    fake.useAllocation(1000 - fake.usage().used);
    const refused = await call('GET', '/limits');
    expect(refused.status).toBe(403);
    expect(refused.limitInfo).toBe('api-usage=1000/1000');
    expect(refused.json).toEqual([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }]);
    // The window rolls: a day later the calls have aged out.
    clock += 24 * 60 * 60 * 1000 + 1;
    expect((await call('GET', '/limits')).status).toBe(200);
  });

  it('8. refuses with REQUEST_LIMIT_EXCEEDED while the concurrent long-running requests are at their limit', async () => {
    const release = fake.hold();
    const held = [call('GET', '/limits'), call('GET', '/limits')];
    // Both are in flight before the clock moves past the long-running threshold.
    await eventually(() => expect(fake.inFlight()).toBe(2));
    clock += 21_000;
    const refused = await call('GET', '/limits');
    release();
    expect(refused.status).toBe(403);
    expect(refused.json[0].message).toBe('ConcurrentPerOrgLongTxn Limit exceeded.');
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200]);
  });
});
