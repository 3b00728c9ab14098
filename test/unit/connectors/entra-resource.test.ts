import { createVerify, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphScopeOf } from '../../../shared/connectors/entra/entra.connector.ts';
import {
  generatePassword,
  mailNicknameOf,
  newGraphUser,
  odataString,
  toGraphUser,
  toTargetAccount,
  toTargetGroup,
  userPrincipalNameOf,
  userSelect,
} from '../../../shared/connectors/entra/entra-resource.ts';
import { EntraConnectorSchema } from '../../../shared/connectors/entra/entra.schema.ts';
import { graphErrorOf, isDeltaRefused, permissionFor } from '../../../shared/connectors/entra/graph.errors.ts';
import { clientAssertion } from '../../../shared/connectors/entra/graph-token.ts';
import { DEFAULT_MAPPINGS, mapUser } from '../../../shared/sync/attribute-mapping.ts';

const context = { connectorId: 'entra', method: 'POST', path: '/users' };
const envelope = (code: string, message: string, details: unknown[] = []) => ({ error: { code, message, details } });

describe('entra resources', () => {
  it('completes a userPrincipalName without a domain, and keeps one with a domain', () => {
    expect(userPrincipalNameOf('ada', 'contoso.onmicrosoft.com')).toBe('ada@contoso.onmicrosoft.com');
    expect(userPrincipalNameOf('ada@contoso.com', 'contoso.onmicrosoft.com')).toBe('ada@contoso.com');
  });

  it.each([
    ['ada.lovelace@example.com', 'ada.lovelace'],
    ['José Ñúñez', 'JoseNunez'],
    ['a(b)c[d];e:f<g>h,i"j', 'abcdefghij'],
    ['x'.repeat(80), 'x'.repeat(64)],
  ])('makes the mailNickname of %s %s', (value, nickname) => {
    expect(mailNicknameOf(value)).toBe(nickname);
  });

  it('gives an address with nothing usable a stable alias', () => {
    expect(mailNicknameOf('@@')).toMatch(/^user[0-9a-f]{12}$/);
    expect(mailNicknameOf('@@')).toBe(mailNicknameOf('@@'));
  });

  it('generates passwords of 20 characters with all four character classes', () => {
    for (let i = 0; i < 50; i++) {
      const password = generatePassword();
      expect(password).toHaveLength(20);
      for (const pattern of [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/]) expect(password).toMatch(pattern);
    }
  });

  it('writes active as accountEnabled, nests dotted keys, clears unset properties with null and leaves the manager out', () => {
    expect(
      toGraphUser({ active: false, 'onPremisesExtensionAttributes.extensionAttribute1': 'hub-1', manager: 'boss', jobTitle: 'Analyst' }, [
        'department',
        'manager',
      ]),
    ).toEqual({ department: null, accountEnabled: false, onPremisesExtensionAttributes: { extensionAttribute1: 'hub-1' }, jobTitle: 'Analyst' });
  });

  it('fills what a new user needs: enabled, a display name from the names, an alias from the sign-in name, the password profile', () => {
    const body = newGraphUser(
      { userPrincipalName: 'ada', givenName: 'Ada', surname: 'Lovelace' },
      { domain: 'contoso.com', password: 'P@ssw0rd-long', forceChangePasswordNextSignIn: false },
    );
    expect(body).toEqual({
      userPrincipalName: 'ada@contoso.com',
      givenName: 'Ada',
      surname: 'Lovelace',
      accountEnabled: true,
      mailNickname: 'ada',
      displayName: 'Ada Lovelace',
      passwordProfile: { password: 'P@ssw0rd-long', forceChangePasswordNextSignIn: false },
    });
  });

  it('reads a Graph user as flat attributes, accountEnabled as active, without OData annotations or nulls', () => {
    expect(
      toTargetAccount({
        '@odata.type': '#microsoft.graph.user',
        id: 'u1',
        accountEnabled: false,
        mail: null,
        givenName: 'Ada',
        onPremisesExtensionAttributes: { extensionAttribute1: 'x' },
      }),
    ).toEqual({ id: 'u1', attributes: { givenName: 'Ada', 'onPremisesExtensionAttributes.extensionAttribute1': 'x', active: false } });
  });

  it('selects the mapped properties, the id, the sign-in name and the enabled state, never the manager or create-only ones', () => {
    expect(userSelect(['givenName', 'active', 'manager', 'mailNickname', 'onPremisesExtensionAttributes.extensionAttribute1'])).toBe(
      'id,userPrincipalName,accountEnabled,givenName,onPremisesExtensionAttributes',
    );
  });

  it('knows the hub groups it made by their description', () => {
    expect(toTargetGroup({ id: 'g1', displayName: 'Crew', description: 'Provisioned by the SCIM hub from hub group h-1' })).toEqual({
      id: 'g1',
      displayName: 'Crew',
      externalId: 'h-1',
    });
    expect(toTargetGroup({ id: 'g2', displayName: 'Finance', description: null })).toEqual({ id: 'g2', displayName: 'Finance' });
  });

  it('doubles single quotes in OData string literals', () => {
    expect(odataString("o'neil")).toBe("'o''neil'");
  });

  it('derives the token scope from the Graph base, for the national clouds', () => {
    expect(graphScopeOf('https://graph.microsoft.com/v1.0')).toBe('https://graph.microsoft.com/.default');
    expect(graphScopeOf('https://graph.microsoft.us/v1.0')).toBe('https://graph.microsoft.us/.default');
  });

  it('maps a hub user through the default mapping to the Graph properties the connector sends', () => {
    const hubUser = {
      userName: 'ada@contoso.com',
      displayName: 'Ada Lovelace',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@contoso.com', primary: true }],
      title: 'Analyst',
      active: true,
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Research', employeeNumber: '1042' },
    };
    expect(mapUser(hubUser, DEFAULT_MAPPINGS.entra, 'create')).toEqual({
      userPrincipalName: 'ada@contoso.com',
      mailNickname: 'ada@contoso.com',
      displayName: 'Ada Lovelace',
      givenName: 'Ada',
      surname: 'Lovelace',
      mail: 'ada@contoso.com',
      jobTitle: 'Analyst',
      department: 'Research',
      employeeId: '1042',
      active: true,
    });
  });
});

describe('entra connector document entry', () => {
  const minimal = { id: 'entra', type: 'entra', enabled: true, tenantId: 't', clientId: 'c', domain: 'contoso.onmicrosoft.com' };

  it('takes the minimal entry with a client secret, with the public cloud as default', () => {
    const parsed = EntraConnectorSchema.parse({ ...minimal, clientSecret: 's' });
    expect([parsed.graphBaseUrl, parsed.authorityUrl]).toEqual(['https://graph.microsoft.com/v1.0', 'https://login.microsoftonline.com']);
  });

  it('needs exactly one of a client secret or a certificate', () => {
    expect(EntraConnectorSchema.safeParse(minimal).success).toBe(false);
    const certificate = { privateKey: { secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:k' }, thumbprint: 'A'.repeat(40) };
    expect(EntraConnectorSchema.safeParse({ ...minimal, clientSecret: 's', clientCertificate: certificate }).success).toBe(false);
    expect(EntraConnectorSchema.safeParse({ ...minimal, clientCertificate: certificate }).success).toBe(true);
  });
});

describe('graph errors', () => {
  it.each([
    [429, envelope('TooManyRequests', 'slow down'), '7', 'throttled', 7000],
    [503, envelope('ServiceUnavailable', 'busy'), '3', 'throttled', 3000],
    [503, envelope('ServiceUnavailable', 'busy'), null, 'retryable', undefined],
    [404, envelope('Request_ResourceNotFound', 'gone'), null, 'notFound', undefined],
    [
      400,
      envelope('Request_BadRequest', 'Another object ...', [{ code: 'ObjectConflict', target: 'userPrincipalName', message: 'x' }]),
      null,
      'conflict',
      undefined,
    ],
    [400, envelope('Request_BadRequest', "Invalid property 'x'."), null, 'permanent', undefined],
    [401, envelope('InvalidAuthenticationToken', 'expired'), null, 'unauthorized', undefined],
  ] as const)('classifies %i %j as %s', (status, body, retryAfter, kind, retryAfterMs) => {
    const error = graphErrorOf({ status, body, retryAfter }, context);
    expect({ kind: error.kind, retryAfterMs: error.retryAfterMs }).toEqual({ kind, retryAfterMs });
  });

  it('makes a missing permission permanent and names the permission to grant', () => {
    const error = graphErrorOf(
      { status: 403, body: envelope('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.') },
      { ...context, path: '/groups/g1/members/$ref' },
    );
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('GroupMember.ReadWrite.All');
  });

  it.each([
    [410, envelope('Gone', 'The resource is no longer available.'), true],
    [400, envelope('syncStateNotFound', 'The sync state generation is not found. The delta token is expired and data must be synchronized again.'), true],
    [400, envelope('SyncStateNotFound', 'The sync state root folder is not found.'), true],
    [400, envelope('resyncRequired', 'A resync is required.'), true],
    [400, envelope('Request_BadRequest', "Invalid property 'x'."), false],
    [404, envelope('Request_ResourceNotFound', 'gone'), false],
  ] as const)('takes %i %j for a refused delta link: %s', (status, body, refused) => {
    expect(isDeltaRefused(graphErrorOf({ status, body }, { ...context, method: 'GET', path: '/users/delta?$deltatoken=x' }))).toBe(refused);
  });

  it.each([
    ['GET', '/users?$top=1', 'User.Read.All'],
    ['PATCH', '/users/u1', 'User.ReadWrite.All'],
    ['POST', '/groups', 'Group.ReadWrite.All'],
    ['POST', '/groups/g1/appRoleAssignments', 'AppRoleAssignment.ReadWrite.All'],
    ['GET', 'https://graph.microsoft.com/v1.0/groups/g1/members?$skiptoken=x', 'GroupMember.Read.All'],
  ])('names %s %s as needing %s', (method, path, permission) => {
    expect(permissionFor(method, path)).toBe(permission);
  });
});

describe('client assertion', () => {
  it('is a JWT signed with the certificate key, naming the certificate by its thumbprint', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const thumbprint = '0123456789abcdef0123456789abcdef01234567';
    const jwt = clientAssertion({
      tokenUrl: 'https://login/t/oauth2/v2.0/token',
      clientId: 'c',
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      thumbprint,
      now: 1_700_000_000_000,
    });
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      x5t: Buffer.from(thumbprint, 'hex').toString('base64url'),
    });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual(
      expect.objectContaining({ aud: 'https://login/t/oauth2/v2.0/token', iss: 'c', sub: 'c', nbf: 1_700_000_000, exp: 1_700_000_600 }),
    );
    expect(createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });
});
