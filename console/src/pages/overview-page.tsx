import type { AdminApi } from '../api.ts';
import { useLoaded } from '../components/async-state.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { StatusChart } from '../components/status-chart.tsx';
import { latency, percent, timeOf } from '../format.ts';
import { navigate, searchOf } from '../router.ts';
import type { ConnectorOverview, Overview } from '../types.ts';

const RANGES = [
  { hours: 6, label: 'Last 6 hours' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 24 * 7, label: 'Last 7 days' },
];

/**
 * The overview: per connector, operations by status over time, error rate, propagation
 * latency, circuit breaker, DLQ depth and last reconciliation; and the hub's totals.
 */
export const OverviewPage = ({ api, search }: { api: AdminApi; search: URLSearchParams }) => {
  const hours = search.get('hours') ?? '24';
  const overview = useLoaded(() => api.get<Overview>('/overview', { hours }), hours);
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <div class="toolbar">
        <label for="range">Period</label>
        <select id="range" value={hours} onChange={(event) => navigate(`/${searchOf({ hours: (event.target as HTMLSelectElement).value })}`)}>
          {RANGES.map((range) => (
            <option key={range.hours} value={String(range.hours)}>
              {range.label}
            </option>
          ))}
        </select>
        <button type="button" onClick={overview.reload} disabled={overview.loading}>
          Refresh
        </button>
      </div>
      {overview.error && <ErrorMessage message={`The overview could not be read: ${overview.error}`} retry={overview.reload} />}
      {overview.loading && !overview.data && <p role="status">Loading…</p>}
      {overview.data && (
        <>
          <dl class="tiles" aria-label="Hub totals">
            <div>
              <dt>Users</dt>
              <dd>{overview.data.hub.users}</dd>
            </div>
            <div>
              <dt>Groups</dt>
              <dd>{overview.data.hub.groups}</dd>
            </div>
            <div>
              <dt>Connectors</dt>
              <dd>{overview.data.connectors.length}</dd>
            </div>
          </dl>
          {overview.data.connectors.length === 0 ? (
            <p class="empty" role="status">
              No connectors: the connectors document lists none, so the hub provisions nowhere.
            </p>
          ) : (
            overview.data.connectors.map((connector) => <ConnectorCard key={connector.id} connector={connector} />)
          )}
        </>
      )}
    </section>
  );
};

const ConnectorCard = ({ connector }: { connector: ConnectorOverview }) => {
  const { totals, breaker, lastRun } = connector;
  const failures = (totals.byStatus.failed ?? 0) + (totals.byStatus['dead-lettered'] ?? 0);
  return (
    <article class="card" aria-labelledby={`c-${connector.id}`}>
      <h2 id={`c-${connector.id}`}>{connector.id}</h2>
      <dl class="tiles">
        <div>
          <dt>Operations</dt>
          <dd>{totals.operations}</dd>
        </div>
        <div>
          <dt>Error rate</dt>
          <dd class={failures > 0 ? 'error' : undefined}>
            {percent(totals.errorRate)}{' '}
            {failures > 0 && <a href={`/console/log${searchOf({ connector: connector.id, status: 'failed,dead-lettered' })}`}>see failures</a>}
          </dd>
        </div>
        <div>
          <dt>Latency p50</dt>
          <dd>{latency(totals.latencyP50Ms, totals.latencyMeasured)}</dd>
        </div>
        <div>
          <dt>Latency p99</dt>
          <dd>{latency(totals.latencyP99Ms, totals.latencyMeasured)}</dd>
        </div>
        <div>
          <dt>Circuit breaker</dt>
          <dd class={breaker.state === 'closed' ? undefined : 'error'}>
            {breaker.state === 'closed' ? 'closed (healthy)' : `${breaker.state}${breaker.reason ? `: ${breaker.reason}` : ''}`}
          </dd>
        </div>
        <div>
          <dt>Dead letters</dt>
          <dd class={connector.deadLetters > 0 ? 'error' : undefined}>
            {connector.deadLetters}{' '}
            <a href={`/console/connectors${searchOf({ connector: connector.id })}`}>{connector.deadLetters > 0 ? 'inspect and redrive' : 'details'}</a>
          </dd>
        </div>
        <div>
          <dt>Last reconciliation</dt>
          <dd>
            {lastRun ? (
              <a href={`/console/runs${searchOf({ connector: connector.id })}`}>
                {lastRun.state} · {timeOf(lastRun.created)}
              </a>
            ) : (
              'never'
            )}
          </dd>
        </div>
      </dl>
      {totals.operations === 0 ? <p class="muted">No operations in this period.</p> : <StatusChart connectorId={connector.id} series={connector.series} />}
    </article>
  );
};
