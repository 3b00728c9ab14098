import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membershipKey, resourceKey } from '../../../shared/store/hub-table.layout.ts';
import {
  BULK_REQUEST_SCHEMA,
  filterQuery,
  GROUP_SCHEMA,
  groupBody,
  HUB_GROUP_SCHEMA,
  idsOf,
  memberIdsOf,
  patchBody,
  scimError,
  SEARCH_REQUEST_SCHEMA,
  userBody,
} from '../../builders/scim.builders.ts';
import { hubTableOf } from '../../support/hub-table.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/** Members of each big group, and the member-list budget of one response (the default is 4 MB for groups of up to 10 000). */
const GROUP_SIZE = 1_000;
const MEMBER_BUDGET = 300_000;

/**
 * Hostile or merely huge input gets a 4xx, never a 500 and never a half-written record; no
 * answer exceeds what Lambda (6 MB) and DynamoDB (100 items per transaction, 400 KB per item)
 * can carry.
 */
describe('SCIM under hostile and oversized input', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let table: ReturnType<typeof hubTableOf>;
  const api = () => scimClient(hub.scim);
  let counter = 0;
  const uniqueName = (prefix: string) => `${prefix}-${++counter}@example.com`;
  const scanTable = async () => {
    const items: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await table.documents.send(new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: start, ConsistentRead: true }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.map((item) => JSON.stringify(item)).sort();
  };
  const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  beforeAll(async () => {
    // The member-list budget lowered, so three groups of 1 000 members show what three of 10 000
    // would under the 4 MB default, at a tenth of the seeding.
    hub = await startTestHub('scim-hostile', { environment: { SCIM_MEMBER_BYTES_PER_RESPONSE: String(MEMBER_BUDGET) } });
    table = hubTableOf(hub);
  });
  afterAll(async () => {
    table?.close();
    await hub?.stop();
  });

  it('answers JSON nested 100 000 levels deep with 400 invalidSyntax on every endpoint that takes a body', async () => {
    // Prepare
    const user = (await api().post('/Users', userBody(uniqueName('deep')))).json;
    const before = await scanTable();
    const nested = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","title":${deep(100_000)}}`;

    // Act
    const answers = [
      await api().post('/Users', nested),
      await api().put(`/Users/${user.id}`, nested),
      await api().patch(
        `/Users/${user.id}`,
        `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":${deep(100_000)}}]}`,
      ),
      await api().post('/.search', `{"schemas":["${SEARCH_REQUEST_SCHEMA}"],"filter":${deep(100_000)}}`),
    ];

    // Assess
    for (const answer of answers) expect(answer.json).toMatchObject(scimError(400, 'invalidSyntax'));
    expect(await scanTable()).toEqual(before);
  });

  it('reports the earlier operations of a Bulk request whose later operation nests 100 000 levels deep', async () => {
    // Prepare
    const userName = uniqueName('bulk-before-deep');
    const body = `{"schemas":["${BULK_REQUEST_SCHEMA}"],"Operations":[{"method":"POST","bulkId":"a","path":"/Users","data":${JSON.stringify(userBody(userName))}},{"method":"POST","bulkId":"b","path":"/Users","data":{"userName":"deep","title":${deep(100_000)}}}]}`;

    // Act
    const answer = await api().post('/Bulk', body);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json.Operations.map((operation: { status: string }) => operation.status)).toEqual(['201', '400']);
    expect(answer.json.Operations[1].response).toMatchObject(scimError(400, 'invalidSyntax'));
    expect((await api().get(`/Users${filterQuery(`userName eq "${userName}"`)}`)).json.totalResults).toBe(1);
  });

  it('refuses more emails than one transaction can index with 400, writing nothing, on POST and PATCH', async () => {
    // Prepare
    const emails = Array.from({ length: 150 }, (_, i) => ({ value: `many-${i}-${counter}@example.com` }));
    const user = (await api().post('/Users', userBody(uniqueName('few-emails')))).json;
    const before = await scanTable();

    // Act
    const created = await api().post('/Users', userBody(uniqueName('many-emails'), { emails }));
    const patched = await api().patch(`/Users/${user.id}`, patchBody({ op: 'add', path: 'emails', value: emails }));

    // Assess
    expect(created.json).toMatchObject(scimError(400, 'invalidValue'));
    expect(patched.json).toMatchObject(scimError(400, 'invalidValue'));
    expect(await scanTable()).toEqual(before);
  });

  it('takes more members in one request than one transaction holds, on POST, PATCH and PUT, and keeps every one', { timeout: 180_000 }, async () => {
    // Prepare
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) {
      const created = await Promise.all(Array.from({ length: 10 }, () => api().post('/Users', userBody(uniqueName('member')))));
      ids.push(...created.map((answer) => answer.json.id as string));
    }

    // Act
    const created = await api().post('/Groups', groupBody(`Many members ${counter}`, ids.slice(0, 120)));
    const patched = await api().patch(
      `/Groups/${created.json.id}`,
      patchBody({ op: 'add', path: 'members', value: ids.slice(120).map((value) => ({ value })) }),
    );
    const afterPatch = await api().get(`/Groups/${created.json.id}`);
    const replaced = await api().put(`/Groups/${created.json.id}`, groupBody(`Many members ${counter}`, ids.slice(30)));

    // Assess
    expect(created.status).toBe(201);
    expect(memberIdsOf(created.json)).toEqual(ids.slice(0, 120).sort());
    expect(patched.status).toBe(204);
    expect(memberIdsOf(afterPatch.json)).toEqual([...ids].sort());
    expect(replaced.status).toBe(200);
    expect(memberIdsOf(replaced.json)).toEqual(ids.slice(30).sort());
  });

  it('refuses a resource larger than DynamoDB can store with 413, writing nothing, on POST, PUT and PATCH', async () => {
    // Prepare
    const user = (await api().post('/Users', userBody(uniqueName('small')))).json;
    const before = await scanTable();
    const huge = 'x'.repeat(450_000);

    // Act
    const answers = [
      await api().post('/Users', userBody(uniqueName('huge'), { title: huge })),
      await api().put(`/Users/${user.id}`, userBody(user.userName, { title: huge })),
      await api().patch(`/Users/${user.id}`, patchBody({ op: 'add', path: 'title', value: huge })),
      await api().post('/Groups', groupBody(`Huge ${counter}`, [], { externalId: huge })),
    ];

    // Assess
    for (const answer of answers) expect(answer.json).toMatchObject(scimError(413));
    expect(await scanTable()).toEqual(before);
  });

  it('treats the NFC and NFD forms of one userName as one name', async () => {
    // Prepare: "José" with a precomposed é, and with e + U+0301.
    const suffix = `${++counter}@example.com`;
    const composed = `Jos\u00e9-${suffix}`;
    const decomposed = `Jose\u0301-${suffix}`;

    // Act
    const first = await api().post('/Users', userBody(decomposed));
    const second = await api().post('/Users', userBody(composed.toUpperCase()));
    const found = await api().get(`/Users${filterQuery(`userName eq "${composed}"`)}`);

    // Assess
    expect(first.status).toBe(201);
    expect(first.json.userName).toBe(composed);
    expect(second.json).toMatchObject(scimError(409, 'uniqueness'));
    expect(idsOf(found.json)).toEqual([first.json.id]);
  });

  it('lists three big groups in one page within the member budget, omitting what does not fit and saying so', async () => {
    // Prepare: memberships seeded straight into the table, as the benchmark seeds its big group;
    // without the inverted index's keys, which a listing of groups never reads (half the writes).
    const groupIds: string[] = [];
    for (let g = 0; g < 3; g++) {
      const id = (await api().post('/Groups', groupBody(`Ten thousand ${g} ${counter}`))).json.id;
      groupIds.push(id);
      const members = Array.from({ length: GROUP_SIZE }, () => randomUUID());
      for (let start = 0; start < members.length; start += 25 * 8) {
        await Promise.all(
          Array.from({ length: 8 }, (_, k) => members.slice(start + k * 25, start + (k + 1) * 25))
            .filter((part) => part.length > 0)
            .map((part) =>
              table.documents.send(
                new BatchWriteCommand({
                  RequestItems: {
                    [table.tableName]: part.map((value) => ({ PutRequest: { Item: { ...membershipKey(id, value), groupId: id, value, type: 'User' } } })),
                  },
                }),
              ),
            ),
        );
      }
      await table.documents.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: resourceKey('Group', id),
          UpdateExpression: 'SET memberCount = :n',
          ExpressionAttributeValues: { ':n': members.length },
        }),
      );
    }

    // Act
    const listed = await api().get(`/Groups${filterQuery(`displayName sw "Ten thousand"`, 'count=10')}`);
    const alone = await api().get(`/Groups/${groupIds[2]}`);

    // Assess
    expect(listed.status).toBe(200);
    const payload = JSON.stringify({ statusCode: 200, headers: {}, body: listed.text });
    expect(Buffer.byteLength(payload)).toBeLessThan(MEMBER_BUDGET + 64 * 1024);
    const groups = listed.json.Resources as Array<Record<string, unknown> & { members?: unknown[] }>;
    expect(groups).toHaveLength(3);
    const omitted = groups.filter((group) => group.members === undefined);
    expect(omitted.length).toBeGreaterThan(0);
    for (const group of omitted) expect(group[HUB_GROUP_SCHEMA]).toEqual({ memberCount: GROUP_SIZE, membersOmitted: true });
    for (const group of groups.filter((g) => g.members !== undefined)) expect(group.members).toHaveLength(GROUP_SIZE);
    expect(alone.json.members).toHaveLength(GROUP_SIZE);
    expect(alone.json.schemas).toEqual([GROUP_SCHEMA]);
    // Seeding 3 000 memberships takes seconds alone, far longer on a machine running other suites.
  }, 120_000);
});
