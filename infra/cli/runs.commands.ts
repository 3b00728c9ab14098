import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { sqsLanes, sqsRunPages } from '#shared/queues/sqs-reconcile.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { DynamoDirectoryStore } from '#shared/store/directory.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { DynamoLinkStore } from '#shared/store/link.repository.ts';
import { DynamoRunStore } from '#shared/store/run.repository.ts';
import { reconcileHubOf } from '#shared/sync/directory-reconcile.hub.ts';
import type { FeedRound, PlannedChange, RunRecord } from '#shared/sync/reconcile-run.ports.ts';
import { makeReconciliation } from '#shared/sync/reconcile-run.ts';
import { hubTopology } from '#shared/topology/hub.topology.ts';
import { queueNames } from '#shared/topology/queue-names.ts';
import { namePrefix } from '../aws/hub.parameters.ts';
import { type AwsHubConnection, callLocalAdmin, type HubConnection } from './local-hub-connection.ts';
import { countersLine, itemsOf, progressLine } from './run-progress.ts';

export const runsUsage = `  npm run ops -- reconcile <connector id> [--dry-run] [--full] [--no-wait]
      start a reconciliation run and follow it (a progress bar on a terminal, plain lines otherwise);
      --full reads an inbound source with a change feed (Entra) in a full round, not from its delta links
  npm run ops -- runs [--connector ID] [--limit N]   runs, newest first, with their counters
  npm run ops -- run <run id>                        one run: its state, counters and plan
  npm run ops -- approve <run id> | reject <run id>  decide a run waiting at the deletion threshold`;

export const RUN_COMMANDS = new Set(['reconcile', 'runs', 'run', 'approve', 'reject']);

export interface RunCommandOptions {
  connector?: string;
  limit?: string;
  dryRun: boolean;
  full?: boolean;
  noWait: boolean;
  json: boolean;
}

/** The same operations, on a deployed stage: the table and the queues, with the caller's credentials. */
const awsRuns = async (hub: AwsHubConnection) => {
  const documents = createDocumentClient(hub.dynamodb);
  const stage = process.env.STAGE_NAME ?? 'prod';
  const spec = hubTopology.queues.find((q) => q.name === 'reconcile');
  if (!spec) throw new Error('the topology has no reconcile queue');
  const reconcileQueue = `${namePrefix({ stageName: stage })}-${queueNames(spec).queue}`;
  const pagesUrl = async () => (await hub.sqs.send(new GetQueueUrlCommand({ QueueName: reconcileQueue }))).QueueUrl ?? '';
  const runs = new DynamoRunStore(documents, hub.tableName);
  const reconciliation = makeReconciliation({
    runs,
    pages: sqsRunPages(hub.sqs, await pagesUrl()),
    // Starting and deciding runs only sends page messages: the reconcile function sends the changes.
    lane: sqsLanes(hub.sqs, () => undefined),
    hub: reconcileHubOf(new DynamoDirectoryStore(documents, hub.tableName)),
    links: new DynamoLinkStore(documents, hub.tableName),
    audit: new DynamoAuditLog(documents, hub.tableName, 90),
    clock: () => new Date(),
    newId: () => `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
  });
  return { runs, reconciliation };
};

/** Reads and changes runs on the hub the CLI is connected to: the local admin API, or the stage's table and queues. */
const runApi = (hub: HubConnection) => ({
  list: async (connectorId: string | undefined, limit: number): Promise<RunRecord[]> =>
    hub.kind === 'local'
      ? ((await callLocalAdmin(hub, 'GET', '/runs', { connector: connectorId, limit: String(limit) })) as { runs: RunRecord[] }).runs
      : (await awsRuns(hub)).runs.list({ limit, ...(connectorId ? { connectorId } : {}) }),
  show: async (runId: string): Promise<{ run: RunRecord; plan: PlannedChange[] }> => {
    if (hub.kind === 'local') return (await callLocalAdmin(hub, 'GET', `/runs/${encodeURIComponent(runId)}`)) as { run: RunRecord; plan: PlannedChange[] };
    const { runs } = await awsRuns(hub);
    const run = await runs.get(runId);
    if (!run) throw new Error(`no run ${runId}`);
    const plan = (await Promise.all(Array.from({ length: Math.min(run.planPages, 10) }, (_, page) => runs.getPlanPage(runId, page)))).flat();
    return { run, plan };
  },
  start: async (connectorId: string, dryRun: boolean, full: boolean): Promise<RunRecord> =>
    hub.kind === 'local'
      ? (
          (await callLocalAdmin(hub, 'POST', `/connectors/${encodeURIComponent(connectorId)}/reconcile`, { dryRun: String(dryRun), full: String(full) })) as {
            run: RunRecord;
          }
        ).run
      : (await awsRuns(hub)).reconciliation.start({ id: connectorId }, { trigger: 'on-demand', dryRun, full }),
  decide: async (runId: string, approve: boolean): Promise<RunRecord> => {
    if (hub.kind === 'local')
      return ((await callLocalAdmin(hub, 'POST', `/runs/${encodeURIComponent(runId)}/${approve ? 'approve' : 'reject'}`)) as { run: RunRecord }).run;
    const { reconciliation } = await awsRuns(hub);
    const by = process.env.USER ?? 'operator';
    return approve ? reconciliation.approve(runId, by) : reconciliation.reject(runId, by);
  },
});

const FINAL = new Set(['awaiting-approval', 'done', 'failed', 'cancelled']);

/** Follows a run until it stops: a bar rewritten in place on a terminal, a line every few seconds otherwise. */
const follow = async (api: ReturnType<typeof runApi>, started: RunRecord): Promise<RunRecord> => {
  const tty = process.stdout.isTTY === true;
  const watch = { startedAt: Date.now(), startItems: itemsOf(started) };
  let run = started;
  let lastLine = 0;
  while (!FINAL.has(run.state)) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    run = (await api.show(run.runId)).run;
    const line = progressLine(run, { ...watch, now: Date.now() });
    if (tty) process.stdout.write(`\r${line.padEnd(process.stdout.columns ? process.stdout.columns - 1 : 100)}`);
    else if (Date.now() - lastLine >= 5_000 || FINAL.has(run.state)) {
      console.log(line);
      lastLine = Date.now();
    }
  }
  if (tty) process.stdout.write('\n');
  return run;
};

/** How an inbound source's change feed was read: its changes since the last run, or a full round and why. */
const feedLine = (run: RunRecord) => {
  const round = (name: string, r: FeedRound | undefined) =>
    r === undefined ? [] : [`${name} ${r.round === 'changes' ? 'changes since the last run' : `full round${r.reason ? ` (${r.reason})` : ''}`}`];
  return run.feed
    ? `\n  delta: ${[...round('users', run.feed.users), ...(run.targetGroups === undefined ? [] : round('groups', run.feed.groups))].join('; ')}`
    : '';
};

const showRun = (run: RunRecord) =>
  `${run.runId}  ${run.connectorId}  ${run.state}${run.dryRun ? ' (dry run)' : ''}  ${run.created}  accounts ${run.targetAccounts}${run.targetGroups === undefined ? '' : `  groups ${run.targetGroups}`}  ${countersLine(run)}${run.reason ? `\n  ${run.reason}` : ''}${feedLine(run)}`;

export const runCommand = async (hub: HubConnection, command: string, target: string | undefined, options: RunCommandOptions): Promise<number> => {
  const api = runApi(hub);
  if (command === 'runs') {
    const limit = Number(options.limit ?? '20');
    const runs = await api.list(options.connector, limit);
    for (const run of runs) console.log(options.json ? JSON.stringify(run) : showRun(run));
    if (runs.length === 0 && !options.json) console.log('no runs');
    return 0;
  }
  if (!target) throw new Error(`${command} needs a ${command === 'reconcile' ? 'connector' : 'run'} id`);
  if (command === 'run') {
    const { run, plan } = await api.show(target);
    if (options.json) {
      console.log(JSON.stringify({ run, plan }));
      return 0;
    }
    console.log(showRun(run));
    for (const change of plan) {
      console.log(`  ${change.situation.padEnd(10)} ${change.action.padEnd(7)} ${change.hubId ?? '-'} -> ${change.targetId ?? '-'}  ${change.reason}`);
    }
    return 0;
  }
  if (command === 'approve' || command === 'reject') {
    console.log(showRun(await api.decide(target, command === 'approve')));
    return 0;
  }
  const started = await api.start(target, options.dryRun, options.full === true);
  console.log(`started run ${started.runId} of ${target}${options.dryRun ? ' (dry run)' : ''}`);
  if (options.noWait) return 0;
  const finished = await follow(api, started);
  console.log(showRun(finished));
  if (finished.state === 'awaiting-approval')
    console.log(`  approve: npm run ops -- approve ${finished.runId}   reject: npm run ops -- reject ${finished.runId}`);
  return finished.state === 'failed' ? 1 : 0;
};
