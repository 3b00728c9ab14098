import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { routeRunRequest } from '../../../functions/admin-api/run-routes.ts';
import { makeReconciliation } from '../../../shared/sync/reconcile-run.ts';
import { InMemoryLanes, InMemoryRunPages, InMemoryRunStore, inMemoryReconcileHub } from '../../builders/reconcile.fakes.ts';
import { connectorConfig, FakeTarget, syncFixture } from '../../builders/sync.fakes.ts';

const request = (method: string, query: Record<string, string> = {}): APIGatewayProxyEvent =>
  ({
    httpMethod: method,
    queryStringParameters: Object.keys(query).length ? query : null,
    requestContext: { identity: { userArn: 'arn:aws:iam::1:user/ops' } },
  }) as unknown as APIGatewayProxyEvent;

/** The run routes on a real reconciliation over in-memory ports, with one connector `acme`. */
const setup = () => {
  const fixture = syncFixture();
  const runs = new InMemoryRunStore(fixture.now);
  const pages = new InMemoryRunPages();
  const target = new FakeTarget();
  const config = connectorConfig({ id: 'acme', reconcile: { orphans: 'delete', deletionThreshold: { percent: 10, minimum: 1 } } });
  let ids = 0;
  const reconciliation = makeReconciliation({
    runs,
    pages,
    lane: new InMemoryLanes(),
    hub: inMemoryReconcileHub(fixture.hub),
    links: fixture.links,
    audit: fixture.audit,
    clock: fixture.clock,
    newId: () => `run-${++ids}`,
  });
  const route = async (method: string, path: string, query: Record<string, string> = {}) => {
    const response = await routeRunRequest(request(method, query), path, {
      connectorIds: async () => ['acme'],
      listRuns: (options) => runs.list(options),
      getRun: (runId) => runs.get(runId),
      planPage: (runId, page) => runs.getPlanPage(runId, page),
      startRun: (connectorId, dryRun, full) => reconciliation.start({ ...config, id: connectorId }, { trigger: 'on-demand', dryRun, full }),
      approve: (runId, by) => reconciliation.approve(runId, by),
      reject: (runId, by) => reconciliation.reject(runId, by),
    });
    return response ? { status: response.statusCode, body: JSON.parse(response.body) } : undefined;
  };
  const runPages = async () => {
    for (let message = pages.take(); message; message = pages.take()) await reconciliation.handlePage(config, async () => target, message);
  };
  return { route, runPages, target };
};

describe('the run routes of the admin API', () => {
  it('starts a run, refuses a second one while it is under way, and lists it', async () => {
    const { route } = setup();

    const started = await route('POST', '/connectors/acme/reconcile', { dryRun: 'true' });
    const again = await route('POST', '/connectors/acme/reconcile');
    const listed = await route('GET', '/runs', { connector: 'acme' });

    expect(started).toMatchObject({ status: 202, body: { run: { connectorId: 'acme', dryRun: true, state: 'planning' } } });
    expect(again).toMatchObject({ status: 409 });
    expect(listed?.body.runs.map((r: { runId: string }) => r.runId)).toEqual([started?.body.run.runId]);
  });

  it('starts a full round when asked, and refuses a full flag that is not true or false', async () => {
    const { route } = setup();

    const wrong = await route('POST', '/connectors/acme/reconcile', { full: 'yes' });
    const started = await route('POST', '/connectors/acme/reconcile', { full: 'true' });

    expect(wrong).toMatchObject({ status: 400, body: { error: expect.stringContaining('full') } });
    expect(started).toMatchObject({ status: 202, body: { run: { connectorId: 'acme', full: true } } });
  });

  it('shows a run awaiting approval with its plan, and approves it once', async () => {
    // Prepare
    const { route, runPages, target } = setup();
    target.account({ userName: 'stranger' });
    const runId = (await route('POST', '/connectors/acme/reconcile'))?.body.run.runId as string;
    await runPages();
    // Act
    const shown = await route('GET', `/runs/${runId}`);
    const approved = await route('POST', `/runs/${runId}/approve`);
    const twice = await route('POST', `/runs/${runId}/approve`);
    // Assess
    expect(shown).toMatchObject({
      status: 200,
      body: { run: { state: 'awaiting-approval' }, plan: [{ situation: 'orphan', action: 'delete' }], planComplete: true },
    });
    expect(approved).toMatchObject({ status: 200, body: { run: { state: 'applying', decision: { by: 'arn:aws:iam::1:user/ops', approved: true } } } });
    expect(twice).toMatchObject({ status: 409 });
  });

  it.each([
    ['GET', '/runs/nope', {}, 404],
    ['POST', '/runs/nope/reject', {}, 404],
    ['POST', '/connectors/other/reconcile', {}, 404],
    ['POST', '/connectors/acme/reconcile', { dryRun: 'maybe' }, 400],
    ['GET', '/runs', { limit: '1000' }, 400],
    ['DELETE', '/runs', {}, 405],
  ])('%s %s %j answers %i', async (method, path, query, status) => {
    const { route } = setup();
    expect((await route(method, path, query as Record<string, string>))?.status).toBe(status);
  });

  it('leaves other paths to the rest of the router', async () => {
    const { route } = setup();
    expect(await route('GET', '/audit')).toBeUndefined();
  });
});
