import { useState } from 'preact/hooks';
import type { AdminApi } from '../api.ts';
import { useAction, useLoaded } from '../components/async-state.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { timeOf } from '../format.ts';
import { searchOf } from '../router.ts';
import type { ConnectorHealth, DeadLetter, RedriveResult } from '../types.ts';

/** What a dead-lettered change was about, from its message body. */
const subjectOf = (body: unknown): string => {
  if (!body || typeof body !== 'object') return '-';
  const message = body as { kind?: string; id?: string; groupId?: string; memberId?: string };
  if (message.kind === 'membership') return `membership ${message.memberId ?? '?'} in group ${message.groupId ?? '?'}`;
  return `${message.kind ?? 'change'} ${message.id ?? ''}`.trim();
};

/**
 * Connectors: each one's circuit breaker (quarantine reason and next probe) and dead-letter
 * queue; for the connector in the URL, its dead letters with their reasons and a redrive that
 * asks first.
 */
export const ConnectorsPage = ({ api, search }: { api: AdminApi; search: URLSearchParams }) => {
  const selected = search.get('connector') ?? undefined;
  const list = useLoaded(() => api.get<{ connectors: ConnectorHealth[] }>('/connectors'), 'all');
  return (
    <section aria-labelledby="connectors-title">
      <h1 id="connectors-title">Connectors</h1>
      {list.error && <ErrorMessage message={`The connectors could not be read: ${list.error}`} retry={list.reload} />}
      {list.loading && !list.data && <p role="status">Loading…</p>}
      {list.data && list.data.connectors.length === 0 && (
        <p class="empty" role="status">
          No connectors: the connectors document lists none.
        </p>
      )}
      {list.data && list.data.connectors.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Connector</th>
              <th scope="col">Circuit breaker</th>
              <th scope="col">Next probe</th>
              <th scope="col">Dead letters</th>
            </tr>
          </thead>
          <tbody>
            {list.data.connectors.map((c) => (
              <tr key={c.id} aria-current={c.id === selected ? 'true' : undefined}>
                <th scope="row">
                  <a href={`/console/connectors${searchOf({ connector: c.id })}`}>{c.id}</a>
                </th>
                <td>
                  {c.breaker.state}
                  {c.breaker.reason ? `: ${c.breaker.reason}` : ''}
                </td>
                <td>{c.breaker.state === 'closed' ? '-' : timeOf(c.breaker.nextProbeAt)}</td>
                <td>{c.deadLetters}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected && <DeadLetters key={selected} api={api} connectorId={selected} onRedriven={list.reload} />}
    </section>
  );
};

const DeadLetters = ({ api, connectorId, onRedriven }: { api: AdminApi; connectorId: string; onRedriven: () => void }) => {
  const path = `/connectors/${encodeURIComponent(connectorId)}`;
  const letters = useLoaded(() => api.get<{ approximateCount: number; messages: DeadLetter[] }>(`${path}/dead-letters`, { limit: '10' }), connectorId);
  const [result, setResult] = useState<RedriveResult>();
  const { busy, error, run } = useAction();
  const count = letters.data?.approximateCount ?? 0;
  const redrive = () =>
    run(async () => {
      // As many as the operator saw: a change that fails again comes back to the DLQ, and must not be moved round and round.
      setResult(await api.post<RedriveResult>(`${path}/redrive`, { limit: String(Math.max(1, count)) }));
      letters.reload();
      onRedriven();
    });
  return (
    <section aria-labelledby="dlq-title" class="card">
      <h2 id="dlq-title">Dead letters of {connectorId}</h2>
      {letters.error && <ErrorMessage message={`The dead letters could not be read: ${letters.error}`} retry={letters.reload} />}
      {letters.loading && !letters.data && <p role="status">Loading…</p>}
      {letters.data && count === 0 && letters.data.messages.length === 0 && (
        <p class="empty" role="status">
          No dead letters: every change of this connector was applied or is still being tried.
        </p>
      )}
      {letters.data && letters.data.messages.length > 0 && (
        <>
          <p>
            About {count} change{count === 1 ? '' : 's'} gave up; the first {letters.data.messages.length}:
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Change</th>
                <th scope="col">Reason</th>
                <th scope="col">Dead-lettered</th>
                <th scope="col">Received</th>
              </tr>
            </thead>
            <tbody>
              {letters.data.messages.map((m) => (
                <tr key={m.messageId}>
                  <td>{subjectOf(m.body)}</td>
                  <td>{m.reason ?? <span class="muted">not recorded</span>}</td>
                  <td>{timeOf(m.sentAt)}</td>
                  <td>{m.receiveCount}×</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <div class="toolbar">
        <ConfirmButton
          label="Redrive"
          question={`Move the ${count} dead letter${count === 1 ? '' : 's'} of ${connectorId} back to its lane? Each change is tried again, in order with new changes.`}
          confirm="Redrive now"
          disabled={busy || count === 0}
          onConfirm={() => void redrive()}
        />
        <button type="button" class="secondary" onClick={letters.reload} disabled={letters.loading}>
          Refresh
        </button>
        {busy && <span role="status">Redriving…</span>}
        {result && (
          <span role="status">
            Moved {result.moved}; {result.remaining} remain
            {result.stoppedBy === 'budget'
              ? ' (the request ran out of time: redrive again)'
              : result.stoppedBy === 'returned'
                ? ' (they failed again after this redrive moved them: read their reasons before trying again)'
                : ''}
            .
          </span>
        )}
        {error && (
          <span class="error" role="alert">
            Redrive failed: {error}
          </span>
        )}
      </div>
    </section>
  );
};
