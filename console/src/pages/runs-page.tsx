import { useState } from 'preact/hooks';
import type { AdminApi } from '../api.ts';
import { useAction, useLoaded } from '../components/async-state.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { timeOf } from '../format.ts';
import { navigate, searchOf } from '../router.ts';
import type { ConnectorHealth, FeedRound, PlannedChange, RunRecord } from '../types.ts';

const roundText = (name: string, round: FeedRound) =>
  `${name}: ${round.round === 'full' ? `full round${round.reason ? ` (${round.reason})` : ''}` : 'only what changed since the last run'}`;

const countsText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ') || '-';

/**
 * Reconciliation runs, newest first, with progress and counters per situation and action. A
 * run awaiting approval shows what it would disable or delete, with approve and reject.
 */
export const RunsPage = ({ api, search }: { api: AdminApi; search: URLSearchParams }) => {
  const connector = search.get('connector') ?? '';
  const connectors = useLoaded(() => api.get<{ connectors: ConnectorHealth[] }>('/connectors'), 'all');
  const runs = useLoaded(() => api.get<{ runs: RunRecord[] }>('/runs', { connector: connector || undefined, limit: '50' }), connector);
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Reconciliation runs</h1>
      <div class="toolbar">
        <label for="runs-connector">Connector</label>
        <select
          id="runs-connector"
          value={connector}
          onChange={(event) => navigate(`/runs${searchOf({ connector: (event.target as HTMLSelectElement).value })}`)}
        >
          <option value="">All connectors</option>
          {connectors.data?.connectors.map((c) => (
            <option key={c.id} value={c.id}>
              {c.id}
            </option>
          ))}
        </select>
        <button type="button" onClick={runs.reload} disabled={runs.loading}>
          Refresh
        </button>
        {connector && <StartRun api={api} connectorId={connector} onStarted={runs.reload} />}
      </div>
      {runs.error && <ErrorMessage message={`The runs could not be read: ${runs.error}`} retry={runs.reload} />}
      {runs.loading && !runs.data && <p role="status">Loading…</p>}
      {runs.data && runs.data.runs.length === 0 && (
        <p class="empty" role="status">
          No reconciliation runs{connector ? ` of ${connector}` : ''} yet: they start on the connector's schedule, or with <code>npm run ops -- reconcile</code>
          .
        </p>
      )}
      {runs.data?.runs.map((run) => (
        <RunCard key={`${run.runId}-${run.updated}`} api={api} run={run} onDecided={runs.reload} />
      ))}
    </section>
  );
};

const RunCard = ({ api, run, onDecided }: { api: AdminApi; run: RunRecord; onDecided: () => void }) => {
  const awaiting = run.state === 'awaiting-approval';
  return (
    <article class="card" aria-labelledby={`run-${run.runId}`} data-run={run.runId}>
      <h2 id={`run-${run.runId}`}>
        {run.connectorId} · {timeOf(run.created)} <span class={`badge badge-run-${run.state}`}>{run.state}</span>
        {run.dryRun && <span class="badge">dry run</span>}
      </h2>
      <dl class="record">
        <dt>Run</dt>
        <dd>
          <code>{run.runId}</code> ({run.trigger})
        </dd>
        <dt>Progress</dt>
        <dd>
          {run.phase}, page {run.page}; {run.targetAccounts} target accounts read; {run.planPages} plan page{run.planPages === 1 ? '' : 's'}
        </dd>
        {(run.feed || run.full) && (
          <>
            <dt>Source read</dt>
            <dd>
              {run.feed
                ? [roundText('users', run.feed.users), ...(run.feed.groups ? [roundText('groups', run.feed.groups)] : [])].join('; ')
                : 'full round, asked for'}
            </dd>
          </>
        )}
        <dt>Situations</dt>
        <dd>{countsText(run.counters.situations)}</dd>
        <dt>Actions</dt>
        <dd>{countsText(run.counters.actions)}</dd>
        {run.reason && (
          <>
            <dt>Reason</dt>
            <dd>{run.reason}</dd>
          </>
        )}
        {run.decision && (
          <>
            <dt>Decision</dt>
            <dd>
              {run.decision.approved ? 'approved' : 'rejected'} by {run.decision.by} at {timeOf(run.decision.at)}
            </dd>
          </>
        )}
      </dl>
      {awaiting && <Approval api={api} run={run} onDecided={onDecided} />}
    </article>
  );
};

const Approval = ({ api, run, onDecided }: { api: AdminApi; run: RunRecord; onDecided: () => void }) => {
  const path = `/runs/${encodeURIComponent(run.runId)}`;
  const detail = useLoaded(() => api.get<{ run: RunRecord; plan: PlannedChange[]; planComplete: boolean }>(path, { planPages: '10' }), run.runId);
  const decision = useAction();
  const decide = (verdict: 'approve' | 'reject') =>
    decision.run(async () => {
      await api.post(`${path}/${verdict}`);
      onDecided();
    });
  const destructive = detail.data?.plan.filter((change) => change.action === 'disable' || change.action === 'delete') ?? [];
  return (
    <div class="approval">
      <h3>Awaiting approval</h3>
      {detail.error && <ErrorMessage message={`The plan could not be read: ${detail.error}`} retry={detail.reload} />}
      {detail.data && (
        <>
          <p>
            This run would disable or delete {destructive.length} account{destructive.length === 1 ? '' : 's'}
            {detail.data.planComplete ? '' : ' (first pages of the plan shown)'}:
          </p>
          <table>
            <caption class="visually-hidden">Changes the run would make</caption>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Situation</th>
                <th scope="col">Target account</th>
                <th scope="col">Hub user</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {detail.data.plan.map((change, i) => (
                <tr key={`${change.targetId ?? change.hubId ?? ''}-${i}`}>
                  <td>{change.action}</td>
                  <td>{change.situation}</td>
                  <td>{change.observedName ? `${change.observedName} (${change.targetId ?? '-'})` : (change.targetId ?? '-')}</td>
                  <td>{change.hubId ?? '-'}</td>
                  <td>{change.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <div class="toolbar">
        <ConfirmButton
          label="Approve"
          question={`Approve run ${run.runId}? Its changes go to ${run.connectorId}, disabling or deleting the accounts listed.`}
          confirm="Approve the run"
          danger
          onConfirm={() => void decide('approve')}
        />
        <ConfirmButton
          label="Reject"
          question={`Reject run ${run.runId}? Nothing of its plan is applied.`}
          confirm="Reject the run"
          onConfirm={() => void decide('reject')}
        />
        {decision.error && (
          <span class="error" role="alert">
            {decision.error}
          </span>
        )}
      </div>
    </div>
  );
};

/**
 * Starts a run of one connector now; a dry run plans and stops. A run over the deletion threshold
 * waits here for approval. A full round reads every account of an inbound source that otherwise
 * reads only its changes (Entra's delta queries); for other connectors every run is full.
 */
const StartRun = ({ api, connectorId, onStarted }: { api: AdminApi; connectorId: string; onStarted: () => void }) => {
  const { busy, error, run } = useAction();
  const [full, setFull] = useState(false);
  const start = (dryRun: boolean) =>
    run(async () => {
      await api.post(`/connectors/${encodeURIComponent(connectorId)}/reconcile`, { dryRun: String(dryRun), full: String(full) });
      onStarted();
    });
  return (
    <>
      <label class="check">
        <input type="checkbox" checked={full} onChange={(e) => setFull((e.target as HTMLInputElement).checked)} /> Full round (read every account, not only
        changes)
      </label>
      <button type="button" class="secondary" disabled={busy} onClick={() => void start(true)}>
        Start a dry run
      </button>
      <button type="button" class="secondary" disabled={busy} onClick={() => void start(false)}>
        Start a run
      </button>
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
};
