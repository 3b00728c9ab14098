import { describe, expect, it } from 'vitest';
import { ConnectorsDocumentSchema } from '../../../shared/connectors/connectors.schema.ts';
import { ApiAllocation, parseLimitInfo } from '../../../shared/connectors/salesforce/salesforce-allocation.ts';
import { chunk, isSalesforceId, soqlIn, soqlString } from '../../../shared/connectors/salesforce/salesforce-soql.ts';
import { accountAttributes, deriveAlias, recordFields, releasedUsername } from '../../../shared/connectors/salesforce/salesforce-user.ts';
import { hubDeveloperName, parseRoleName } from '../../../shared/connectors/salesforce/salesforce.connector.ts';
import { salesforceError } from '../../../shared/connectors/salesforce/salesforce.errors.ts';
import { DEFAULT_MAPPINGS, mapUser } from '../../../shared/sync/attribute-mapping.ts';
import { parseSoql } from '../../support/fakes/salesforce-soql.ts';

describe('the Salesforce connectors-document entry', () => {
  it('accepts the minimal entry and fills the defaults', () => {
    const [entry] = ConnectorsDocumentSchema.parse({
      connectors: [
        {
          id: 'sf',
          type: 'salesforce',
          enabled: true,
          loginUrl: 'https://login.salesforce.com',
          clientId: '...',
          clientSecret: '...',
          profile: 'Standard User',
          usernameSuffix: '.acme',
        },
      ],
    }).connectors;
    expect(entry).toMatchObject({
      type: 'salesforce',
      apiVersion: '66.0',
      auth: { flow: 'client-credentials' },
      allocation: { reservePercent: 10, recheckSeconds: 300 },
      userDefaults: { TimeZoneSidKey: 'America/Los_Angeles', LocaleSidKey: 'en_US', EmailEncodingKey: 'UTF-8', LanguageLocaleKey: 'en_US' },
      deprovision: 'disable',
    });
  });

  it.each([
    [{ clientSecret: undefined }, 'clientSecret'],
    [{ apiVersion: 'v66' }, 'apiVersion'],
    [{ usernameSuffix: ' acme' }, 'usernameSuffix'],
    [{ allocation: { reservePercent: 95 } }, 'allocation'],
  ])('refuses %j, naming %s', (change, field) => {
    const entry = {
      id: 'sf',
      type: 'salesforce',
      loginUrl: 'https://login.salesforce.com',
      clientId: 'k',
      clientSecret: 's',
      profile: 'Standard User',
      ...change,
    };
    const result = ConnectorsDocumentSchema.safeParse({ connectors: [entry] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toContain(field);
  });

  it('has a default mapping that gives every field the hub holds', () => {
    const mapped = mapUser(
      { userName: 'ada@example.com', active: true, name: { givenName: 'Ada', familyName: 'Lovelace' }, emails: [{ value: 'ada@example.org', primary: true }] },
      DEFAULT_MAPPINGS.salesforce,
      'create',
    );
    expect(mapped).toEqual({
      Username: 'ada@example.com',
      FederationIdentifier: 'ada@example.com',
      Email: 'ada@example.org',
      FirstName: 'Ada',
      LastName: 'Lovelace',
      active: true,
    });
  });
});

describe('SOQL literals', () => {
  it.each([
    ['plain', "'plain'"],
    ["O'Brien", "'O\\'Brien'"],
    ['back\\slash', "'back\\\\slash'"],
    ['say "hi"', `'say \\"hi\\"'`],
    ['line\nbreak\ttab', "'line\\nbreak\\ttab'"],
    ["x' OR Username != '", "'x\\' OR Username != \\''"],
  ])('quotes %j as %s, which parses back to the same value', (value, literal) => {
    expect(soqlString(value)).toBe(literal);
    expect(parseSoql(`SELECT Id FROM User WHERE Username = ${soqlString(value)}`).where).toEqual([{ field: 'Username', op: '=', value }]);
  });

  it('builds IN lists and slices', () => {
    expect(soqlIn('Id', ['a', "b'"])).toBe("Id IN ('a','b\\'')");
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('tells record ids from other text', () => {
    expect(isSalesforceId('005000000000001AAA')).toBe(true);
    expect(isSalesforceId('005000000000001')).toBe(true);
    expect(isSalesforceId('no-such-group')).toBe(false);
  });
});

describe('users', () => {
  it.each([
    ['Ada', 'Lovelace', 'ada@example.com', 'alovelac'],
    ['Zoë', "O'Neil-Smith", 'z@example.com', 'zoneilsm'],
    [undefined, undefined, 'grace.hopper@example.com', 'gracehop'],
    [undefined, '李', '李@example.com', 'user'],
  ])('derives an Alias of at most 8 plain characters from %s %s (%s)', (first, last, username, alias) => {
    expect(deriveAlias(first, last, username)).toBe(alias);
  });

  it('adds the Username suffix on the way out and strips it on the way in', () => {
    expect(recordFields({ Username: 'ada@example.com', active: false, FirstName: 'Ada', Title: null }, '.acme')).toEqual({
      Username: 'ada@example.com.acme',
      IsActive: false,
      FirstName: 'Ada',
      Title: null,
    });
    expect(
      accountAttributes(
        { attributes: {}, Id: '005', Username: 'ada@example.com.acme', IsActive: true, Title: null, Profile: { Name: 'Standard User' } },
        '.acme',
      ),
    ).toEqual({
      Username: 'ada@example.com',
      active: true,
      'Profile.Name': 'Standard User',
    });
  });

  it('releases a removed Username in email form, the same on every retry', () => {
    expect(releasedUsername('005000000000001AAA', '.acme')).toBe('005000000000001aaa.removed@scim-hub.invalid.acme');
  });
});

describe('roles', () => {
  it.each([
    ['PermissionSet:Sales_Ops', 'PermissionSet', 'Sales_Ops'],
    ['PermissionSetGroup:Service_Bundle', 'PermissionSetGroup', 'Service_Bundle'],
    ['Profile:Standard User', 'Profile', 'Standard User'],
    ['UserRole:CEO', 'UserRole', 'CEO'],
    ['Engineering', 'Group', 'Engineering'],
    ['Team: Blue', 'Group', 'Team: Blue'],
  ])('reads %s as a %s named %s', (displayName, kind, name) => {
    const parsed = parseRoleName(displayName);
    expect({ kind: parsed.kind.kind, name: parsed.name }).toEqual({ kind, name });
  });

  it('records a hub group id in the DeveloperName when it fits', () => {
    expect(hubDeveloperName('g1')).toBe('hub_6731');
    expect(hubDeveloperName('6f1c1f0e-8a4e-4b8e-9f7e-0d5b1c2a3b4c')?.length).toBeLessThanOrEqual(80);
    expect(hubDeveloperName('x'.repeat(40))).toBeUndefined();
  });
});

describe('errors', () => {
  it.each([
    ['DUPLICATE_USERNAME', 400, 'conflict'],
    ['REQUIRED_FIELD_MISSING', 400, 'permanent'],
    ['INVALID_FIELD', 400, 'permanent'],
    ['FIELD_INTEGRITY_EXCEPTION', 400, 'permanent'],
    ['LICENSE_LIMIT_EXCEEDED', 400, 'permanent'],
    ['REQUEST_LIMIT_EXCEEDED', 403, 'throttled'],
    ['INVALID_SESSION_ID', 401, 'unauthorized'],
    ['NOT_FOUND', 404, 'notFound'],
    ['UNABLE_TO_LOCK_ROW', 400, 'retryable'],
    ['SERVER_UNAVAILABLE', 503, 'retryable'],
    ['MALFORMED_QUERY', 400, 'permanent'],
  ])('%s (%i) is %s', (errorCode, status, kind) => {
    expect(salesforceError('sf', status, [{ errorCode, message: 'm', fields: ['LastName'] }], 1000).kind).toBe(kind);
  });

  it('names the fields, says when no licences are left, and gives throttling the recheck wait', () => {
    expect(
      salesforceError('sf: POST /sobjects/User', 400, [
        { errorCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName]', fields: ['LastName'] },
      ]).message,
    ).toBe('sf: POST /sobjects/User: REQUIRED_FIELD_MISSING (field LastName): Required fields are missing: [LastName]');
    expect(salesforceError('sf', 400, [{ errorCode: 'LICENSE_LIMIT_EXCEEDED', message: 'License Limit Exceeded' }]).message).toContain('no licences left');
    expect(salesforceError('sf', 403, [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }], 300_000).retryAfterMs).toBe(300_000);
  });
});

describe('the API allocation', () => {
  it('reads Sforce-Limit-Info', () => {
    expect(parseLimitInfo('api-usage=10018/100000')).toEqual({ used: 10018, limit: 100000 });
    expect(parseLimitInfo('api-usage=1/0')).toBeUndefined();
    expect(parseLimitInfo(null)).toBeUndefined();
  });

  it('pauses at the reserve, rechecks after the interval, and resumes below the threshold', () => {
    let now = 0;
    const allocation = new ApiAllocation(10, 60_000, () => now);
    allocation.observe({ used: 899, limit: 1000 });
    expect(allocation.state().kind).toBe('open');
    allocation.observe({ used: 900, limit: 1000 });
    expect(allocation.state()).toEqual({ kind: 'paused', reason: expect.stringContaining('900/1000'), recheckAt: 60_000 });
    now = 60_000;
    expect(allocation.state().kind).toBe('recheck');
    allocation.observe({ used: 500, limit: 1000 });
    expect(allocation.state().kind).toBe('open');
  });
});
