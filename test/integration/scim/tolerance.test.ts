import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../shared/directory/password.ts';
import { resourceKey } from '../../../shared/store/hub-table.layout.ts';
import {
  ENTERPRISE_SCHEMA,
  filterQuery,
  GROUP_SCHEMA,
  groupBody,
  idsOf,
  memberIdsOf,
  MICROSOFT_GROUP_SCHEMA,
  type PatchOperation,
  patchBody,
  USER_SCHEMA,
  userBody,
} from '../../builders/scim.builders.ts';
import { hubTableOf } from '../../support/hub-table.ts';
import { scimClient, startTestHub, TEST_TOKEN } from '../../support/local-hub.ts';

/**
 * Emit strictly, accept what real clients send (DESIGN section 4): each request shape below is
 * one that Entra ID or Okta sends, accepted over HTTP through the same adapter and authorizer
 * as `npm start`.
 */
describe('SCIM tolerance of what Entra ID and Okta send', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let table: ReturnType<typeof hubTableOf>;
  const api = () => scimClient(hub.scim);
  let counter = 0;
  const newUser = (extra: Record<string, unknown> = {}) =>
    userBody(`tolerant-${++counter}@example.com`, { name: { givenName: 'Ada', familyName: 'Lovelace' }, active: true, ...extra });
  const createUser = async (extra: Record<string, unknown> = {}) => {
    const created = await api().post('/Users', newUser(extra));
    expect(created.status).toBe(201);
    return created.json as { id: string } & Record<string, unknown>;
  };
  const patch = (path: string, ...operations: PatchOperation[]) => api().patch(path, patchBody(...operations));
  const storedItem = async (id: string) =>
    (await table.documents.send(new GetCommand({ TableName: table.tableName, Key: resourceKey('User', id), ConsistentRead: true }))).Item;

  beforeAll(async () => {
    hub = await startTestHub('scim-tolerance');
    table = hubTableOf(hub);
  });
  afterAll(async () => {
    table?.close();
    await hub?.stop();
  });

  it('accepts capitalised op names: Add, Replace, Remove (Entra ID)', async () => {
    // Prepare
    const user = await createUser();

    // Act
    const answer = await patch(
      `/Users/${user.id}`,
      { op: 'Add', path: 'title', value: 'Countess' },
      { op: 'Replace', path: 'displayName', value: 'Ada' },
      { op: 'Remove', path: 'name.givenName' },
    );

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ title: 'Countess', displayName: 'Ada', name: { familyName: 'Lovelace' } });
    expect(answer.json.name.givenName).toBeUndefined();
  });

  it('accepts "active" as the strings "False" and "True", on create and on PATCH (Entra ID)', async () => {
    // Act
    const created = await createUser({ active: 'False' });
    const patched = await patch(`/Users/${created.id}`, { op: 'Replace', path: 'active', value: 'True' });

    // Assess
    expect(created.active).toBe(false);
    expect(patched.json.active).toBe(true);
  });

  it('accepts a path-less PATCH whose value keys are dotted paths and enterprise URN paths (Entra ID)', async () => {
    // Prepare
    const user = await createUser();

    // Act
    const answer = await patch(`/Users/${user.id}`, {
      op: 'Replace',
      value: { 'name.givenName': 'Augusta', [`${ENTERPRISE_SCHEMA}:department`]: 'Engines', [`${ENTERPRISE_SCHEMA}:manager`]: { value: 'boss-id' } },
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json.name).toEqual({ givenName: 'Augusta', familyName: 'Lovelace' });
    expect(answer.json.schemas).toEqual([USER_SCHEMA, ENTERPRISE_SCHEMA]);
    expect(answer.json[ENTERPRISE_SCHEMA]).toEqual({ department: 'Engines', manager: { value: 'boss-id' } });
  });

  describe('group members', () => {
    let ids: string[];
    let group: { id: string };
    beforeAll(async () => {
      ids = [];
      for (let i = 0; i < 4; i++) ids.push((await createUser()).id);
    });

    it('accepts "$ref": null in member values, on create and on PATCH (Entra ID)', async () => {
      // Prepare
      const [a, b, c, d] = ids as [string, string, string, string];

      // Act
      const created = await api().post('/Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'With null refs',
        members: [{ value: a, $ref: null }, { value: b, $ref: null, display: null }, { value: c }],
      });
      const patched = await patch(`/Groups/${created.json.id}`, { op: 'Add', path: 'members', value: [{ value: d, $ref: null }] });
      group = created.json;

      // Assess
      expect(created.status).toBe(201);
      expect(memberIdsOf(created.json)).toEqual([a, b, c].sort());
      expect(patched.status).toBe(204);
      expect(memberIdsOf((await api().get(`/Groups/${group.id}`)).json)).toEqual([a, b, c, d].sort());
    });

    it('removes members listed in the value of a remove with path "members" (Entra ID)', async () => {
      // Prepare
      const [a, b, c, d] = ids as [string, string, string, string];

      // Act
      const answer = await patch(`/Groups/${group.id}`, { op: 'Remove', path: 'members', value: [{ value: a }, { value: b }] });

      // Assess
      expect(answer.status).toBe(204);
      expect(memberIdsOf((await api().get(`/Groups/${group.id}`)).json)).toEqual([c, d].sort());
    });

    it('removes the member a members[value eq "id"] path names, and only that one (Okta)', async () => {
      // Prepare
      const [, , c, d] = ids as [string, string, string, string];

      // Act
      const answer = await patch(`/Groups/${group.id}`, { op: 'remove', path: `members[value eq "${c}"]` });

      // Assess
      expect(answer.status).toBe(204);
      expect(memberIdsOf((await api().get(`/Groups/${group.id}`)).json)).toEqual([d]);
    });
  });

  it('ignores client-sent meta and accepts roles: [] (Entra ID)', async () => {
    // Act
    const created = await api().post('/Users', newUser({ meta: { resourceType: 'User', created: '2019-01-01T00:00:00Z', version: 'W/"99"' }, roles: [] }));

    // Assess
    expect(created.status).toBe(201);
    expect(created.json.meta.created).not.toBe('2019-01-01T00:00:00Z');
    expect(created.json.meta.version).toBe('W/"1"');
    expect(created.json.roles).toBeUndefined();
  });

  it('accepts the Microsoft group schema URN, and emits only the core one', async () => {
    // Act
    const created = await api().post('/Groups', {
      schemas: [GROUP_SCHEMA, MICROSOFT_GROUP_SCHEMA],
      displayName: 'Microsoft style',
      [MICROSOFT_GROUP_SCHEMA]: {},
    });

    // Assess
    expect(created.status).toBe(201);
    expect(created.json.schemas).toEqual([GROUP_SCHEMA]);
    expect(created.json.displayName).toBe('Microsoft style');
  });

  it('accepts the enterprise manager as a bare id string and as {"value": ...}', async () => {
    // Prepare
    const boss = await createUser();

    // Act
    const asString = await createUser({ schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA], [ENTERPRISE_SCHEMA]: { manager: boss.id } });
    const asObject = await createUser({ schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA], [ENTERPRISE_SCHEMA]: { manager: { value: boss.id } } });
    const patched = await patch(`/Users/${asObject.id}`, { op: 'replace', path: `${ENTERPRISE_SCHEMA}:manager`, value: asString.id });

    // Assess
    expect(asString[ENTERPRISE_SCHEMA]).toEqual({ manager: { value: boss.id } });
    expect(asObject[ENTERPRISE_SCHEMA]).toEqual({ manager: { value: boss.id } });
    expect(patched.json[ENTERPRISE_SCHEMA]).toEqual({ manager: { value: asString.id } });
  });

  it.each([
    ['no Content-Type', undefined],
    ['application/json', 'application/json'],
    ['a wrong Content-Type', 'text/plain'],
  ])('parses a JSON body sent with %s', async (_, contentType) => {
    // Prepare
    const body = newUser();

    // Act
    const answer = await fetch(`${hub.scim}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(contentType ? { 'content-type': contentType } : {}) },
      // A Buffer body makes fetch send no Content-Type of its own.
      body: Buffer.from(JSON.stringify(body)),
    });

    // Assess
    expect(answer.status).toBe(201);
    expect(((await answer.json()) as { userName: string }).userName).toBe(body.userName);
  });

  it('accepts a PATCH with an empty Operations array and changes nothing', async () => {
    // Prepare
    const user = await createUser();

    // Act
    const answer = await patch(`/Users/${user.id}`);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(user);
  });

  it("takes Okta's password on create: never returned, stored only as an scrypt hash of it", async () => {
    // Act
    const created = await createUser({ password: 't1meMachine!' });

    // Assess
    expect(created.password).toBeUndefined();
    const got = await api().get(`/Users/${created.id}`);
    expect(got.text).not.toContain('t1meMachine');
    expect(got.json.password).toBeUndefined();
    const item = await storedItem(created.id);
    expect(JSON.stringify(item)).not.toContain('t1meMachine');
    expect(item?.passwordHash).toMatch(/^scrypt\$[\w-]+\$[\w-]+$/);
    expect(await verifyPassword('t1meMachine!', String(item?.passwordHash))).toBe(true);
    expect(await verifyPassword('t1meMachine?', String(item?.passwordHash))).toBe(false);
  });

  it("accepts Okta's path-less deactivation PATCH", async () => {
    // Prepare
    const user = await createUser();

    // Act
    const answer = await patch(`/Users/${user.id}`, { op: 'replace', value: { active: false } });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json.active).toBe(false);
    expect((await api().get(`/Users/${user.id}`)).json.active).toBe(false);
  });

  it('accepts an unknown vendor schema URN with data on a group, ignoring its data by default', async () => {
    // Act
    const created = await api().post(
      '/Groups',
      groupBody('Vendor data', [], { schemas: [GROUP_SCHEMA, 'urn:example:vendor:2.0:Group'], 'urn:example:vendor:2.0:Group': { colour: 'teal' } }),
    );

    // Assess
    expect(created.status).toBe(201);
    expect(created.json.schemas).toEqual([GROUP_SCHEMA]);
    expect(created.json['urn:example:vendor:2.0:Group']).toBeUndefined();
  });

  describe('shapes Entra ID, OneLogin and authentik send', () => {
    it('filters /Users with a value path followed by a sub-attribute (Entra ID uniqueness query)', async () => {
      // Prepare
      const work = `vp-${++counter}@example.com`;
      const user = await createUser({
        emails: [
          { value: work, type: 'work' },
          { value: `home-${counter}@example.com`, type: 'home' },
        ],
      });

      // Act
      const found = await api().get(`/Users${filterQuery(`emails[type eq "work"].value eq "${work.toUpperCase()}"`)}`);
      const wrongType = await api().get(`/Users${filterQuery(`emails[type eq "home"].value eq "${work}"`)}`);

      // Assess
      expect(found.status).toBe(200);
      expect(idsOf(found.json)).toEqual([user.id]);
      expect(wrongType.json.totalResults).toBe(0);
    });

    it('takes enterprise attributes named without their URN in PATCH paths and in filters', async () => {
      // Prepare
      const user = await createUser();
      const department = `Dept ${++counter}`;

      // Act
      const patched = await patch(
        `/Users/${user.id}`,
        { op: 'Replace', path: 'department', value: department },
        { op: 'Add', path: 'employeeNumber', value: '701984' },
        { op: 'Add', path: 'costCenter', value: 'CC-1' },
        { op: 'Add', path: 'organization', value: 'Acme' },
        { op: 'Add', path: 'division', value: 'West' },
      );
      const found = await api().get(`/Users${filterQuery(`department eq "${department}" and employeeNumber eq "701984"`)}`);

      // Assess
      expect(patched.status).toBe(200);
      expect(patched.json.schemas).toEqual([USER_SCHEMA, ENTERPRISE_SCHEMA]);
      expect(patched.json[ENTERPRISE_SCHEMA]).toEqual({ department, employeeNumber: '701984', costCenter: 'CC-1', organization: 'Acme', division: 'West' });
      expect(idsOf(found.json)).toEqual([user.id]);
    });

    it('takes manager as a plain id, as {value} and as a list of one {value}, and filters manager eq "<id>"', async () => {
      // Prepare
      const boss = await createUser();
      const [a, b, c] = [await createUser(), await createUser(), await createUser()];

      // Act
      const answers = [
        await patch(`/Users/${a.id}`, { op: 'Add', path: 'manager', value: boss.id }),
        await patch(`/Users/${b.id}`, { op: 'Replace', path: `${ENTERPRISE_SCHEMA}:manager`, value: { value: boss.id } }),
        await patch(`/Users/${c.id}`, { op: 'Replace', path: `${ENTERPRISE_SCHEMA}:manager`, value: [{ value: boss.id }] }),
      ];
      const created = await createUser({ [ENTERPRISE_SCHEMA]: { manager: [{ value: boss.id }] } });
      const reports = await api().get(`/Users${filterQuery(`manager eq "${boss.id}"`, 'sortBy=meta.created')}`);

      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
      for (const answer of answers) expect(answer.json[ENTERPRISE_SCHEMA]).toEqual({ manager: { value: boss.id } });
      expect(created[ENTERPRISE_SCHEMA]).toEqual({ manager: { value: boss.id } });
      expect(idsOf(reports.json).sort()).toEqual([a.id, b.id, c.id, created.id].sort());
    });

    it('ignores schemas inside the value of a PATCH whose path is the extension URN', async () => {
      // Prepare
      const user = await createUser();

      // Act
      const added = await patch(`/Users/${user.id}`, { op: 'add', path: ENTERPRISE_SCHEMA, value: { schemas: [ENTERPRISE_SCHEMA], department: 'Engines' } });
      const replaced = await patch(`/Users/${user.id}`, {
        op: 'replace',
        path: ENTERPRISE_SCHEMA,
        value: { schemas: [ENTERPRISE_SCHEMA], costCenter: 'CC-2' },
      });

      // Assess
      expect(added.status).toBe(200);
      expect(replaced.status).toBe(200);
      expect(replaced.json[ENTERPRISE_SCHEMA]).toEqual({ department: 'Engines', costCenter: 'CC-2' });
    });

    it('reads one email object sent instead of a list as a list of one, on POST, PUT and PATCH (OneLogin)', async () => {
      // Prepare
      const email = (n: string) => ({ value: `${n}-${++counter}@example.com`, primary: true });

      // Act
      const created = await createUser({ emails: email('post') });
      const replaced = await api().put(`/Users/${created.id}`, userBody(String(created.userName), { emails: email('put') }));
      const patched = await patch(`/Users/${created.id}`, { op: 'replace', value: { emails: email('patch') } });
      const group = await api().post('/Groups', groupBody(`Single member ${counter}`, [], { members: { value: created.id } }));

      // Assess
      expect(created.emails).toEqual([expect.objectContaining({ primary: true })]);
      expect(replaced.status).toBe(200);
      expect(replaced.json.emails).toHaveLength(1);
      expect(replaced.json.emails[0].value).toMatch(/^put-/);
      expect(patched.json.emails).toHaveLength(1);
      expect(patched.json.emails[0].value).toMatch(/^patch-/);
      expect(group.status).toBe(201);
      expect(memberIdsOf(group.json)).toEqual([created.id]);
    });

    it('accepts a PATCH without schemas (authentik renames groups so) from a default token', async () => {
      // Prepare
      const group = (await api().post('/Groups', groupBody(`Before rename ${++counter}`))).json;

      // Act
      const answer = await api().patch(`/Groups/${group.id}`, { Operations: [{ op: 'replace', path: 'displayName', value: `After rename ${counter}` }] });

      // Assess
      expect(answer.status).toBe(204);
      expect((await api().get(`/Groups/${group.id}`)).json.displayName).toBe(`After rename ${counter}`);
    });
  });
});
