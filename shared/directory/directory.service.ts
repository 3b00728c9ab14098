import { createHash } from 'node:crypto';
import { ScimError, scimErrors } from '../scim/errors.ts';
import { findKey, isPlainObject } from '../scim/json.ts';
import { normalizeGroup, normalizeUser } from '../scim/input.ts';
import { applyPatch, extractMemberOperations, type MemberChange, parsePatchRequest } from '../scim/patch.ts';
import { project } from '../scim/projection.ts';
import { MemberNotFound, ResourceNotFound, UniquenessConflict, VersionConflict } from './directory.errors.ts';
import type { Member, RecordIndexes, ResourceRecord, ResourceType, ScimJson, WriteOrigin } from './directory.ports.ts';
import { makeTypePaging } from './directory.paging.ts';
import { makeQueries } from './directory.queries.ts';
import { makeRepresentation } from './directory.representation.ts';
import { DIRECTORY_LIMITS, type DirectoryDeps, type Projection, type RequestContext, type ResourceResult, resolveLimits } from './directory.types.ts';
import { hashPassword } from './password.ts';
import { toScimResource, versionFromEtag } from './scim-resource.mapper.ts';

export {
  type AdjustableLimits,
  DIRECTORY_LIMITS,
  type DirectoryDeps,
  HUB_GROUP_EXTENSION,
  LIST_RESPONSE_SCHEMA,
  type ListQuery,
  type Projection,
  type RequestContext,
  type ResourceResult,
} from './directory.types.ts';

/** What identifies a create request with members: its attributes and its member ids. */
const createFingerprint = (data: ScimJson, members: Member[]): string =>
  createHash('sha256')
    .update(JSON.stringify({ data, members: members.map((m) => m.value).sort() }))
    .digest('hex')
    .slice(0, 32);

const indexesOf = (type: ResourceType, data: ScimJson): RecordIndexes => {
  const uniques: RecordIndexes['uniques'] = [];
  if (type === 'User' && typeof data.userName === 'string') uniques.push({ attribute: 'userName', value: data.userName.toLowerCase() });
  if (type === 'Group' && typeof data.displayName === 'string') uniques.push({ attribute: 'displayName', value: data.displayName.toLowerCase() });
  const emails =
    type === 'User' && Array.isArray(data.emails)
      ? data.emails.flatMap((email) =>
          typeof email === 'object' && email !== null && typeof (email as ScimJson).value === 'string'
            ? [((email as ScimJson).value as string).toLowerCase()]
            : [],
        )
      : [];
  // RFC 7643 section 3.1: externalId is the client's identifier, not unique: an index.
  const externalId = typeof data.externalId === 'string' && data.externalId !== '' ? data.externalId : undefined;
  return { uniques, emails, ...(externalId === undefined ? {} : { externalId }) };
};

/** The record as written by this request: the origin of an earlier write does not carry over. */
const stamped = (record: ResourceRecord, origin: WriteOrigin | undefined): ResourceRecord => {
  const { origin: _previous, ...rest } = record;
  return origin === undefined ? rest : { ...rest, origin };
};

/** Maps store errors to the SCIM errors of RFC 7644 section 3.12. */
const toScimError = (error: unknown, ifMatch: boolean): unknown => {
  if (error instanceof UniquenessConflict) {
    return scimErrors.uniqueness(`${error.key.attribute} is already in use by another ${error.resourceType}`);
  }
  if (error instanceof ResourceNotFound) return scimErrors.notFound(`${error.resourceType} ${error.id} not found`);
  if (error instanceof MemberNotFound) return scimErrors.invalidValue(`members reference resources that do not exist: ${error.id}`);
  if (error instanceof VersionConflict && ifMatch) {
    return scimErrors.preconditionFailed(`${error.resourceType} ${error.id} has changed; read it again`);
  }
  return error;
};

/**
 * The hub's directory: SCIM semantics (RFC 7643, RFC 7644, RFC 9865) over the store port.
 * Pure of AWS: tests drive it with any DirectoryStore.
 */
export const makeDirectory = (deps: DirectoryDeps) => {
  const { store } = deps;
  const limits = resolveLimits(deps.limits);
  const now = () => deps.clock().toISOString();
  const representation = makeRepresentation({ store, limits });
  const { represent, allMemberIds } = representation;
  const { list, search } = makeQueries({ store, limits, representation, paging: makeTypePaging({ store, limits }) });

  const load = async (type: ResourceType, id: string): Promise<ResourceRecord> => {
    const record = await store.get(type, id);
    if (!record) throw scimErrors.notFound(`${type} ${id} not found`);
    return record;
  };

  const checkIfMatch = (record: ResourceRecord, ifMatch: string | undefined) => {
    if (ifMatch === undefined || ifMatch.trim() === '*') return;
    const wanted = ifMatch.split(',').map((tag) => versionFromEtag(tag));
    if (!wanted.includes(record.version)) {
      throw scimErrors.preconditionFailed(`${record.resourceType} ${record.id} is at version W/"${record.version}", not ${ifMatch}`);
    }
  };

  /** Resolves member references to existing users or groups (RFC 7643 section 4.2). */
  const resolveMembers = async (values: Array<{ value: string; type?: string }>): Promise<Member[]> => {
    const ids = [...new Set(values.map((member) => member.value))];
    const users = new Set((await store.getMany('User', ids)).map((record) => record.id));
    const rest = ids.filter((id) => !users.has(id));
    const groups = new Set(rest.length > 0 ? (await store.getMany('Group', rest)).map((record) => record.id) : []);
    const missing = rest.filter((id) => !groups.has(id));
    if (missing.length > 0) throw scimErrors.invalidValue(`members reference resources that do not exist: ${missing.slice(0, 10).join(', ')}`);
    return ids.map((value) => ({ value, type: users.has(value) ? 'User' : 'Group' }));
  };

  /**
   * Resolves the members every change adds or sets, before anything is written: a member that
   * does not exist is a 400 that must leave the group as it was (RFC 7644 section 3.12). A change
   * that sets the whole list (`replace`, or `remove` of all members) reads the current members
   * once and becomes the adds and removes that lead there; a difference larger than
   * `maxMemberDiff` is refused (400 tooMany) before anything is written.
   */
  const resolveMemberChanges = async (group: ResourceRecord, changes: MemberChange[]): Promise<ResolvedMemberChange[]> => {
    const groupId = group.id;
    const resolve = async (ids: string[]) => (ids.length > 0 ? await resolveMembers(ids.map((value) => ({ value }))) : []);
    if (!changes.some((change) => change.kind === 'replace' || change.kind === 'removeAll')) {
      const resolved: ResolvedMemberChange[] = [];
      for (const change of changes) {
        if (change.kind === 'add') resolved.push({ kind: 'add', members: await resolve(change.ids) });
        else if (change.kind === 'remove') resolved.push(change);
      }
      return resolved;
    }
    // Every member not named again is removed: when that alone is over the limit, refuse before
    // reading the members (a 100 000-member group takes longer to read than API Gateway waits).
    const named = new Set(changes.flatMap((change) => (change.kind === 'add' || change.kind === 'replace' ? change.ids : [])));
    const fewestRemovals = (group.memberCount ?? 0) - named.size;
    if (fewestRemovals > DIRECTORY_LIMITS.maxMemberDiff) {
      throw scimErrors.tooMany(
        `This request would remove at least ${fewestRemovals} members; at most ${DIRECTORY_LIMITS.maxMemberDiff} in one request. Send PATCH remove operations in parts`,
      );
    }
    const current = new Set(await allMemberIds(groupId));
    const wanted = new Set(current);
    for (const change of changes) {
      if (change.kind === 'removeAll') wanted.clear();
      else if (change.kind === 'remove') for (const id of change.ids) wanted.delete(id);
      else {
        if (change.kind === 'replace') wanted.clear();
        for (const id of change.ids) wanted.add(id);
      }
    }
    const addIds = [...wanted].filter((id) => !current.has(id));
    const remove = [...current].filter((id) => !wanted.has(id));
    if (addIds.length + remove.length > DIRECTORY_LIMITS.maxMemberDiff) {
      throw scimErrors.tooMany(
        `This request would add ${addIds.length} and remove ${remove.length} members; at most ${DIRECTORY_LIMITS.maxMemberDiff} in one request. Send PATCH add and remove operations in parts`,
      );
    }
    const add = await resolve(addIds);
    return [...(add.length > 0 ? [{ kind: 'add' as const, members: add }] : []), ...(remove.length > 0 ? [{ kind: 'remove' as const, ids: remove }] : [])];
  };

  const applyMemberChanges = async (
    groupId: string,
    changes: ResolvedMemberChange[],
    expectedVersion: number | undefined,
    origin: WriteOrigin | undefined,
  ): Promise<void> => {
    let guard = expectedVersion;
    const run = async (add: Member[], remove: string[]) => {
      for (let i = 0; i < Math.max(add.length, remove.length); i += DIRECTORY_LIMITS.memberChunk) {
        const part = { add: add.slice(i, i + DIRECTORY_LIMITS.memberChunk), remove: remove.slice(i, i + DIRECTORY_LIMITS.memberChunk) };
        await store.changeMembers(groupId, part, { expectedVersion: guard, lastModified: now(), ...(origin === undefined ? {} : { origin }) });
        guard = undefined;
      }
    };
    for (const change of changes) {
      if (change.kind === 'add') await run(change.members, []);
      else await run([], change.ids);
    }
  };

  /** Refuses, before anything is written, what DynamoDB would refuse: a 4xx, never a 500 or half a record. */
  const assertStorable = (type: ResourceType, data: ScimJson) => {
    const emails = Array.isArray(data.emails) ? data.emails.length : 0;
    if (type === 'User' && emails > DIRECTORY_LIMITS.maxEmails) {
      throw scimErrors.invalidValue(`A user may have at most ${DIRECTORY_LIMITS.maxEmails} emails, not ${emails}`);
    }
    const bytes = Buffer.byteLength(JSON.stringify(data), 'utf8');
    if (bytes > DIRECTORY_LIMITS.maxResourceBytes) {
      throw new ScimError(413, undefined, `The ${type} would take ${bytes} bytes; at most ${DIRECTORY_LIMITS.maxResourceBytes} can be stored`);
    }
  };

  const create = async (type: ResourceType, body: unknown, ctx: RequestContext): Promise<ResourceResult> => {
    const input =
      type === 'User'
        ? normalizeUser(body, { strictUnknown: ctx.strictUnknownAttributes })
        : normalizeGroup(body, { strictUnknown: ctx.strictUnknownAttributes });
    if (input.unknownAttributes.length > 0) deps.onUnknownAttributes(type, input.unknownAttributes);
    const { members: memberValues, ...data } = input.resource as ScimJson & { members?: Array<{ value: string }> };
    assertStorable(type, data);
    const members = type === 'Group' && memberValues?.length ? await resolveMembers(memberValues) : [];
    // More members than one transaction holds are written in chunks after the group: until the
    // last one, the group carries the request's fingerprint, so the same request sent again
    // (the first died between chunks) completes it.
    const pending = members.length > 0 ? createFingerprint(data, members) : undefined;
    const timestamp = now();
    const record: ResourceRecord = stamped(
      {
        id: deps.newId(),
        resourceType: type,
        version: 1,
        created: timestamp,
        lastModified: timestamp,
        data,
        ...(input.password ? { passwordHash: await hashPassword(input.password) } : {}),
        ...(type === 'Group' ? { memberCount: 0 } : {}),
        ...(pending ? { pendingMembers: pending } : {}),
      },
      ctx.origin,
    );
    try {
      await store.create(record, indexesOf(type, data));
    } catch (error) {
      const resumed = pending && error instanceof UniquenessConflict ? await resumeCreate(type, data, pending, members, ctx) : undefined;
      if (resumed) return resumed;
      throw toScimError(error, false);
    }
    if (members.length > 0) {
      try {
        await applyMemberChanges(record.id, [{ kind: 'add', members }], undefined, ctx.origin);
        await store.completeCreate(type, record.id);
      } catch (error) {
        // A failed request writes nothing: take the half-created group away again, at the
        // version its partial membership changes left it.
        const current = await store.get(type, record.id).catch(() => undefined);
        if (current) await store.delete(current, indexesOf(type, current.data)).catch(() => undefined);
        throw toScimError(error, false);
      }
    }
    if (members.length === 0) {
      // Nothing else can have touched a resource this new: answer from what was written, and a
      // new user is in no group yet (saves the read-back and the groups query on every create).
      const resource = project(toScimResource(record, ctx.baseUrl), {}, type);
      return { resource, version: record.version };
    }
    const stored = await load(type, record.id);
    return { resource: await represent(stored, {}, ctx), version: stored.version };
  };

  /**
   * The same create sent again, while the group it made still waits for members: adds the
   * members it is missing (adds of present members change nothing) and completes it. undefined
   * when the name belongs to another group or to a finished create: that stays a conflict.
   */
  const resumeCreate = async (
    type: ResourceType,
    data: ScimJson,
    pending: string,
    members: Member[],
    ctx: RequestContext,
  ): Promise<ResourceResult | undefined> => {
    const [key] = indexesOf(type, data).uniques;
    const id = key ? await store.findIdByUnique(type, key) : undefined;
    const existing = id ? await store.get(type, id) : undefined;
    if (!existing || existing.pendingMembers !== pending) return undefined;
    try {
      await applyMemberChanges(existing.id, [{ kind: 'add', members }], undefined, ctx.origin);
      await store.completeCreate(type, existing.id);
    } catch (error) {
      throw toScimError(error, false);
    }
    const stored = await load(type, existing.id);
    return { resource: await represent(stored, {}, ctx), version: stored.version };
  };

  const get = async (type: ResourceType, id: string, projection: Projection, ctx: RequestContext): Promise<ResourceResult> => {
    const record = await load(type, id);
    return { resource: await represent(record, projection, ctx), version: record.version };
  };

  const replace = async (type: ResourceType, id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext): Promise<ResourceResult> => {
    const existing = await load(type, id);
    checkIfMatch(existing, ifMatch);
    const input =
      type === 'User'
        ? normalizeUser(body, { strictUnknown: ctx.strictUnknownAttributes })
        : normalizeGroup(body, { strictUnknown: ctx.strictUnknownAttributes });
    if (input.unknownAttributes.length > 0) deps.onUnknownAttributes(type, input.unknownAttributes);
    const { members: memberValues, ...data } = input.resource as ScimJson & { members?: Array<{ value: string }> };
    assertStorable(type, data);
    // A PUT without `members` leaves the members as they are; `"members": []` removes them all.
    // RFC 7644 section 3.5.1 would clear them, but a GET of a group above maxInlineMembers (or
    // with excludedAttributes=members) has no `members`, and a client that PUTs back what it
    // read would silently empty the group.
    const membersGiven = type === 'Group' && isPlainObject(body) && findKey(body, 'members') !== undefined;
    const memberChanges = membersGiven
      ? await resolveMemberChanges(existing, [{ kind: 'replace', ids: (memberValues ?? []).map((member) => member.value) }])
      : [];
    const record: ResourceRecord = stamped(
      {
        ...existing,
        version: existing.version + 1,
        lastModified: now(),
        data,
        ...(input.password ? { passwordHash: await hashPassword(input.password) } : {}),
      },
      ctx.origin,
    );
    try {
      await store.replace(record, existing.version, indexesOf(type, existing.data), indexesOf(type, data));
      if (memberChanges.length > 0) await applyMemberChanges(id, memberChanges, undefined, ctx.origin);
    } catch (error) {
      throw toScimError(error, true);
    }
    const stored = await load(type, id);
    return { resource: await represent(stored, {}, ctx), version: stored.version };
  };

  const patch = async (
    type: ResourceType,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
    ctx: RequestContext,
    projection: Projection = {},
  ): Promise<ResourceResult> => {
    const operations = parsePatchRequest(body, { requireSchemas: ctx.strictUnknownAttributes });
    const { memberChanges: requested, rest } = type === 'Group' ? extractMemberOperations(operations) : { memberChanges: [], rest: operations };
    let memberChanges: ResolvedMemberChange[] | undefined;
    // Without If-Match a concurrent writer is not the client's problem: read again and re-apply.
    for (let attempt = 1; ; attempt++) {
      const existing = await load(type, id);
      checkIfMatch(existing, ifMatch);
      memberChanges ??= await resolveMemberChanges(existing, requested);
      const current = { ...toScimResource(existing, ctx.baseUrl) };
      const patched = applyPatch(current, rest, type);
      try {
        let expected: number | undefined = ifMatch === undefined ? undefined : existing.version;
        if (patched.changed) {
          const { id: _id, schemas: _schemas, meta: _meta, groups: _groups, members: _members, ...data } = patched.resource;
          assertStorable(type, data);
          const record: ResourceRecord = stamped(
            {
              ...existing,
              version: existing.version + 1,
              lastModified: now(),
              data,
              ...(patched.password === undefined ? {} : { passwordHash: await hashPassword(patched.password) }),
            },
            ctx.origin,
          );
          await store.replace(record, existing.version, indexesOf(type, existing.data), indexesOf(type, data));
          expected = undefined;
        }
        if (memberChanges.length > 0) await applyMemberChanges(id, memberChanges, expected, ctx.origin);
      } catch (error) {
        if (error instanceof VersionConflict && ifMatch === undefined && attempt < 4) continue;
        throw toScimError(error, true);
      }
      const stored = await load(type, id);
      return { resource: await represent(stored, projection, ctx), version: stored.version };
    }
  };

  const remove = async (type: ResourceType, id: string, ifMatch: string | undefined): Promise<void> => {
    // The store deletes the version read, with that version's guards. Without If-Match a
    // concurrent change is not the client's problem: read again and delete what is there now.
    for (let attempt = 1; ; attempt++) {
      const existing = await load(type, id);
      checkIfMatch(existing, ifMatch);
      try {
        await store.delete(existing, indexesOf(type, existing.data));
        return;
      } catch (error) {
        if (error instanceof VersionConflict && ifMatch === undefined && attempt < 8) continue;
        throw toScimError(error, true);
      }
    }
  };

  return { create, get, list, search, replace, patch, delete: remove };
};

export type Directory = ReturnType<typeof makeDirectory>;

/** A membership change whose added members are known to exist, and of which type they are. */
type ResolvedMemberChange = { kind: 'add'; members: Member[] } | { kind: 'remove'; ids: string[] };
