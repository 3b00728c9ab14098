import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AdminApi, Query } from '../api.ts';
import { download, type ExportFormat, exportAudit } from '../audit-export.ts';
import { redactRecord } from '../audit-format.ts';
import { ChangesTable } from '../components/changes-table.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { navigate, searchOf } from '../router.ts';
import { AUDIT_STATUSES, AUDIT_TRIGGERS, type AuditPage, type AuditRecord, type ConnectorHealth } from '../types.ts';

/** The log's filters, as the URL carries them and the admin API takes them. */
const FILTER_NAMES = ['connector', 'status', 'action', 'trigger', 'resource', 'from', 'to'] as const;
type Filters = Record<(typeof FILTER_NAMES)[number], string | undefined>;

const filtersOf = (search: URLSearchParams): Filters => Object.fromEntries(FILTER_NAMES.map((name) => [name, search.get(name) ?? undefined])) as Filters;

const PAGE_SIZE = 50;

/** `2026-11-29T21:00:00.000Z` to the value a datetime-local input shows (local time), and back. */
const toLocalInput = (iso: string | undefined): string => {
  if (!iso) return '';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return '';
  return new Date(time.getTime() - time.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (value: string): string | undefined => (value ? new Date(value).toISOString() : undefined);

const timeOf = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/**
 * The provisioning log: every operation the hub made on a connected app, newest first, with
 * filters kept in the URL (a view can be shared), paging by the API's cursor for as long as
 * there are records, each record opening to its steps, changed attributes and error, and the
 * whole filtered set downloadable as CSV or JSON.
 */
export const LogPage = ({ api, search }: { api: AdminApi; search: URLSearchParams }) => {
  const filters = filtersOf(search);
  const key = searchOf(filters);
  const [connectors, setConnectors] = useState<string[]>();
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const generation = useRef(0);

  useEffect(() => {
    api
      .get<{ connectors: ConnectorHealth[] }>('/connectors')
      .then((answer) => setConnectors(answer.connectors.map((c) => c.id)))
      .catch(() => setConnectors([]));
  }, [api]);

  /** The first page (cursor undefined) replaces the list; later pages extend it. A stale answer is dropped. */
  const load = async (cursor: string | undefined) => {
    const mine = ++generation.current;
    setLoading(true);
    setError(undefined);
    try {
      const page = await api.get<AuditPage>('/audit', { ...(filters as Query), limit: String(PAGE_SIZE), cursor });
      if (mine !== generation.current) return;
      setRecords((shown) => (cursor ? [...shown, ...page.items] : page.items));
      setNext(page.nextCursor);
    } catch (failure) {
      if (mine !== generation.current) return;
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    setRecords([]);
    setNext(undefined);
    void load(undefined);
  }, [api, key]);

  const filtered = key !== '';
  return (
    <section aria-labelledby="log-title">
      <h1 id="log-title">Provisioning log</h1>
      <LogFilters key={key} filters={filters} connectors={connectors} />
      <div class="toolbar">
        <button type="button" onClick={() => void load(undefined)} disabled={loading}>
          Refresh
        </button>
        <ExportButtons api={api} filters={filters} />
      </div>
      {error && <ErrorMessage message={`The log could not be read: ${error}`} retry={() => void load(records.length ? next : undefined)} />}
      {!error && !loading && records.length === 0 && (
        <p class="empty" role="status">
          {filtered ? (
            <>
              No records match these filters. <a href="/console/log">Clear the filters</a>
            </>
          ) : (
            'No operations recorded yet: a change from an identity provider, a reconciliation or an on-demand provisioning will show here.'
          )}
        </p>
      )}
      {records.length > 0 && <LogTable records={records} />}
      <div class="paging">
        {loading && <p role="status">Loading…</p>}
        {!loading && next && (
          <button type="button" onClick={() => void load(next)}>
            Load older records
          </button>
        )}
        {!loading && !next && records.length > 0 && <p class="muted">{records.length === 1 ? 'One record.' : `All ${records.length} records shown.`}</p>}
      </div>
    </section>
  );
};

const LogFilters = ({ filters, connectors }: { filters: Filters; connectors: string[] | undefined }) => {
  const [draft, setDraft] = useState(filters);
  const statuses = new Set(draft.status?.split(',').filter(Boolean));
  const set = (name: keyof Filters, value: string | undefined) => setDraft({ ...draft, [name]: value || undefined });
  const toggleStatus = (status: string, on: boolean) => {
    const next = new Set(statuses);
    if (on) next.add(status);
    else next.delete(status);
    set('status', AUDIT_STATUSES.filter((s) => next.has(s)).join(','));
  };
  const text = (event: Event) => (event.target as HTMLInputElement | HTMLSelectElement).value;
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(event) => {
        event.preventDefault();
        navigate(`/log${searchOf(draft)}`);
      }}
    >
      <div class="field">
        <label for="f-connector">Connector</label>
        <select id="f-connector" value={draft.connector ?? ''} onChange={(e) => set('connector', text(e))}>
          <option value="">All connectors</option>
          {(connectors ?? []).concat(draft.connector && !connectors?.includes(draft.connector) ? [draft.connector] : []).map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="f-resource">User or group</label>
        <input id="f-resource" type="search" placeholder="name or id" value={draft.resource ?? ''} onInput={(e) => set('resource', text(e).trim())} />
      </div>
      <div class="field">
        <label for="f-action">Action</label>
        <input id="f-action" type="text" placeholder="create, update, disable…" value={draft.action ?? ''} onInput={(e) => set('action', text(e).trim())} />
      </div>
      <div class="field">
        <label for="f-trigger">Trigger</label>
        <select id="f-trigger" value={draft.trigger ?? ''} onChange={(e) => set('trigger', text(e))}>
          <option value="">Any trigger</option>
          {AUDIT_TRIGGERS.map((trigger) => (
            <option key={trigger} value={trigger}>
              {trigger}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="f-from">From</label>
        <input id="f-from" type="datetime-local" value={toLocalInput(draft.from)} onInput={(e) => set('from', fromLocalInput(text(e)))} />
      </div>
      <div class="field">
        <label for="f-to">To</label>
        <input id="f-to" type="datetime-local" value={toLocalInput(draft.to)} onInput={(e) => set('to', fromLocalInput(text(e)))} />
      </div>
      <fieldset class="statuses">
        <legend>Status</legend>
        {AUDIT_STATUSES.map((status) => (
          <label key={status}>
            <input
              type="checkbox"
              name="status"
              value={status}
              checked={statuses.has(status)}
              onChange={(e) => toggleStatus(status, (e.target as HTMLInputElement).checked)}
            />
            {status}
          </label>
        ))}
      </fieldset>
      <div class="actions">
        <button type="submit">Apply filters</button>
        <a href="/console/log">Clear</a>
      </div>
    </form>
  );
};

const LogTable = ({ records }: { records: AuditRecord[] }) => {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (id: string) => {
    const next = new Set(open);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setOpen(next);
  };
  return (
    <table class="log">
      <caption class="visually-hidden">Operations, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Connector</th>
          <th scope="col">Resource</th>
          <th scope="col">Action</th>
          <th scope="col">Trigger</th>
          <th scope="col">Status</th>
          <th scope="col">
            <span class="visually-hidden">Details</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {records.map((record) => {
          const expanded = open.has(record.id);
          return (
            <Fragment key={record.id}>
              <tr class={expanded ? 'open' : undefined} data-record={record.id}>
                <td>
                  <time dateTime={record.time} title={record.time}>
                    {timeOf(record.time)}
                  </time>
                </td>
                <td>{record.connectorId}</td>
                <td>
                  <span class="muted">{record.resourceType}</span> {record.name ?? record.resourceId}
                </td>
                <td>{record.action}</td>
                <td>{record.trigger}</td>
                <td>
                  <StatusBadge status={record.status} />
                </td>
                <td>
                  <button type="button" class="link" aria-expanded={expanded} aria-controls={`details-${record.id}`} onClick={() => toggle(record.id)}>
                    {expanded ? 'Hide' : 'Details'}
                    <span class="visually-hidden"> of {record.name ?? record.resourceId}</span>
                  </button>
                </td>
              </tr>
              {expanded && (
                <tr class="details" id={`details-${record.id}`}>
                  <td colSpan={7}>
                    <RecordDetails record={redactRecord(record)} />
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
};

const RecordDetails = ({ record }: { record: AuditRecord }) => (
  <div class="record">
    <dl>
      <dt>Resource</dt>
      <dd>
        {record.resourceType} <code>{record.resourceId}</code>
        {record.name ? ` (${record.name})` : ''}
      </dd>
      {record.actor && (
        <>
          <dt>Changed by</dt>
          <dd>{record.actor}</dd>
        </>
      )}
      {record.targetId && (
        <>
          <dt>Target id</dt>
          <dd>
            <code>{record.targetId}</code>
          </dd>
        </>
      )}
      {record.attempt !== undefined && (
        <>
          <dt>Attempt</dt>
          <dd>{record.attempt}</dd>
        </>
      )}
      {record.latencyMs !== undefined && (
        <>
          <dt>Propagation</dt>
          <dd>{record.latencyMs} ms after the hub change</dd>
        </>
      )}
      {record.reason && (
        <>
          <dt>Reason</dt>
          <dd>{record.reason}</dd>
        </>
      )}
      {record.collidesWith && (
        <>
          <dt>Collides with</dt>
          <dd>
            <code>{record.collidesWith}</code>
          </dd>
        </>
      )}
      <dt>Record</dt>
      <dd>
        <code>{record.id}</code> at {record.time}
      </dd>
    </dl>
    {record.error && (
      <div class="error-box">
        <h3>Error</h3>
        <p>
          <code>{record.error.code}</code>: {record.error.message}
        </p>
      </div>
    )}
    <h3>Steps</h3>
    {record.steps.length > 0 ? (
      <ol class="steps">
        {record.steps.map((step, i) => (
          <li key={i}>{step}</li>
        ))}
      </ol>
    ) : (
      <p class="muted">No steps recorded: the change failed before planning.</p>
    )}
    <h3>Attributes changed</h3>
    <ChangesTable changes={record.changes} empty="None." />
  </div>
);

const ExportButtons = ({ api, filters }: { api: AdminApi; filters: Filters }) => {
  const [progress, setProgress] = useState<{ format: ExportFormat; records: number }>();
  const [error, setError] = useState<string>();
  const controller = useRef<AbortController>(new AbortController());
  const run = async (format: ExportFormat) => {
    controller.current = new AbortController();
    setError(undefined);
    setProgress({ format, records: 0 });
    try {
      const blob = await exportAudit(api, filters as Query, format, (records) => setProgress({ format, records }), controller.current.signal);
      download(blob, `provisioning-log-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`);
    } catch (failure) {
      if (!controller.current.signal.aborted) setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setProgress(undefined);
    }
  };
  return (
    <fieldset class="export">
      <legend class="visually-hidden">Export the filtered records</legend>
      <button type="button" disabled={progress !== undefined} onClick={() => void run('csv')}>
        Download CSV
      </button>
      <button type="button" disabled={progress !== undefined} onClick={() => void run('json')}>
        Download JSON
      </button>
      {progress && (
        <span role="status">
          Exporting {progress.format.toUpperCase()}: {progress.records} records…{' '}
          <button type="button" class="link" onClick={() => controller.current?.abort()}>
            Cancel
          </button>
        </span>
      )}
      {error && (
        <span class="error" role="alert">
          Export failed: {error}
        </span>
      )}
    </fieldset>
  );
};
