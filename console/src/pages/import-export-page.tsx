import { useRef, useState } from 'preact/hooks';
import type { AdminApi } from '../api.ts';
import { download } from '../audit-export.ts';
import { useAction } from '../components/async-state.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import type { ImportJob, RejectedRow } from '../types.ts';

const FORMATS = { csv: 'csv', json: 'json', ndjson: 'ndjson', jsonl: 'ndjson' } as const;
type Format = (typeof FORMATS)[keyof typeof FORMATS];
const formatOf = (name: string): Format | undefined => FORMATS[(/\.([a-z]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '') as keyof typeof FORMATS];
const POLL_MS = 500;
const REJECTED_PAGE = 100;

/**
 * Import and export: upload a CSV, JSON or NDJSON file of users, see what a dry run would do
 * (counters, and every rejected row with its line and reason), then import it for real with the
 * same options; and download users or groups as CSV, JSON or NDJSON, the same files `ops export`
 * writes. Imports go through the same job API as `ops import`, so they resume and reach the
 * connectors with trigger `import`.
 */
export const ImportExportPage = ({ api }: { api: AdminApi; search: URLSearchParams }) => (
  <section aria-labelledby="transfer-title">
    <h1 id="transfer-title">Import and export</h1>
    <ImportPanel api={api} />
    <ExportPanel api={api} />
  </section>
);

const ImportPanel = ({ api }: { api: AdminApi }) => {
  const [file, setFile] = useState<File>();
  const [mode, setMode] = useState('upsert');
  const [match, setMatch] = useState('userName');
  const [provision, setProvision] = useState(true);
  const [job, setJob] = useState<ImportJob>();
  const [rejected, setRejected] = useState<{ rows: RejectedRow[]; next?: string }>();
  /** The inputs the shown dry run answered: Import sends exactly them. */
  const [dryRunOf, setDryRunOf] = useState<string>();
  const action = useAction();
  const generation = useRef(0);
  const inputs = `${file?.name}|${file?.size}|${file?.lastModified}|${mode}|${match}|${provision}`;
  const format = file ? formatOf(file.name) : undefined;

  const follow = async (started: ImportJob, mine: number): Promise<ImportJob> => {
    let current = started;
    while (current.state !== 'completed' && current.state !== 'failed' && mine === generation.current) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      current = (await api.get<{ job: ImportJob }>(`/imports/${encodeURIComponent(current.jobId)}`)).job;
      if (mine === generation.current) setJob(current);
    }
    return current;
  };
  const loadRejected = async (jobId: string, cursor?: string) => {
    const page = await api.get<{ rejected: RejectedRow[]; nextCursor?: string }>(`/imports/${encodeURIComponent(jobId)}/rejected`, {
      limit: String(REJECTED_PAGE),
      cursor,
    });
    setRejected((shown) => ({ rows: [...(cursor ? (shown?.rows ?? []) : []), ...page.rejected], next: page.nextCursor }));
  };
  const run = async (dryRun: boolean) => {
    if (!file || !format) return;
    const mine = ++generation.current;
    setJob(undefined);
    setRejected(undefined);
    setDryRunOf(undefined);
    await action.run(async () => {
      const query = { source: file.name, format, mode, match, provision: String(provision), dryRun: String(dryRun) };
      const started = (await api.upload<{ job: ImportJob }>('/imports/upload', query, file)).job;
      setJob(started);
      const done = await follow(started, mine);
      if (mine !== generation.current) return;
      if (done.counters.rejected > 0) await loadRejected(done.jobId);
      if (dryRun && done.state === 'completed') setDryRunOf(inputs);
    });
  };

  return (
    <article class="card" aria-labelledby="import-title">
      <h2 id="import-title">Import users</h2>
      <form
        class="editor"
        aria-label="Import a file"
        onSubmit={(event) => {
          event.preventDefault();
          void run(true);
        }}
      >
        <div class="field">
          <label for="i-file">File (CSV, JSON or NDJSON)</label>
          <input id="i-file" type="file" accept=".csv,.json,.ndjson,.jsonl" required onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0])} />
        </div>
        <div class="field">
          <label for="i-mode">Mode</label>
          <select id="i-mode" value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value)}>
            <option value="upsert">create or update</option>
            <option value="create">create new users only</option>
            <option value="update">update existing users only</option>
          </select>
        </div>
        <div class="field">
          <label for="i-match">Match rows by</label>
          <select id="i-match" value={match} onChange={(e) => setMatch((e.target as HTMLSelectElement).value)}>
            <option value="userName">userName</option>
            <option value="externalId">externalId</option>
          </select>
        </div>
        <label class="check">
          <input type="checkbox" checked={provision} onChange={(e) => setProvision((e.target as HTMLInputElement).checked)} /> Provision the changes to
          connectors
        </label>
        {file && !format && <p class="error">{file.name}: the name must end in .csv, .json or .ndjson.</p>}
        <div class="actions">
          <button type="submit" disabled={!file || !format || action.busy}>
            Dry run
          </button>
          <ConfirmButton
            label="Import"
            question={`Import ${file?.name ?? 'the file'} now? The hub is changed as the dry run shows${provision ? ', and connectors follow' : ''}.`}
            confirm="Import now"
            disabled={dryRunOf !== inputs || action.busy}
            onConfirm={() => void run(false)}
          />
        </div>
        {job?.options.dryRun && dryRunOf !== inputs && !action.busy && (
          <p class="muted">The file or the options changed since the dry run: run it again first.</p>
        )}
      </form>
      {action.error && <ErrorMessage message={`The import failed: ${action.error}`} />}
      {job && <JobSummary job={job} />}
      {rejected && (
        <>
          <table class="log rejected">
            <caption>Rejected rows</caption>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Column</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {rejected.rows.map((row) => (
                <tr key={`${row.row}-${row.column ?? ''}`}>
                  <td>{row.row}</td>
                  <td>{row.column ?? ''}</td>
                  <td>{row.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rejected.next && job && (
            <button type="button" onClick={() => void action.run(() => loadRejected(job.jobId, rejected.next))}>
              More rejected rows
            </button>
          )}
        </>
      )}
    </article>
  );
};

const JobSummary = ({ job }: { job: ImportJob }) => {
  const c = job.counters;
  const would = job.options.dryRun ? 'would be ' : '';
  const finished = job.state === 'completed' || job.state === 'failed';
  return (
    <div class="job" role="status" aria-live="polite">
      <h3>
        {job.options.dryRun ? 'Dry run' : 'Import'} {job.jobId}: {job.state}
        {job.options.dryRun && finished ? ' (nothing was written)' : ''}
      </h3>
      <dl class="tiles">
        <dt>Rows</dt>
        <dd>{c.rows}</dd>
        <dt>{would}created</dt>
        <dd>{c.created}</dd>
        <dt>{would}updated</dt>
        <dd>{c.updated}</dd>
        <dt>unchanged</dt>
        <dd>{c.unchanged}</dd>
        <dt>rejected</dt>
        <dd>{c.rejected}</dd>
        <dt>groups {would}created</dt>
        <dd>{c.groupsCreated}</dd>
      </dl>
      {job.warnings.map((warning) => (
        <p key={warning} class="notice">
          {warning}
        </p>
      ))}
      {job.error && <p class="error">{job.error}</p>}
      {finished && c.rows === 0 && <p class="empty">The file holds no rows.</p>}
    </div>
  );
};

const ExportPanel = ({ api }: { api: AdminApi }) => {
  const [type, setType] = useState('users');
  const [format, setFormat] = useState('csv');
  const [filter, setFilter] = useState('');
  const action = useAction();
  const [done, setDone] = useState<string>();
  const run = async () => {
    setDone(undefined);
    const blob = await action.run(() => api.download('/directory/export', { type, format, filter: filter.trim() || undefined }));
    if (!blob) return;
    const name = `${type}-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`;
    download(blob, name);
    setDone(`Downloaded ${name} (${blob.size} bytes).`);
  };
  return (
    <article class="card" aria-labelledby="export-title">
      <h2 id="export-title">Export</h2>
      <form
        class="editor"
        aria-label="Export users or groups"
        onSubmit={(event) => {
          event.preventDefault();
          void run();
        }}
      >
        <div class="field">
          <label for="e-type">What</label>
          <select id="e-type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
            <option value="users">users</option>
            <option value="groups">groups</option>
          </select>
        </div>
        <div class="field">
          <label for="e-format">Format</label>
          <select id="e-format" value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value)}>
            <option value="csv">CSV</option>
            <option value="json">JSON</option>
            <option value="ndjson">NDJSON</option>
          </select>
        </div>
        <div class="field wide">
          <label for="e-filter">SCIM filter (optional)</label>
          <input id="e-filter" type="text" value={filter} placeholder="active eq true" onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        </div>
        <div class="actions">
          <button type="submit" disabled={action.busy}>
            Download
          </button>
        </div>
      </form>
      {action.busy && <p role="status">Exporting…</p>}
      {done && <p role="status">{done}</p>}
      {action.error && <ErrorMessage message={`The export failed: ${action.error}`} />}
    </article>
  );
};
