/**
 * Applying one chunk of an import to the hub, row by row, through the directory's own use cases
 * (create, PATCH, PUT), so an imported user meets the rules a SCIM client meets: schema, types,
 * uniqueness, password hashing, and the same stream of changes to the connectors.
 *
 * A chunk applied twice changes nothing the second time: a row whose user already holds its
 * values is `unchanged`, an add of a member already there is a no-op. That is what lets a chunk
 * be delivered again, and a killed import be started again.
 */
import type { Directory } from '../directory/directory.service.ts';
import type { DirectoryStore, ResourceRecord, ScimJson, WriteOrigin } from '../directory/directory.ports.ts';
import { verifyPassword } from '../directory/password.ts';
import { toScimResource } from '../directory/scim-resource.mapper.ts';
import { ScimError } from '../scim/errors.ts';
import { deepEqual, getIgnoringCase } from '../scim/json.ts';
import { normalizeUser } from '../scim/input.ts';
import { applyPatch, PATCH_OP_SCHEMA, type PatchOperation } from '../scim/patch.ts';
import { USER_SCHEMA_ID } from '../scim/schemas.ts';
import { type ChunkResult, emptyCounters, type ImportOptions, type ImportRecord, type RejectedRow, type RowOutcome } from './transfer.types.ts';

export interface ChunkImporterDeps {
  directory: Directory;
  /** Lookups only (by userName, externalId, displayName; a user's groups): every write goes through `directory`. */
  store: DirectoryStore;
  /** Rows applied at once within a chunk (rows of one file never share a userName); default: all of them. */
  concurrency?: number;
}

/** Members added or removed per group PATCH: the directory's own chunk of membership writes. */
const MEMBERS_PER_PATCH = 1000;
const CONTEXT_BASE = '';

/** Reads (a user's groups, externalId queries, groups to create) a chunk runs at once. */
const LOOKUPS_AT_ONCE = 16;

/** The user a row is about: found, not found, or (matched by externalId) several. */
type Found = ResourceRecord | 'ambiguous' | undefined;

type AppliedRow = { row: number; outcome: RowOutcome; userId?: string; groups?: string[]; reason?: string; column?: string };

const normalizedName = (name: string) => name.normalize('NFC').toLowerCase();

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of results. */
const mapLimited = async <T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

/** The chunk importer: `apply(records, options, origin)` answers what became of every row. */
export const makeChunkImporter = (deps: ChunkImporterDeps) => {
  const { directory, store } = deps;

  /**
   * The hub users the chunk's rows are about, looked up together before any row is written: one
   * BatchGetItem of the userName guards and one of the users (per 100 rows), instead of two
   * reads a row. Rows of one file never share a userName (nor, matched by it, an externalId), so
   * no row's write changes what another row of the chunk finds.
   */
  const findUsers = async (candidates: Map<number, ScimJson>, options: ImportOptions): Promise<Map<number, Found>> => {
    const idsOf = new Map<number, string[]>();
    if (options.match === 'userName') {
      const names = new Map<number, string>();
      for (const [row, candidate] of candidates) {
        const userName = getIgnoringCase(candidate, 'userName');
        if (typeof userName === 'string') names.set(row, normalizedName(userName));
      }
      const owners = await store.findIdsByUnique('User', 'userName', [...names.values()]);
      for (const [row, name] of names) {
        const id = owners.get(name);
        if (id !== undefined) idsOf.set(row, [id]);
      }
    } else {
      // externalId is an index, not a key (RFC 7643 section 3.1): a Query per distinct value, run together.
      const values = new Map<number, string>();
      for (const [row, candidate] of candidates) {
        const externalId = getIgnoringCase(candidate, 'externalId');
        if (typeof externalId === 'string') values.set(row, externalId);
      }
      const distinct = [...new Set(values.values())];
      const found = await mapLimited(distinct, LOOKUPS_AT_ONCE, (value) => store.findIdsByExternalId('User', value));
      const byValue = new Map(distinct.map((value, index) => [value, found[index] ?? []]));
      for (const [row, value] of values) idsOf.set(row, byValue.get(value) ?? []);
    }
    const records = new Map(
      (
        await store.getMany(
          'User',
          [...idsOf.values()].flatMap((ids) => (ids.length === 1 ? ids : [])),
        )
      ).map((r) => [r.id, r]),
    );
    const users = new Map<number, Found>();
    for (const [row, ids] of idsOf) users.set(row, ids.length > 1 ? 'ambiguous' : records.get(ids[0] as string));
    return users;
  };

  /** Whether a password the row sets is the one the user has already (then it changes nothing). */
  const samePassword = async (existing: ResourceRecord, password: string | undefined) =>
    password !== undefined && existing.passwordHash !== undefined && (await verifyPassword(password, existing.passwordHash));

  /** What the row would change on an existing user, as the request that changes it; undefined: nothing. */
  const changeOf = async (record: Exclude<ImportRecord, { rejected: unknown }>, existing: ResourceRecord) => {
    const current = toScimResource(existing, CONTEXT_BASE);
    if ('operations' in record) {
      let operations: PatchOperation[] = record.operations;
      const patched = applyPatch(current, operations, 'User');
      if (patched.password !== undefined && (await samePassword(existing, patched.password))) {
        operations = operations.filter((operation) => operation.path?.toLowerCase() !== 'password');
        if (!applyPatch(current, operations, 'User').changed) return undefined;
      } else if (!patched.changed) return undefined;
      return { kind: 'patch' as const, body: { schemas: [PATCH_OP_SCHEMA], Operations: operations } };
    }
    const normalized = normalizeUser(record.resource, { strictUnknown: false });
    const { schemas: _schemas, ...data } = normalized.resource;
    const passwordChanges = normalized.password !== undefined && !(await samePassword(existing, normalized.password));
    if (!passwordChanges && deepEqual(data, existing.data)) return undefined;
    const { password: _password, ...withoutPassword } = record.resource;
    return { kind: 'replace' as const, body: passwordChanges ? record.resource : withoutPassword };
  };

  const candidateOf = (record: Exclude<ImportRecord, { rejected: unknown }>): ScimJson =>
    'operations' in record ? applyPatch({ schemas: [USER_SCHEMA_ID] }, record.operations, 'User').resource : record.resource;

  const applyRow = async (
    record: Exclude<ImportRecord, { rejected: unknown }>,
    candidate: ScimJson,
    existing: Found,
    options: ImportOptions,
    origin: WriteOrigin,
  ): Promise<AppliedRow> => {
    const ctx = { baseUrl: CONTEXT_BASE, strictUnknownAttributes: false, origin };
    const groups = record.groups === undefined ? {} : { groups: record.groups };
    try {
      if (existing === 'ambiguous') return { row: record.row, outcome: 'rejected', column: 'externalId', reason: 'several users have this externalId' };
      if (existing === undefined) {
        if (options.mode === 'update') return { row: record.row, outcome: 'rejected', column: options.match, reason: `no user has this ${options.match}` };
        // The same validation a create runs, before a dry run answers `created`.
        normalizeUser(candidate, { strictUnknown: false });
        if (options.dryRun) return { row: record.row, outcome: 'created', ...groups };
        const created = await directory.create('User', 'operations' in record ? { ...candidate, ...passwordOf(record) } : candidate, ctx);
        return { row: record.row, outcome: 'created', userId: created.resource.id as string, ...groups };
      }
      const change = await changeOf(record, existing);
      if (change === undefined) return { row: record.row, outcome: 'unchanged', userId: existing.id, ...groups };
      if (options.mode === 'create') {
        return {
          row: record.row,
          outcome: 'rejected',
          column: options.match,
          reason: `a user with this ${options.match} exists (mode create changes no user)`,
        };
      }
      if (!options.dryRun) {
        if (change.kind === 'patch') await directory.patch('User', existing.id, change.body, undefined, ctx, { attributes: ['id'] });
        else await directory.replace('User', existing.id, change.body, undefined, ctx);
      }
      return { row: record.row, outcome: 'updated', userId: existing.id, ...groups };
    } catch (error) {
      // A row the hub refuses (409 uniqueness, 400 invalidValue...) is rejected; anything else
      // fails the chunk, which is delivered again.
      if (error instanceof ScimError && error.status < 500) return { row: record.row, outcome: 'rejected', reason: error.message };
      throw error;
    }
  };

  /** The groups the rows name, by lowercased displayName, read together: found, or created (unless a dry run). */
  const resolveGroups = async (
    names: string[],
    options: ImportOptions,
    origin: WriteOrigin,
    created: Set<string>,
  ): Promise<Map<string, string | undefined>> => {
    const wanted = new Map<string, string>();
    for (const name of names) if (!wanted.has(normalizedName(name))) wanted.set(normalizedName(name), name);
    const ids = new Map<string, string | undefined>(await store.findIdsByUnique('Group', 'displayName', [...wanted.keys()]));
    const missing = [...wanted].filter(([key]) => !ids.has(key));
    await mapLimited(missing, LOOKUPS_AT_ONCE, async ([key, name]) => {
      created.add(key);
      if (options.dryRun) return ids.set(key, undefined);
      try {
        const group = await directory.create('Group', { displayName: name }, { baseUrl: CONTEXT_BASE, strictUnknownAttributes: false, origin });
        return ids.set(key, group.resource.id as string);
      } catch (error) {
        // Another chunk created it meanwhile: use that one.
        if (!(error instanceof ScimError && error.status === 409)) throw error;
        created.delete(key);
        const id = await store.findIdByUnique('Group', { attribute: 'displayName', value: key });
        // Taken, yet gone again (deleted meanwhile): the chunk runs again rather than leave its rows out of the group.
        if (id === undefined) throw new Error(`group '${name}' was created by another writer and is gone`);
        return ids.set(key, id);
      }
    });
    return ids;
  };

  /**
   * Sets the memberships the rows name: each user ends up in exactly the groups of its row.
   * Changes are gathered per group, so a chunk costs one PATCH per group it touches rather than
   * one per row. Returns the rows whose memberships change.
   */
  const setMemberships = async (
    rows: AppliedRow[],
    options: ImportOptions,
    origin: WriteOrigin,
  ): Promise<{ changedRows: Set<number>; groupsCreated: number }> => {
    // Mode create leaves existing users as they are, their memberships too.
    const named = rows.filter((row) => row.outcome !== 'rejected' && row.groups !== undefined && (options.mode !== 'create' || row.outcome === 'created'));
    const created = new Set<string>();
    const groupIds = await resolveGroups(
      named.flatMap((row) => row.groups ?? []),
      options,
      origin,
      created,
    );
    const adds = new Map<string, string[]>();
    const removes = new Map<string, string[]>();
    const changedRows = new Set<number>();
    // A user this chunk created is in no group yet: only the others' groups are read.
    const currents = await mapLimited(named, LOOKUPS_AT_ONCE, async (row) =>
      row.userId === undefined || row.outcome === 'created' ? [] : await store.groupIdsOf(row.userId),
    );
    for (const [index, row] of named.entries()) {
      const wanted = new Set((row.groups ?? []).map((name) => groupIds.get(normalizedName(name))));
      const current = currents[index] ?? [];
      const toAdd = [...wanted].filter((id) => id === undefined || !current.includes(id));
      const toRemove = current.filter((id) => !wanted.has(id));
      if (toAdd.length + toRemove.length > 0) changedRows.add(row.row);
      if (row.userId === undefined) continue;
      for (const id of toAdd) if (id !== undefined) adds.set(id, [...(adds.get(id) ?? []), row.userId]);
      for (const id of toRemove) removes.set(id, [...(removes.get(id) ?? []), row.userId]);
    }
    if (!options.dryRun) {
      const ctx = { baseUrl: CONTEXT_BASE, strictUnknownAttributes: false, origin };
      for (const groupId of new Set([...adds.keys(), ...removes.keys()])) {
        const added = adds.get(groupId) ?? [];
        const removed = removes.get(groupId) ?? [];
        for (let i = 0; i < Math.max(added.length, removed.length); i += MEMBERS_PER_PATCH) {
          const add = added.slice(i, i + MEMBERS_PER_PATCH);
          const remove = removed.slice(i, i + MEMBERS_PER_PATCH);
          const operations = [
            ...(add.length > 0 ? [{ op: 'add', path: 'members', value: add.map((value) => ({ value })) }] : []),
            ...(remove.length > 0 ? [{ op: 'remove', path: 'members', value: remove.map((value) => ({ value })) }] : []),
          ];
          await directory.patch('Group', groupId, { schemas: [PATCH_OP_SCHEMA], Operations: operations }, undefined, ctx, { excludedAttributes: ['members'] });
        }
      }
    }
    return { changedRows, groupsCreated: created.size };
  };

  const apply = async (records: ImportRecord[], options: ImportOptions, origin: WriteOrigin): Promise<ChunkResult> => {
    const candidates = new Map<number, ScimJson>();
    const rows = new Array<AppliedRow | undefined>(records.length);
    for (const [index, record] of records.entries()) {
      if ('rejected' in record) {
        rows[index] = { row: record.row, outcome: 'rejected', ...record.rejected };
        continue;
      }
      try {
        candidates.set(index, candidateOf(record));
      } catch (error) {
        if (!(error instanceof ScimError && error.status < 500)) throw error;
        rows[index] = { row: record.row, outcome: 'rejected', reason: error.message };
      }
    }
    const found = await findUsers(candidates, options);
    // Every row at once: their writes reach the store together and share its transactions.
    await mapLimited([...candidates], deps.concurrency ?? records.length, async ([index, candidate]) => {
      const record = records[index] as Exclude<ImportRecord, { rejected: unknown }>;
      rows[index] = await applyRow(record, candidate, found.get(index), options, origin);
    });
    const applied = rows.filter((row) => row !== undefined);
    const { changedRows, groupsCreated } = await setMemberships(applied, options, origin);
    const counters = { ...emptyCounters(), rows: applied.length, groupsCreated };
    const rejected: RejectedRow[] = [];
    for (const row of applied) {
      const outcome = row.outcome === 'unchanged' && changedRows.has(row.row) ? 'updated' : row.outcome;
      counters[outcome] += 1;
      if (row.outcome === 'rejected')
        rejected.push({ row: row.row, ...(row.column === undefined ? {} : { column: row.column }), reason: row.reason ?? 'rejected' });
    }
    return { counters, rejected };
  };

  return { apply };
};

/** A CSV row's password, which applyPatch keeps apart from the resource (it is only ever stored hashed). */
const passwordOf = (record: { operations: PatchOperation[] }): { password?: string } => {
  const operation = record.operations.find((item) => item.path?.toLowerCase() === 'password');
  return typeof operation?.value === 'string' ? { password: operation.value } : {};
};

export type ChunkImporter = ReturnType<typeof makeChunkImporter>;
