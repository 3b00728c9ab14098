import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterQuery, groupBody, memberIdsOf, patchBody, userBody } from '../../builders/scim.builders.ts';
import { scimClient, startTestHub } from '../../support/local-hub.ts';

/**
 * Uniqueness and versions are exact under concurrent requests: guards and version checks are
 * conditions in the same DynamoDB transaction as the write, not reads before it.
 */
describe('SCIM under concurrent requests', () => {
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);
  const PARALLEL = 10;
  const statuses = (answers: Array<{ status: number }>) => answers.map((answer) => answer.status).sort();
  const scimTypes = (answers: Array<{ status: number; json?: { scimType?: string } }>) =>
    answers.filter((answer) => answer.status !== 201 && answer.status !== 200).map((answer) => answer.json?.scimType);

  beforeAll(async () => {
    hub = await startTestHub('scim-concurrency');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('lets exactly one of fifty parallel creates of one userName (in varying case and normal form) succeed', async () => {
    // Prepare: "rené" precomposed and decomposed, in two cases.
    const spellings = ['ren\u00e9-race@example.com', 'RENE\u0301-RACE@Example.com', 'Rene\u0301-race@example.com', 'REN\u00c9-race@EXAMPLE.com'];
    const CREATES = 50;

    // Act
    const answers = await Promise.all(Array.from({ length: CREATES }, (_, i) => api().post('/Users', userBody(spellings[i % spellings.length] as string))));

    // Assess
    expect(statuses(answers)).toEqual([201, ...Array(CREATES - 1).fill(409)]);
    expect(scimTypes(answers)).toEqual(Array(CREATES - 1).fill('uniqueness'));
    expect((await api().get(`/Users${filterQuery('userName eq "ren\u00e9-race@example.com"')}`)).json.totalResults).toBe(1);
  });

  it('creates all of ten parallel users sharing one externalId (not unique, RFC 7643 section 3.1) and finds each by it', async () => {
    // Act
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => api().post('/Users', userBody(`ext-race-${i}@example.com`, { externalId: 'ext-race' }))),
    );

    // Assess
    expect(statuses(answers)).toEqual(Array(PARALLEL).fill(201));
    expect((await api().get(`/Users${filterQuery('externalId eq "ext-race"')}`)).json.totalResults).toBe(PARALLEL);
  });

  it('lets exactly one of ten parallel creates of one group displayName succeed', async () => {
    // Act
    const answers = await Promise.all(Array.from({ length: PARALLEL }, () => api().post('/Groups', groupBody('Racing team'))));

    // Assess
    expect(statuses(answers)).toEqual([201, ...Array(PARALLEL - 1).fill(409)]);
    expect(scimTypes(answers)).toEqual(Array(PARALLEL - 1).fill('uniqueness'));
  });

  it('lets exactly one of several users renamed in parallel to the same userName take it', async () => {
    // Prepare
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api().post('/Users', userBody(`rename-${i}@example.com`))).json.id);

    // Act
    const answers = await Promise.all(ids.map((id) => api().put(`/Users/${id}`, userBody('renamed@example.com'))));

    // Assess
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409]);
    const winner = answers.find((answer) => answer.status === 200)?.json.id;
    const found = await api().get(`/Users${filterQuery('userName eq "renamed@example.com"')}`);
    expect(found.json.Resources.map((user: { id: string }) => user.id)).toEqual([winner]);
  });

  it('applies exactly one of twenty parallel PATCHes carrying the same If-Match; the others get 412', async () => {
    // Prepare
    const user = (await api().post('/Users', userBody('if-match-race@example.com'))).json;
    const WRITERS = 20;

    // Act
    const answers = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) =>
        api().patch(`/Users/${user.id}`, patchBody({ op: 'replace', path: 'title', value: `writer ${i}` }), { 'if-match': 'W/"1"' }),
      ),
    );

    // Assess
    expect(statuses(answers)).toEqual([200, ...Array(WRITERS - 1).fill(412)]);
    expect(scimTypes(answers)).toEqual(Array(WRITERS - 1).fill(undefined));
    const winner = answers.find((answer) => answer.status === 200);
    expect((await api().get(`/Users/${user.id}`)).json).toMatchObject({ title: winner?.json.title, meta: { version: 'W/"2"' } });
  });

  it('applies every one of parallel PATCHes without If-Match that change different attributes', async () => {
    // Prepare
    const user = (await api().post('/Users', userBody('merge-race@example.com'))).json;
    // Four writers: the directory re-reads and re-applies a PATCH up to four times, and each
    // retry means another writer committed, so the last of four always gets through.
    const changes = { title: 'Countess', nickName: 'Ada', displayName: 'Ada L.', locale: 'en-GB' };

    // Act
    const answers = await Promise.all(
      Object.entries(changes).map(([path, value]) => api().patch(`/Users/${user.id}`, patchBody({ op: 'replace', path, value }))),
    );

    // Assess
    expect(statuses(answers)).toEqual([200, 200, 200, 200]);
    expect((await api().get(`/Users/${user.id}`)).json).toMatchObject({ ...changes, meta: { version: 'W/"5"' } });
  });

  it('adds every member of parallel PATCHes to one group, counting each once', async () => {
    // Prepare
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await api().post('/Users', userBody(`joiner-${i}@example.com`))).json.id);
    const group = (await api().post('/Groups', groupBody('Joined in parallel'))).json;

    // Act
    const answers = await Promise.all(ids.map((id) => api().patch(`/Groups/${group.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: id }] }))));

    // Assess
    expect(statuses(answers)).toEqual(Array(ids.length).fill(204));
    const got = await api().get(`/Groups/${group.id}`);
    expect(memberIdsOf(got.json)).toEqual([...ids].sort());
    expect(got.json.meta.version).toBe(`W/"${1 + ids.length}"`);
  });
});
