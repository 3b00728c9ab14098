import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe('SCIM /Bulk (RFC 7644 section 3.7)', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);

  beforeAll(async () => {
    hub = await startTestHub('bulk');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('resolves bulkId references, even to an operation further down', async () => {
    const answer = await api().post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', bulkId: 'team', path: '/Groups', data: { schemas: [GROUP], displayName: 'Bulk team', members: [{ value: 'bulkId:ada' }] } },
        { method: 'POST', bulkId: 'ada', path: '/Users', data: { schemas: [USER], userName: 'bulk-ada@example.com' } },
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.json.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    const [groupResult, userResult] = answer.json.Operations;
    expect(userResult).toMatchObject({ method: 'POST', bulkId: 'ada', status: '201', version: 'W/"1"' });
    expect(groupResult).toMatchObject({ method: 'POST', bulkId: 'team', status: '201' });
    const userId = String(userResult.location).split('/').pop();
    const group = await api().get(String(groupResult.location).replace(/^.*\/scim\/v2/, ''));
    expect(group.json.members.map((m: { value: string }) => m.value)).toEqual([userId]);
  });

  it('reports each failure in place and stops after failOnErrors', async () => {
    const answer = await api().post('/Bulk', {
      schemas: [BULK],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', bulkId: 'a', path: '/Users', data: { schemas: [USER] } },
        { method: 'POST', bulkId: 'b', path: '/Users', data: { schemas: [USER], userName: 'never-made@example.com' } },
      ],
    });
    expect(answer.json.Operations).toHaveLength(1);
    expect(answer.json.Operations[0]).toMatchObject({ bulkId: 'a', status: '400', response: { scimType: 'invalidValue' } });
    expect((await api().get(`/Users?filter=${encodeURIComponent('userName eq "never-made@example.com"')}`)).json.totalResults).toBe(0);
  });

  it('applies version as If-Match and answers 412 for a stale one', async () => {
    const made = await api().post('/Users', { schemas: [USER], userName: 'bulk-version@example.com' });
    const answer = await api().post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'PATCH', path: `/Users/${made.json.id}`, version: 'W/"1"', data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'x' }] } },
        { method: 'DELETE', path: `/Users/${made.json.id}`, version: 'W/"1"' },
      ],
    });
    expect(answer.json.Operations.map((o: { status: string }) => o.status)).toEqual(['200', '412']);
  });

  it('refuses more operations than maxOperations with 413, and a circular reference with 409', async () => {
    const tooMany = await api().post('/Bulk', {
      schemas: [BULK],
      Operations: Array.from({ length: 101 }, (_, i) => ({ method: 'POST', bulkId: `u${i}`, path: '/Users', data: { schemas: [USER], userName: `many-${i}@example.com` } })),
    });
    expect(tooMany.status).toBe(413);
    const circular = await api().post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', bulkId: 'g1', path: '/Groups', data: { schemas: [GROUP], displayName: 'G1', members: [{ value: 'bulkId:g2' }] } },
        { method: 'POST', bulkId: 'g2', path: '/Groups', data: { schemas: [GROUP], displayName: 'G2', members: [{ value: 'bulkId:g1' }] } },
      ],
    });
    expect(circular.json.Operations.map((o: { status: string }) => o.status)).toEqual(['409', '409']);
  });
});
