import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { createDocumentClient } from '../../../shared/store/dynamodb.client.ts';
import { resourceKey } from '../../../shared/store/hub-table.keys.ts';
import { scimClient, startTestHub, TEST_TOKEN } from '../../support/local-hub.ts';

/**
 * What real identity providers send, accepted as they send it (Entra ID and Okta), each over
 * HTTP through the same API Gateway adapter and authorizer as `npm start`.
 */
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
let counter = 0;
const newUser = (extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: `user${++counter}@example.com`,
  name: { givenName: 'Given', familyName: 'Family' },
  active: true,
  ...extra,
});

describe('SCIM tolerance of what Entra ID and Okta send', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let tableName: string;
  const api = () => scimClient(hub.scim);

  beforeAll(async () => {
    hub = await startTestHub('tolerance');
    tableName = String(process.env.TABLE_NAME);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const createUser = async (extra: Record<string, unknown> = {}) => {
    const created = await api().post('/Users', newUser(extra));
    expect(created.status).toBe(201);
    return created.json as { id: string } & Record<string, unknown>;
  };
  const patch = (path: string, operations: unknown[]) => api().patch(path, { schemas: [PATCH_OP], Operations: operations });

  it('accepts capitalised op names', async () => {
    const user = await createUser();
    const answer = await patch(`/Users/${user.id}`, [{ op: 'Replace', path: 'displayName', value: 'Ada' }, { op: 'Add', path: 'title', value: 'Countess' }]);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ displayName: 'Ada', title: 'Countess' });
    const removed = await patch(`/Users/${user.id}`, [{ op: 'Remove', path: 'title' }]);
    expect(removed.json.title).toBeUndefined();
  });

  it('accepts "active" as the strings "False" and "True"', async () => {
    const user = await createUser({ active: 'False' });
    expect(user.active).toBe(false);
    const answer = await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'active', value: 'True' }]);
    expect(answer.json.active).toBe(true);
  });

  it('accepts path-less PATCH whose value keys are dotted and URN-qualified paths', async () => {
    const user = await createUser();
    const answer = await patch(`/Users/${user.id}`, [
      { op: 'replace', value: { 'name.givenName': 'Augusta', [`${ENTERPRISE}:department`]: 'Engines', [ENTERPRISE]: { costCenter: 'CC-1' } } },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.json.name).toEqual({ givenName: 'Augusta', familyName: 'Family' });
    expect(answer.json[ENTERPRISE]).toMatchObject({ department: 'Engines', costCenter: 'CC-1' });
    expect(answer.json.schemas).toContain(ENTERPRISE);
  });

  it('removes members both as a value list and as members[value eq "id"], and ignores "$ref": null', async () => {
    const [a, b, c] = [await createUser(), await createUser(), await createUser()];
    const group = await api().post('/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: `Team ${counter}`,
      members: [{ value: a.id, $ref: null }, { value: b.id }, { value: c.id }],
    });
    expect(group.status).toBe(201);
    expect(group.json.members).toHaveLength(3);
    expect((await patch(`/Groups/${group.json.id}`, [{ op: 'remove', path: 'members', value: [{ value: a.id }] }])).status).toBe(204);
    expect((await patch(`/Groups/${group.json.id}`, [{ op: 'remove', path: `members[value eq "${b.id}"]` }])).status).toBe(204);
    const after = await api().get(`/Groups/${group.json.id}`);
    expect(after.json.members.map((m: { value: string }) => m.value)).toEqual([c.id]);
  });

  it('ignores client-sent meta and accepts roles: []', async () => {
    const user = await createUser({ meta: { resourceType: 'User', created: '2019-01-01T00:00:00Z' }, roles: [] });
    expect((user.meta as { created: string }).created).not.toBe('2019-01-01T00:00:00Z');
  });

  it('accepts the Microsoft group schema URN', async () => {
    const group = await api().post('/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      displayName: 'Microsoft style',
    });
    expect(group.status).toBe(201);
    expect(group.json.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Group']);
  });

  it('accepts the enterprise manager as a string or as {"value": ...}', async () => {
    const boss = await createUser();
    const one = await createUser({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE], [ENTERPRISE]: { manager: boss.id } });
    expect((one[ENTERPRISE] as { manager: { value: string } }).manager.value).toBe(boss.id);
    const two = await createUser({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE], [ENTERPRISE]: { manager: { value: boss.id } } });
    expect((two[ENTERPRISE] as { manager: { value: string } }).manager.value).toBe(boss.id);
  });

  it('parses a JSON body sent without a Content-Type and with application/json', async () => {
    const bare = await fetch(`${hub.scim}/Users`, { method: 'POST', headers: { authorization: `Bearer ${TEST_TOKEN}` }, body: JSON.stringify(newUser()) });
    expect(bare.status).toBe(201);
    const plain = await api().post('/Users', JSON.stringify(newUser()), { 'content-type': 'application/json' });
    expect(plain.status).toBe(201);
  });

  it('accepts a PATCH with an empty Operations array and changes nothing', async () => {
    const user = await createUser();
    const answer = await patch(`/Users/${user.id}`, []);
    expect(answer.status).toBe(200);
    expect(answer.json.meta.version).toBe('W/"1"');
  });

  it("takes Okta's password on create, never returns it and stores only an scrypt hash", async () => {
    const user = await createUser({ password: 't1meMachine!' });
    expect(user.password).toBeUndefined();
    expect(JSON.stringify((await api().get(`/Users/${user.id}`)).json)).not.toContain('t1meMachine');
    const documents = createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb }));
    const item = (await documents.send(new GetCommand({ TableName: tableName, Key: resourceKey('User', user.id) }))).Item;
    expect(item?.passwordHash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(item)).not.toContain('t1meMachine');
  });

  it("accepts Okta's path-less deactivation PATCH", async () => {
    const user = await createUser();
    const answer = await patch(`/Users/${user.id}`, [{ op: 'replace', value: { active: false } }]);
    expect(answer.status).toBe(200);
    expect(answer.json.active).toBe(false);
  });

  it('ignores unknown attributes by default', async () => {
    const user = await createUser({ favouriteColour: 'green' });
    expect(user.favouriteColour).toBeUndefined();
  });
});
