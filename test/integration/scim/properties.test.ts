import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULK_REQUEST_SCHEMA, ENTERPRISE_SCHEMA, GROUP_SCHEMA, groupBody, PATCH_OP_SCHEMA, USER_SCHEMA, userBody } from '../../builders/scim.builders.ts';
import { hubTableOf } from '../../support/hub-table.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/**
 * Properties over HTTP, on the local stack: whatever filter, PATCH, PUT or Bulk document a
 * client sends, the hub never answers 5xx, and a request it refuses (4xx) leaves the table
 * exactly as it was: no half-written record.
 */
describe('SCIM properties over HTTP', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let table: ReturnType<typeof hubTableOf>;
  const api = () => scimClient(hub.scim);
  let userId: string;
  let groupId: string;
  let otherUserId: string;

  const scanTable = async () => {
    const items: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await table.documents.send(new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: start, ConsistentRead: true }));
      items.push(...(page.Items ?? []).map((item) => JSON.stringify(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.sort();
  };

  /** Sends one request; no 5xx, and a 4xx must leave the table as it was. */
  const checked = async (send: () => Promise<{ status: number; text: string }>) => {
    const before = await scanTable();
    const answer = await send();
    expect(answer.status, answer.text).toBeLessThan(500);
    if (answer.status >= 400) expect(await scanTable()).toEqual(before);
    return answer;
  };

  beforeAll(async () => {
    hub = await startTestHub('scim-properties');
    table = hubTableOf(hub);
    userId = (await api().post('/Users', userBody('prop-user@example.com', { emails: [{ value: 'prop@example.com', type: 'work' }] }))).json.id;
    otherUserId = (await api().post('/Users', userBody('prop-other@example.com'))).json.id;
    groupId = (await api().post('/Groups', groupBody('Property group', [userId]))).json.id;
  });
  afterAll(async () => {
    table?.close();
    await hub?.stop();
  });

  // Names real and wrong, with extensions, sub-attributes and value paths.
  const attributePath = fc.oneof(
    fc.constantFrom(
      'userName',
      'displayName',
      'title',
      'active',
      'emails',
      'emails.value',
      'emails.type',
      'name.givenName',
      'name',
      'members',
      'members.value',
      'groups.value',
      'externalId',
      'id',
      'meta.created',
      'manager',
      'department',
      `${ENTERPRISE_SCHEMA}:manager.value`,
      `${ENTERPRISE_SCHEMA}:department`,
      'emails[type eq "work"]',
      'emails[type eq "work"].value',
      'members[value eq "x"]',
      'phoneNumbers',
      'password',
      'nope',
      'name.nope',
      'urn:x:y:z',
      `${USER_SCHEMA}:userName`,
      ENTERPRISE_SCHEMA,
    ),
    fc.string({ maxLength: 12 }),
  );
  const scalar = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('True', 'False', '2020-01-01T00:00:00Z', 'Jos\u0065\u0301'),
  );
  const value = fc.oneof(
    scalar,
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ value: scalar, type: fc.constantFrom('work', 'home'), primary: fc.boolean() }, { requiredKeys: [] }),
    fc.array(fc.record({ value: fc.oneof(scalar, fc.constantFrom('USER', 'GROUP')), display: scalar }, { requiredKeys: [] }), { maxLength: 3 }),
  );
  const resolveIds = (text: string) => text.replaceAll('USER', userId).replaceAll('GROUP', groupId);

  it('answers random filters on /Users, /Groups and /.search without 5xx', async () => {
    const comparison = fc
      .tuple(
        attributePath,
        fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr', 'EQ', 'xx'),
        fc.oneof(fc.json({ maxDepth: 0 }), fc.string({ maxLength: 6 })),
      )
      .map(([path, op, operand]) => (op === 'pr' ? `${path} pr` : `${path} ${op} ${operand}`));
    const filter = fc.oneof(
      comparison,
      fc.tuple(comparison, fc.constantFrom(' and ', ' or ', ' AND '), comparison).map((parts) => parts.join('')),
      comparison.map((inner) => `not (${inner})`),
      comparison.map((inner) => `emails[${inner}]`),
      fc.string({ maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(filter, fc.constantFrom('/Users', '/Groups', '/.search'), async (text, endpoint) => {
        await checked(() =>
          endpoint === '/.search'
            ? api().post('/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: text })
            : api().get(`${endpoint}?filter=${encodeURIComponent(text)}`),
        );
      }),
      { numRuns: 50 },
    );
  });

  it('answers random PATCH bodies without 5xx, and a refused PATCH writes nothing', async () => {
    const operation = fc.record(
      { op: fc.constantFrom('add', 'replace', 'remove', 'Add', 'Replace', 'move'), path: attributePath, value },
      { requiredKeys: ['op'] },
    );
    const body = fc.record(
      { schemas: fc.constantFrom([PATCH_OP_SCHEMA], ['urn:x'], undefined), Operations: fc.array(operation, { maxLength: 3 }) },
      { requiredKeys: ['Operations'] },
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (patch, onGroup) => {
        const text = resolveIds(JSON.stringify(patch));
        await checked(() => api().patch(onGroup ? `/Groups/${groupId}` : `/Users/${userId}`, text));
      }),
      { numRuns: 50 },
    );
  });

  it('answers random PUT bodies without 5xx, and a refused PUT writes nothing', async () => {
    const userPut = fc.record(
      {
        schemas: fc.constantFrom([USER_SCHEMA], [USER_SCHEMA, ENTERPRISE_SCHEMA], 'x'),
        userName: fc.oneof(fc.constantFrom('prop-user@example.com', 'PROP-OTHER@example.com', 'prop-e\u0301@example.com'), scalar),
        emails: value,
        active: scalar,
        name: value,
        [ENTERPRISE_SCHEMA]: fc.oneof(fc.record({ manager: value, department: scalar }, { requiredKeys: [] }), scalar),
        title: scalar,
      },
      { requiredKeys: [] },
    );
    const groupPut = fc.record(
      { schemas: fc.constantFrom([GROUP_SCHEMA]), displayName: fc.oneof(fc.constantFrom('Property group', 'Other group'), scalar), members: value },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          userPut.map((body) => ({ path: () => `/Users/${userId}`, body })),
          groupPut.map((body) => ({ path: () => `/Groups/${groupId}`, body })),
        ),
        async ({ path, body }) => {
          await checked(() => api().put(path(), resolveIds(JSON.stringify(body))));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('answers random Bulk documents without 5xx, and a refused Bulk request writes nothing', async () => {
    const operation = fc.record(
      {
        method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'post'),
        bulkId: fc.constantFrom('a', 'b', 'c'),
        path: fc.constantFrom('/Users', '/Groups', '/Users/USER', '/Groups/GROUP', '/Users/bulkId:a', '/Nope', '/Users/OTHER'),
        data: fc.oneof(
          value,
          fc.constant({ schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:b' }] }] }),
          fc.record({ userName: fc.constantFrom('bulk-a@example.com', 'bulk-b@example.com'), displayName: scalar }, { requiredKeys: [] }),
        ),
        version: fc.constantFrom('W/"1"', '*'),
      },
      { requiredKeys: ['method', 'path'] },
    );
    const document = fc.record(
      {
        schemas: fc.constantFrom([BULK_REQUEST_SCHEMA], ['urn:x']),
        failOnErrors: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant('x')),
        Operations: fc.array(operation, { maxLength: 4 }),
      },
      { requiredKeys: ['Operations'] },
    );
    await fc.assert(
      fc.asyncProperty(document, async (bulk) => {
        const text = resolveIds(JSON.stringify(bulk)).replaceAll('OTHER', otherUserId);
        await checked(() => api().post('/Bulk', text));
      }),
      { numRuns: 30 },
    );
  });
});
