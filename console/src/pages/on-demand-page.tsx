import { useState } from 'preact/hooks';
import type { AdminApi } from '../api.ts';
import { useLoaded } from '../components/async-state.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ChangesTable } from '../components/changes-table.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { navigate, searchOf } from '../router.ts';
import type { ConnectorHealth, OnDemandResult } from '../types.ts';

/**
 * On-demand provisioning: pick a connector and a user or group (id, userName or externalId;
 * a group by id or name), see the dry run's steps and diff, then apply the same plan. The
 * connector and the subject are in the URL.
 */
export const OnDemandPage = ({ api, search }: { api: AdminApi; search: URLSearchParams }) => {
  const connectors = useLoaded(() => api.get<{ connectors: ConnectorHealth[] }>('/connectors'), 'all');
  const [connector, setConnector] = useState(search.get('connector') ?? '');
  const [kind, setKind] = useState<'user' | 'group'>(search.get('group') ? 'group' : 'user');
  const [subject, setSubject] = useState(search.get('group') ?? search.get('user') ?? '');
  const [result, setResult] = useState<OnDemandResult>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<'dry-run' | 'apply'>();
  /** The request the shown dry run answered: Apply sends exactly it. */
  const [planned, setPlanned] = useState<string>();
  const request = `${connector}|${kind}|${subject.trim()}`;

  const run = async (dryRun: boolean) => {
    setBusy(dryRun ? 'dry-run' : 'apply');
    setError(undefined);
    if (dryRun) navigate(`/on-demand${searchOf({ connector, [kind]: subject.trim() })}`, { replace: true });
    try {
      const answer = await api.post<OnDemandResult>(`/connectors/${encodeURIComponent(connector)}/provision`, undefined, { [kind]: subject.trim(), dryRun });
      setResult(answer);
      setPlanned(dryRun ? request : undefined);
    } catch (failure) {
      setResult(undefined);
      setPlanned(undefined);
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(undefined);
    }
  };

  const ready = connector !== '' && subject.trim() !== '';
  return (
    <section aria-labelledby="on-demand-title">
      <h1 id="on-demand-title">Provision on demand</h1>
      <form
        class="filters"
        aria-label="What to provision"
        onSubmit={(event) => {
          event.preventDefault();
          if (ready) void run(true);
        }}
      >
        <div class="field">
          <label for="od-connector">Connector</label>
          <select id="od-connector" value={connector} onChange={(e) => setConnector((e.target as HTMLSelectElement).value)} required>
            <option value="">Choose a connector</option>
            {connectors.data?.connectors.map((c) => (
              <option key={c.id} value={c.id}>
                {c.id}
              </option>
            ))}
          </select>
        </div>
        <fieldset class="statuses">
          <legend>Provision a</legend>
          <label>
            <input type="radio" name="kind" value="user" checked={kind === 'user'} onChange={() => setKind('user')} />
            user
          </label>
          <label>
            <input type="radio" name="kind" value="group" checked={kind === 'group'} onChange={() => setKind('group')} />
            group
          </label>
        </fieldset>
        <div class="field">
          <label for="od-subject">{kind === 'user' ? 'User (id, userName or externalId)' : 'Group (id or name)'}</label>
          <input id="od-subject" type="search" value={subject} onInput={(e) => setSubject((e.target as HTMLInputElement).value)} required />
        </div>
        <div class="actions">
          <button type="submit" disabled={!ready || busy !== undefined}>
            Dry run
          </button>
          <ConfirmButton
            label="Apply"
            question={`Provision ${subject.trim()} on ${connector} now? The target is changed as the dry run shows.`}
            confirm="Apply now"
            danger
            disabled={planned !== request || busy !== undefined}
            onConfirm={() => void run(false)}
          />
        </div>
        {planned !== request && result?.dryRun && <p class="muted">The inputs changed since the dry run: run it again before applying.</p>}
      </form>
      {connectors.error && <ErrorMessage message={`The connectors could not be read: ${connectors.error}`} retry={connectors.reload} />}
      {busy && <p role="status">{busy === 'dry-run' ? 'Planning…' : 'Applying…'}</p>}
      {error && <ErrorMessage message={error} />}
      {result && <Outcome result={result} />}
    </section>
  );
};

const Outcome = ({ result }: { result: OnDemandResult }) => (
  <article class="card" aria-labelledby="od-outcome">
    <h2 id="od-outcome">
      {result.dryRun ? 'Dry run: nothing was changed' : 'Applied'} · {result.resource.type} {result.resource.name ?? result.resource.id}
    </h2>
    <dl class="record">
      <dt>Situation</dt>
      <dd>{result.situation ?? '-'}</dd>
      <dt>{result.dryRun ? 'Would do' : 'Did'}</dt>
      <dd>
        {result.outcome.action} ({result.outcome.status}){result.outcome.reason ? `: ${result.outcome.reason}` : ''}
      </dd>
      {result.outcome.targetId && (
        <>
          <dt>Target id</dt>
          <dd>
            <code>{result.outcome.targetId}</code>
          </dd>
        </>
      )}
    </dl>
    <h3>Steps</h3>
    <ol class="steps">
      {result.steps.map((step) => (
        <li key={step}>{step}</li>
      ))}
    </ol>
    <h3>{result.dryRun ? 'Calls it would make' : 'Calls made'}</h3>
    {result.calls.length === 0 ? (
      <p class="muted">None.</p>
    ) : (
      <ul>
        {result.calls.map((call, i) => (
          <li key={`${call.operation}-${i}`}>
            {call.operation}
            {call.targetId ? ` ${call.targetId}` : ''}
            {call.attributes?.length ? ` (${call.attributes.join(', ')})` : ''}
          </li>
        ))}
      </ul>
    )}
    <h3>Attributes</h3>
    <ChangesTable changes={result.changes} empty="No attribute changes." />
  </article>
);
