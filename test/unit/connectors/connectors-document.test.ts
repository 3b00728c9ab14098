import { describe, expect, it } from 'vitest';
import { parseConnectorsDocument } from '../../../shared/connectors/connectors-document.ts';
import { ConfigError } from '../../../shared/errors.ts';

describe('parseConnectorsDocument', () => {
  it('accepts the documented minimal shape and fills in the defaults', () => {
    const document = parseConnectorsDocument(
      JSON.stringify({
        connectors: [{ id: 'acme', type: 'scim', enabled: true, baseUrl: 'https://acme.example/scim/v2', bearerToken: 'secret', deprovision: 'disable' }],
      }),
      'test',
    );
    expect(document.connectors[0]).toMatchObject({
      id: 'acme',
      deprovision: 'disable',
      membersPerRequest: 100,
      operations: { create: true, update: true, disable: true, delete: true },
      retry: { maxAttempts: 8 },
      breaker: { failureThreshold: 5, probeIntervalSeconds: 30 },
    });
  });

  it.each([
    [{ connectors: [{ id: 'acme', type: 'scim', baseUrl: 'not a url', bearerToken: 't' }] }, 'connectors.0.baseUrl'],
    [{ connectors: [{ id: 'Acme!', type: 'scim', baseUrl: 'https://a.example', bearerToken: 't' }] }, 'connectors.0.id'],
    [{ connectors: [{ id: 'x', type: 'ldap' }] }, 'connectors.0.type'],
    [{ connectors: [{ id: 'x', type: 'scim', baseUrl: 'https://a.example', bearerToken: 't', deprovision: 'purge' }] }, 'connectors.0.deprovision'],
    [{ connectors: [{ id: 'x', type: 'scim', baseUrl: 'https://a.example', bearerToken: 't', mapping: [{ target: 'a' }] }] }, 'connectors.0.mapping.0'],
    [
      { connectors: [{ id: 'x', type: 'scim', baseUrl: 'https://a.example', bearerToken: 't', reconcile: { schedule: 'every day' } }] },
      'connectors.0.reconcile.schedule',
    ],
    [
      { connectors: [{ id: 'x', type: 'scim', baseUrl: 'https://a.example', bearerToken: 't', reconcile: { orphans: 'ignore' } }] },
      'connectors.0.reconcile.orphans',
    ],
  ])('names the field of a bad document (%#)', (document, field) => {
    expect(() => parseConnectorsDocument(JSON.stringify(document), 'CONNECTORS_FILE x.json')).toThrowError(
      new RegExp(`CONNECTORS_FILE x.json .*${field.replaceAll('.', '\\.')}`),
    );
  });

  it.each(['cron(0 2 * * ? *)', 'rate(6 hours)', 'rate(1 day)'])('accepts the reconciliation schedule %s with the documented defaults', (schedule) => {
    const document = parseConnectorsDocument(
      JSON.stringify({ connectors: [{ id: 'acme', type: 'scim', baseUrl: 'https://acme.example/scim/v2', bearerToken: 'secret', reconcile: { schedule } }] }),
      'test',
    );
    expect(document.connectors[0]?.reconcile).toEqual({ schedule, orphans: 'report', deletionThreshold: { percent: 20, minimum: 10 } });
  });

  it('refuses duplicate ids and text that is not JSON', () => {
    const twice = { id: 'a', type: 'scim', baseUrl: 'https://a.example', bearerToken: 't' };
    expect(() => parseConnectorsDocument(JSON.stringify({ connectors: [twice, twice] }), 'f')).toThrowError(/unique/);
    expect(() => parseConnectorsDocument('{', 'f')).toThrowError(ConfigError);
  });
});
