import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type AdminApi, ApiError } from '../api.ts';
import { useAction, useLoaded } from '../components/async-state.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import {
  type DirectoryType,
  filterOf,
  GROUP_SCHEMA,
  ifMatch,
  nameOf,
  newUserBody,
  patchOf,
  type UserFields,
  userFieldsOf,
  userPatch,
} from '../directory-edit.ts';
import { navigate, searchOf } from '../router.ts';
import type { DirectoryEntry, ScimListResponse, ScimResource } from '../types.ts';

const PAGE_SIZE = 25;
const MEMBERS_SHOWN = 100;
const HUB_GROUP_EXTENSION = 'urn:ietf:params:scim:schemas:extension:hub:2.0:Group';
const LABEL: Record<DirectoryType, { one: string; many: string }> = { users: { one: 'user', many: 'users' }, groups: { one: 'group', many: 'groups' } };

const typeOf = (search: URLSearchParams): DirectoryType => (search.get('type') === 'groups' ? 'groups' : 'users');
const inputText = (event: Event) => (event.target as HTMLInputElement).value;

/**
 * The directory: search users and groups, open one to see where it is provisioned, create,
 * edit, deactivate and delete them and change a group's members. Every write goes through the
 * hub's SCIM use cases (so connectors follow it) with If-Match on the version read, and the
 * provisioning it causes is recorded in the log under the operator's name. The search, the open
 * resource and the create form are in the URL.
 */
export const DirectoryPage = ({ api, search }: { api: AdminApi; search: URLSearchParams }) => {
  const type = typeOf(search);
  const q = search.get('q') ?? '';
  const id = search.get('id');
  const notice = search.get('notice') ?? undefined;
  return (
    <section aria-labelledby="directory-title">
      <h1 id="directory-title">Directory</h1>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {id ? (
        <ResourceView key={`${type}/${id}`} api={api} type={type} id={id} back={`/directory${searchOf({ type, q })}`} />
      ) : search.get('new') ? (
        <CreateForm api={api} type={type} />
      ) : (
        <SearchView key={`${type}|${q}`} api={api} type={type} q={q} />
      )}
    </section>
  );
};

const SearchView = ({ api, type, q }: { api: AdminApi; type: DirectoryType; q: string }) => {
  const [draft, setDraft] = useState({ type, q });
  const [items, setItems] = useState<ScimResource[]>([]);
  const [total, setTotal] = useState<number>();
  const [next, setNext] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const generation = useRef(0);
  const load = async (cursor: string | undefined) => {
    const mine = ++generation.current;
    setLoading(true);
    setError(undefined);
    try {
      const page = await api.get<ScimListResponse>(`/directory/${type}`, { filter: filterOf(type, q), count: String(PAGE_SIZE), cursor });
      if (mine !== generation.current) return;
      setItems((shown) => (cursor ? [...shown, ...page.Resources] : page.Resources));
      setTotal(page.totalResults);
      setNext(page.nextCursor);
    } catch (failure) {
      if (mine === generation.current) setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };
  useEffect(() => void load(undefined), [api]);
  const label = LABEL[type];
  return (
    <>
      <form
        class="filters"
        aria-label="Search the directory"
        onSubmit={(event) => {
          event.preventDefault();
          navigate(`/directory${searchOf({ type: draft.type, q: draft.q.trim() })}`);
        }}
      >
        <fieldset class="statuses">
          <legend>Search</legend>
          {(['users', 'groups'] as const).map((t) => (
            <label key={t}>
              <input type="radio" name="type" value={t} checked={draft.type === t} onChange={() => setDraft({ ...draft, type: t })} />
              {LABEL[t].many}
            </label>
          ))}
        </fieldset>
        <div class="field wide">
          <label for="d-q">Name, id or SCIM filter</label>
          <input
            id="d-q"
            type="search"
            value={draft.q}
            placeholder='ada, or userName eq "ada@example.com"'
            onInput={(e) => setDraft({ ...draft, q: inputText(e) })}
          />
        </div>
        <div class="actions">
          <button type="submit">Search</button>
          <a href={`/console/directory${searchOf({ type: draft.type, new: '1' })}`}>New {LABEL[draft.type].one}</a>
        </div>
      </form>
      {error && <ErrorMessage message={`The directory could not be searched: ${error}`} retry={() => void load(undefined)} />}
      {!error && !loading && items.length === 0 && (
        <p class="empty" role="status">
          {q ? `No ${label.many} match “${q}”.` : `The directory holds no ${label.many} yet.`}{' '}
          <a href={`/console/directory${searchOf({ type, new: '1' })}`}>Create a {label.one}</a>
        </p>
      )}
      {items.length > 0 && (
        <table class="log directory">
          <caption>
            {total === undefined ? '' : `${total} ${total === 1 ? label.one : label.many}`}
            {q ? ` matching “${q}”` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">{type === 'users' ? 'User name' : 'Name'}</th>
              <th scope="col">{type === 'users' ? 'Display name' : 'Members'}</th>
              <th scope="col">External id</th>
              {type === 'users' && <th scope="col">Active</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id} data-resource={item.id}>
                <td>
                  <a href={`/console/directory${searchOf({ type, q, id: item.id })}`}>{nameOf(item)}</a>
                </td>
                <td>{type === 'users' ? (item.displayName ?? '') : (item.members?.length ?? '-')}</td>
                <td>{item.externalId ?? ''}</td>
                {type === 'users' && <td>{item.active === false ? 'no' : 'yes'}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="paging">
        {loading && <p role="status">Searching…</p>}
        {!loading && next && (
          <button type="button" onClick={() => void load(next)}>
            Load more {label.many}
          </button>
        )}
      </div>
    </>
  );
};

const UserForm = ({ fields, onChange }: { fields: UserFields; onChange: (fields: UserFields) => void }) => {
  const input = (name: keyof UserFields, label: string, options: { required?: boolean; type?: 'text' | 'email' } = {}) => (
    <div class="field">
      <label for={`u-${name}`}>{label}</label>
      <input
        id={`u-${name}`}
        type={(options.type ?? 'text') as 'text'}
        required={options.required}
        value={fields[name]}
        onInput={(e) => onChange({ ...fields, [name]: inputText(e) })}
      />
    </div>
  );
  return (
    <>
      {input('userName', 'User name', { required: true })}
      {input('givenName', 'Given name')}
      {input('familyName', 'Family name')}
      {input('displayName', 'Display name')}
      {input('email', 'Work email', { type: 'email' })}
      {input('externalId', 'External id')}
    </>
  );
};

const CreateForm = ({ api, type }: { api: AdminApi; type: DirectoryType }) => {
  const [fields, setFields] = useState(userFieldsOf(undefined));
  const [active, setActive] = useState(true);
  const [groupName, setGroupName] = useState('');
  const action = useAction();
  const label = LABEL[type].one;
  const submit = async () => {
    const body = type === 'users' ? newUserBody(fields, active) : { schemas: [GROUP_SCHEMA], displayName: groupName.trim() };
    const created = await action.run(() => api.post<{ resource: ScimResource }>(`/directory/${type}`, undefined, body));
    if (created) navigate(`/directory${searchOf({ type, id: created.resource.id, notice: `Created ${label} ${nameOf(created.resource)}.` })}`);
  };
  return (
    <form
      class="card editor"
      aria-labelledby="create-title"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <h2 id="create-title">New {label}</h2>
      {type === 'users' ? (
        <>
          <UserForm fields={fields} onChange={setFields} />
          <label class="check">
            <input type="checkbox" checked={active} onChange={(e) => setActive((e.target as HTMLInputElement).checked)} /> Active
          </label>
        </>
      ) : (
        <div class="field">
          <label for="g-name">Group name</label>
          <input id="g-name" type="text" required value={groupName} onInput={(e) => setGroupName(inputText(e))} />
        </div>
      )}
      {action.error && <ErrorMessage message={`The ${label} was not created: ${action.error}`} />}
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          Create {label}
        </button>
        <a href={`/console/directory${searchOf({ type })}`}>Cancel</a>
      </div>
    </form>
  );
};

/** A 412 (RFC 7644 section 3.14) said as what it means to the operator. */
const plainConflict =
  (label: string) =>
  (failure: unknown): never => {
    if (failure instanceof ApiError && failure.status === 412) {
      throw new Error(`This ${label} changed since this page read it, so nothing was saved. Try again to read it afresh, then make the change again.`);
    }
    throw failure;
  };

const timeOf = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '-');

const ResourceView = ({ api, type, id, back }: { api: AdminApi; type: DirectoryType; id: string; back: string }) => {
  const entry = useLoaded(() => api.get<DirectoryEntry>(`/directory/${type}/${encodeURIComponent(id)}`), `${type}/${id}`);
  const action = useAction();
  const [done, setDone] = useState<string>();
  const path = `/directory/${type}/${encodeURIComponent(id)}`;
  const label = LABEL[type].one;

  /** A PATCH guarded by the version shown: a change made meanwhile is a 412, said plainly, never overwritten. */
  const patch = async (operations: ReturnType<typeof patchOf>['Operations'], what: string) => {
    if (!entry.data || operations.length === 0) return;
    setDone(undefined);
    const written = await action.run(() => api.send('PATCH', path, patchOf(operations), ifMatch(entry.data?.version ?? 0)).catch(plainConflict(label)));
    if (written) {
      setDone(what);
      entry.reload();
    }
  };
  const remove = async () => {
    if (!entry.data) return;
    const resource = entry.data.resource;
    const deleted = await action.run(async () => {
      await api.send('DELETE', path, undefined, ifMatch(entry.data?.version ?? 0)).catch(plainConflict(label));
      return true;
    });
    if (deleted) navigate(`${back}${back.includes('?') ? '&' : '?'}notice=${encodeURIComponent(`Deleted ${label} ${nameOf(resource)}.`)}`);
  };

  if (entry.error) return <ErrorMessage message={`The ${label} could not be read: ${entry.error}`} retry={entry.reload} />;
  if (!entry.data) return <p role="status">Loading…</p>;
  const { resource, version, provisioning } = entry.data;
  return (
    <article class="card" aria-labelledby="resource-title">
      <p>
        <a href={`/console${back}`}>Back to the search</a>
      </p>
      <h2 id="resource-title">
        {type === 'users' ? 'User' : 'Group'} {nameOf(resource)}
        {resource.active === false && <span class="badge badge-failed">inactive</span>}
      </h2>
      <dl class="record">
        <dt>Id</dt>
        <dd>
          <code>{resource.id}</code>
        </dd>
        <dt>Version</dt>
        <dd>{version}</dd>
        <dt>Created</dt>
        <dd>{timeOf(resource.meta?.created)}</dd>
        <dt>Last modified</dt>
        <dd>{timeOf(resource.meta?.lastModified)}</dd>
        {type === 'users' && (
          <>
            <dt>Groups</dt>
            <dd>
              {resource.groups?.length
                ? resource.groups.map((g, i) => (
                    <Fragment key={g.value}>
                      {i > 0 && ', '}
                      <a href={`/console/directory${searchOf({ type: 'groups', id: g.value })}`}>{g.display ?? g.value}</a>
                    </Fragment>
                  ))
                : 'none'}
            </dd>
          </>
        )}
      </dl>
      {action.busy && <p role="status">Saving…</p>}
      {done && !action.busy && <p role="status">{done}</p>}
      {action.error && (
        <ErrorMessage
          message={action.error}
          retry={() => {
            action.reset();
            entry.reload();
          }}
        />
      )}

      <h3>Where it is provisioned</h3>
      <ProvisioningTable rows={provisioning} resourceId={resource.id} />

      {type === 'users' ? (
        <UserEditor key={version} resource={resource} busy={action.busy} onSave={(ops) => void patch(ops, 'Saved.')} />
      ) : (
        <GroupEditor key={version} api={api} resource={resource} busy={action.busy} onPatch={(ops, what) => void patch(ops, what)} />
      )}

      <div class="actions danger-zone">
        {type === 'users' &&
          (resource.active === false ? (
            <button type="button" disabled={action.busy} onClick={() => void patch([{ op: 'replace', path: 'active', value: true }], 'Reactivated.')}>
              Reactivate
            </button>
          ) : (
            <ConfirmButton
              label="Deactivate"
              question={`Deactivate ${nameOf(resource)}? Connectors disable or remove the account as their deprovisioning policy says.`}
              confirm="Deactivate"
              danger
              disabled={action.busy}
              onConfirm={() => void patch([{ op: 'replace', path: 'active', value: false }], 'Deactivated.')}
            />
          ))}
        <ConfirmButton
          label={`Delete ${label}`}
          question={`Delete ${nameOf(resource)} from the hub? Connectors deprovision it; this cannot be undone.`}
          confirm="Delete"
          danger
          disabled={action.busy}
          onConfirm={() => void remove()}
        />
      </div>
    </article>
  );
};

const ProvisioningTable = ({ rows, resourceId }: { rows: DirectoryEntry['provisioning']; resourceId: string }) =>
  rows.length === 0 ? (
    <p class="empty">No connectors are configured: nothing is provisioned anywhere.</p>
  ) : (
    <table class="log provisioning">
      <thead>
        <tr>
          <th scope="col">Connector</th>
          <th scope="col">Target id</th>
          <th scope="col">Last sync</th>
          <th scope="col">Last operation</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.connector} data-connector={row.connector}>
            <th scope="row">{row.connector}</th>
            <td>
              {row.targetId ? <code>{row.targetId}</code> : <span class="muted">not linked</span>}
              {row.linkStatus === 'disabled' ? ' (disabled)' : ''}
            </td>
            <td>{row.lastSync ? timeOf(row.lastSync) : '-'}</td>
            <td>
              {row.last ? (
                <>
                  <StatusBadge status={row.last.status} /> {row.last.action} ({row.last.trigger}
                  {row.last.actor ? `, by ${row.last.actor}` : ''}) {timeOf(row.last.time)}
                  {row.last.error ? <div class="error">{row.last.error}</div> : row.last.reason ? <div class="muted">{row.last.reason}</div> : null}
                  <a href={`/console/log${searchOf({ connector: row.connector, resource: resourceId })}`}>
                    Its log<span class="visually-hidden"> on {row.connector}</span>
                  </a>
                </>
              ) : (
                <span class="muted">none recorded</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );

const UserEditor = ({ resource, busy, onSave }: { resource: ScimResource; busy: boolean; onSave: (ops: ReturnType<typeof userPatch>) => void }) => {
  const before = userFieldsOf(resource);
  const [fields, setFields] = useState(before);
  const operations = userPatch(before, fields);
  return (
    <form
      class="editor"
      aria-labelledby="edit-title"
      onSubmit={(event) => {
        event.preventDefault();
        onSave(operations);
      }}
    >
      <h3 id="edit-title">Edit</h3>
      <UserForm fields={fields} onChange={setFields} />
      <div class="actions">
        <button type="submit" disabled={busy || operations.length === 0}>
          Save changes
        </button>
      </div>
    </form>
  );
};

const GroupEditor = ({
  api,
  resource,
  busy,
  onPatch,
}: {
  api: AdminApi;
  resource: ScimResource;
  busy: boolean;
  onPatch: (ops: ReturnType<typeof patchOf>['Operations'], what: string) => void;
}) => {
  const [name, setName] = useState(resource.displayName ?? '');
  const [member, setMember] = useState('');
  const [lookupError, setLookupError] = useState<string>();
  /** A member by userName (an index lookup) or by id. */
  const addMember = async () => {
    setLookupError(undefined);
    const wanted = member.trim();
    try {
      const found = await api.get<ScimListResponse>('/directory/users', { filter: `userName eq ${JSON.stringify(wanted)}`, count: '1' });
      const id = found.Resources[0]?.id ?? wanted;
      onPatch([{ op: 'add', path: 'members', value: [{ value: id }] }], `Added ${wanted}.`);
      setMember('');
    } catch (failure) {
      setLookupError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  // The user members by name, a page of the group's membership index at a time (a group above
  // the directory's inline limit comes without `members`); nested groups by id.
  const users = useLoaded(
    () => api.get<ScimListResponse>('/directory/users', { filter: `groups.value eq ${JSON.stringify(resource.id)}`, count: String(MEMBERS_SHOWN) }),
    `${resource.id}/${resource.meta?.version ?? ''}`,
  );
  const members = [
    ...(users.data?.Resources ?? []).map((u) => ({ value: u.id, name: nameOf(u), type: 'users' as const })),
    ...(resource.members ?? []).filter((m) => m.type === 'Group').map((m) => ({ value: m.value, name: m.display ?? m.value, type: 'groups' as const })),
  ];
  const count = typeof resource[HUB_GROUP_EXTENSION] === 'object' ? (resource[HUB_GROUP_EXTENSION] as { memberCount?: number }).memberCount : undefined;
  return (
    <>
      <form
        class="editor"
        aria-labelledby="edit-title"
        onSubmit={(event) => {
          event.preventDefault();
          onPatch([{ op: 'replace', path: 'displayName', value: name.trim() }], 'Renamed.');
        }}
      >
        <h3 id="edit-title">Edit</h3>
        <div class="field">
          <label for="g-name">Group name</label>
          <input id="g-name" type="text" required value={name} onInput={(e) => setName(inputText(e))} />
        </div>
        <div class="actions">
          <button type="submit" disabled={busy || name.trim() === (resource.displayName ?? '') || name.trim() === ''}>
            Save name
          </button>
        </div>
      </form>
      <h3 id="members-title">Members{count === undefined ? (users.data ? ` (${members.length})` : '') : ` (${count})`}</h3>
      {users.error && <ErrorMessage message={`The members could not be read: ${users.error}`} retry={users.reload} />}
      {users.loading && !users.data && <p role="status">Loading members…</p>}
      {users.data && members.length === 0 && <p class="empty">No members.</p>}
      {members.length > 0 && (
        <ul class="members" aria-labelledby="members-title">
          {members.map((m) => (
            <li key={m.value}>
              <a href={`/console/directory${searchOf({ type: m.type, id: m.value })}`}>{m.name}</a>{' '}
              <button
                type="button"
                class="link"
                disabled={busy}
                onClick={() => onPatch([{ op: 'remove', path: `members[value eq ${JSON.stringify(m.value)}]` }], `Removed ${m.name}.`)}
              >
                Remove<span class="visually-hidden"> {m.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {users.data?.nextCursor && (
        <p class="muted">
          The first {MEMBERS_SHOWN} user members are shown; search users with groups.value eq "{resource.id}" for all of them.
        </p>
      )}
      <form
        class="filters"
        aria-label="Add a member"
        onSubmit={(event) => {
          event.preventDefault();
          if (member.trim()) void addMember();
        }}
      >
        <div class="field">
          <label for="g-member">Add a member (user name or id)</label>
          <input id="g-member" type="text" value={member} onInput={(e) => setMember(inputText(e))} />
        </div>
        <div class="actions">
          <button type="submit" disabled={busy || member.trim() === ''}>
            Add member
          </button>
        </div>
        {lookupError && <ErrorMessage message={lookupError} />}
      </form>
    </>
  );
};
