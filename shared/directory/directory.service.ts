import { ScimError, scimErrors } from '../scim/errors.ts';
import { findKey, isPlainObject } from '../scim/json.ts';
import { assertKnownToSomeType, compileFilter, evaluateFilter, type FilterNode, indexableEquality, neverMatches, parseFilter, validateFilter } from '../scim/filter.ts';
import { normalizeGroup, normalizeUser } from '../scim/input.ts';
import { applyPatch, extractMemberOperations, type MemberChange, parsePatchRequest } from '../scim/patch.ts';
import { isAttributeRequested, project } from '../scim/projection.ts';
import { compareAcrossTypes, compareBy } from '../scim/sort.ts';
import { InvalidCursor, MemberNotFound, ResourceNotFound, UniquenessConflict, VersionConflict } from './directory.errors.ts';
import type { DirectoryStore, Member, RecordIndexes, ResourceRecord, ResourceType, ScimJson } from './directory.ports.ts';
import { hashPassword } from './password.ts';
import { ENDPOINTS, toScimResource, versionFromEtag } from './scim-resource.mapper.ts';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** Limits the service advertises in /ServiceProviderConfig and enforces. */
export const DIRECTORY_LIMITS = {
  /** `count` beyond this is lowered to it (RFC 7644 section 3.4.2.4 lets the server do so). */
  maxResults: 1000,
  defaultCount: 100,
  /** A filter no index can answer is evaluated over at most this many resources, else 400 tooMany. */
  maxScanned: 10_000,
  /**
   * A group with more members than this is returned without `members` (and with `memberCount`
   * in the hub extension): 100 000 members do not fit in a 6 MB Lambda response. Members of
   * any group page through `GET /Users?filter=groups.value eq "<group id>"`.
   */
  maxInlineMembers: 10_000,
  /** Members added or removed per store call. */
  memberChunk: 1000,
  /**
   * Email addresses per user. Each is an index item written in the same DynamoDB transaction as
   * the user (at most 100 items, and a change removes old ones and adds new ones), so more would
   * fail in DynamoDB instead of answering 400.
   */
  maxEmails: 40,
  /**
   * The stored size of one resource, measured as its JSON. DynamoDB refuses items over 400 KB
   * (attribute names count too); this leaves room for the keys and the item's other attributes.
   */
  maxResourceBytes: 350_000,
  /**
   * Members a PUT or a `replace`/`remove` of all members may take away or add in one request:
   * a diff larger than this would not finish inside API Gateway's 29 s. Larger changes go as
   * several PATCH add/remove requests.
   */
  maxMemberDiff: 20_000,
  /**
   * What the member lists in one response may cost, in bytes of the Lambda response (the JSON
   * body inside the JSON envelope, with its escaped quotes). Lambda's limit is 6 MB; the rest of
   * the page gets the remaining 2 MB. Groups beyond the budget come without `members`, marked
   * `membersOmitted` like groups above `maxInlineMembers`.
   */
  memberBytesPerResponse: 4_000_000,
} as const;

/**
 * The limits a deployment may lower (tests do, to reach them with a handful of resources).
 * `maxResults` and `defaultCount` are not among them: /ServiceProviderConfig advertises those.
 */
export interface AdjustableLimits {
  maxScanned?: number;
  maxInlineMembers?: number;
  memberBytesPerResponse?: number;
}

export const HUB_GROUP_EXTENSION = 'urn:ietf:params:scim:schemas:extension:hub:2.0:Group';

export interface DirectoryDeps {
  store: DirectoryStore;
  clock: () => Date;
  newId: () => string;
  /** Where ignored unknown attributes are reported (logged, by default). */
  onUnknownAttributes: (resourceType: ResourceType, names: string[]) => void;
  /** Overrides of DIRECTORY_LIMITS; the defaults apply to what is not given. */
  limits?: AdjustableLimits;
}

export interface RequestContext {
  baseUrl: string;
  strictUnknownAttributes: boolean;
}

export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

export interface ListQuery extends Projection {
  filter?: string;
  startIndex?: number;
  count?: number;
  /** RFC 9865: present (possibly empty) when the client pages by cursor. */
  cursor?: string;
  sortBy?: string;
  sortOrder?: 'ascending' | 'descending';
}

export interface ResourceResult {
  resource: ScimJson;
  version: number;
}

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
  const limits = {
    maxScanned: deps.limits?.maxScanned ?? DIRECTORY_LIMITS.maxScanned,
    maxInlineMembers: deps.limits?.maxInlineMembers ?? DIRECTORY_LIMITS.maxInlineMembers,
    memberBytesPerResponse: deps.limits?.memberBytesPerResponse ?? DIRECTORY_LIMITS.memberBytesPerResponse,
  };
  const now = () => deps.clock().toISOString();

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

  const allMemberIds = async (groupId: string): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.members(groupId, { limit: 1000, cursor });
      ids.push(...page.items.map((member) => member.value));
      cursor = page.next;
    } while (cursor);
    return ids;
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
    return [
      ...(add.length > 0 ? [{ kind: 'add' as const, members: add }] : []),
      ...(remove.length > 0 ? [{ kind: 'remove' as const, ids: remove }] : []),
    ];
  };

  const applyMemberChanges = async (groupId: string, changes: ResolvedMemberChange[], expectedVersion: number | undefined): Promise<void> => {
    let guard = expectedVersion;
    const run = async (add: Member[], remove: string[]) => {
      for (let i = 0; i < Math.max(add.length, remove.length); i += DIRECTORY_LIMITS.memberChunk) {
        const part = { add: add.slice(i, i + DIRECTORY_LIMITS.memberChunk), remove: remove.slice(i, i + DIRECTORY_LIMITS.memberChunk) };
        await store.changeMembers(groupId, part, { expectedVersion: guard, lastModified: now() });
        guard = undefined;
      }
    };
    for (const change of changes) {
      if (change.kind === 'add') await run(change.members, []);
      else await run([], change.ids);
    }
  };

  /** The representation with derived attributes, loading them only when they will be returned. */
  const represent = async (record: ResourceRecord, projection: Projection, ctx: RequestContext, membersFit = true): Promise<ScimJson> => {
    const resource = toScimResource(record, ctx.baseUrl);
    if (record.resourceType === 'User' && isAttributeRequested(projection, 'groups', 'User')) {
      const groupIds = await store.groupIdsOf(record.id);
      if (groupIds.length > 0) {
        const groups = await store.getMany('Group', groupIds);
        resource.groups = groups.map((group) => ({
          value: group.id,
          $ref: `${ctx.baseUrl}/Groups/${group.id}`,
          display: group.data.displayName,
          type: 'direct',
        }));
      }
    }
    if (record.resourceType === 'Group') {
      const memberCount = record.memberCount ?? 0;
      if (memberCount > limits.maxInlineMembers || (!membersFit && memberCount > 0 && isAttributeRequested(projection, 'members', 'Group'))) {
        resource.schemas = [...(resource.schemas as string[]), HUB_GROUP_EXTENSION];
        resource[HUB_GROUP_EXTENSION] = { memberCount, membersOmitted: true };
      } else if (memberCount > 0 && isAttributeRequested(projection, 'members', 'Group')) {
        const members: ScimJson[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.members(record.id, { limit: 1000, cursor });
          for (const member of page.items) {
            members.push({ value: member.value, $ref: `${ctx.baseUrl}/${ENDPOINTS[member.type]}/${member.value}`, type: member.type });
          }
          cursor = page.next;
        } while (cursor);
        resource.members = members;
      }
    }
    return project(resource, projection, record.resourceType);
  };

  /**
   * A page of resources within the response budget: groups whose member lists would take the
   * page past `memberBytesPerResponse` are returned without members (and say so), in page order.
   */
  const representPage = (records: ResourceRecord[], projection: Projection, ctx: RequestContext): Promise<ScimJson[]> => {
    const perMember = memberResponseBytes(ctx.baseUrl);
    let left = limits.memberBytesPerResponse;
    const fits = records.map((record) => {
      const memberCount = record.memberCount ?? 0;
      if (record.resourceType !== 'Group' || memberCount === 0 || memberCount > limits.maxInlineMembers) return true;
      const cost = memberCount * perMember;
      if (cost > left) return false;
      left -= cost;
      return true;
    });
    return Promise.all(records.map((record, index) => represent(record, projection, ctx, fits[index])));
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
    const input = type === 'User' ? normalizeUser(body, { strictUnknown: ctx.strictUnknownAttributes }) : normalizeGroup(body, { strictUnknown: ctx.strictUnknownAttributes });
    if (input.unknownAttributes.length > 0) deps.onUnknownAttributes(type, input.unknownAttributes);
    const { members: memberValues, ...data } = input.resource as ScimJson & { members?: Array<{ value: string }> };
    assertStorable(type, data);
    const members = type === 'Group' && memberValues?.length ? await resolveMembers(memberValues) : [];
    const timestamp = now();
    const record: ResourceRecord = {
      id: deps.newId(),
      resourceType: type,
      version: 1,
      created: timestamp,
      lastModified: timestamp,
      data,
      ...(input.password ? { passwordHash: await hashPassword(input.password) } : {}),
      ...(type === 'Group' ? { memberCount: 0 } : {}),
    };
    try {
      await store.create(record, indexesOf(type, data));
    } catch (error) {
      throw toScimError(error, false);
    }
    if (members.length > 0) {
      try {
        await applyMemberChanges(record.id, [{ kind: 'add', members }], undefined);
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

  const get = async (type: ResourceType, id: string, projection: Projection, ctx: RequestContext): Promise<ResourceResult> => {
    const record = await load(type, id);
    return { resource: await represent(record, projection, ctx), version: record.version };
  };

  const replace = async (type: ResourceType, id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext): Promise<ResourceResult> => {
    const existing = await load(type, id);
    checkIfMatch(existing, ifMatch);
    const input = type === 'User' ? normalizeUser(body, { strictUnknown: ctx.strictUnknownAttributes }) : normalizeGroup(body, { strictUnknown: ctx.strictUnknownAttributes });
    if (input.unknownAttributes.length > 0) deps.onUnknownAttributes(type, input.unknownAttributes);
    const { members: memberValues, ...data } = input.resource as ScimJson & { members?: Array<{ value: string }> };
    assertStorable(type, data);
    // A PUT without `members` leaves the members as they are; `"members": []` removes them all.
    // RFC 7644 section 3.5.1 would clear them, but a GET of a group above maxInlineMembers (or
    // with excludedAttributes=members) has no `members`, and a client that PUTs back what it
    // read would silently empty the group.
    const membersGiven = type === 'Group' && isPlainObject(body) && findKey(body, 'members') !== undefined;
    const memberChanges = membersGiven ? await resolveMemberChanges(existing, [{ kind: 'replace', ids: (memberValues ?? []).map((member) => member.value) }]) : [];
    const record: ResourceRecord = {
      ...existing,
      version: existing.version + 1,
      lastModified: now(),
      data,
      ...(input.password ? { passwordHash: await hashPassword(input.password) } : {}),
    };
    try {
      await store.replace(record, existing.version, indexesOf(type, existing.data), indexesOf(type, data));
      if (memberChanges.length > 0) await applyMemberChanges(id, memberChanges, undefined);
    } catch (error) {
      throw toScimError(error, true);
    }
    const stored = await load(type, id);
    return { resource: await represent(stored, {}, ctx), version: stored.version };
  };

  const patch = async (type: ResourceType, id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext, projection: Projection = {}): Promise<ResourceResult> => {
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
          const record: ResourceRecord = {
            ...existing,
            version: existing.version + 1,
            lastModified: now(),
            data,
            ...(patched.password === undefined ? {} : { passwordHash: await hashPassword(patched.password) }),
          };
          await store.replace(record, existing.version, indexesOf(type, existing.data), indexesOf(type, data));
          expected = undefined;
        }
        if (memberChanges.length > 0) await applyMemberChanges(id, memberChanges, expected);
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

  /**
   * Candidates for a filter: by an index when one answers it, else undefined (scan). Lookups on
   * derived attributes (a user's groups, a group's members) also say what the index proved, so
   * the filter's other terms can be checked without loading every membership.
   */
  const candidatesFor = async (
    type: ResourceType,
    filter: FilterNode,
  ): Promise<{ records: ResourceRecord[]; derived?: ScimJson } | undefined> => {
    const lookup = indexableEquality(filter);
    if (!lookup) return undefined;
    const value = lookup.caseExact ? lookup.value : lookup.value.normalize('NFC').toLowerCase();
    switch (lookup.attribute) {
      case 'id':
        return { records: await store.getMany(type, [lookup.value]) };
      case 'externalId':
        return { records: await store.getMany(type, await store.findIdsByExternalId(type, value)) };
      case 'userName':
      case 'displayName': {
        if ((lookup.attribute === 'userName' && type !== 'User') || (lookup.attribute === 'displayName' && type !== 'Group')) return undefined;
        const found = await store.findIdByUnique(type, { attribute: lookup.attribute, value });
        return { records: found ? await store.getMany(type, [found]) : [] };
      }
      case 'emails.value':
        return type === 'User' ? { records: await store.getMany('User', await store.findUserIdsByEmail(value)) } : undefined;
      case 'members.value':
        return type === 'Group'
          ? { records: await store.getMany('Group', await store.groupIdsOf(lookup.value)), derived: { members: [{ value: lookup.value }] } }
          : undefined;
      case 'groups.value': {
        if (type !== 'User') return undefined;
        // With other terms every member is a candidate: as bounded as a scan.
        const group = await store.get('Group', lookup.value);
        if ((group?.memberCount ?? 0) > limits.maxScanned) {
          throw scimErrors.tooMany(`Group ${lookup.value} has more than ${limits.maxScanned} members to examine; filter on groups.value alone and page by cursor`);
        }
        return { records: group ? await store.getMany('User', await allMemberIds(lookup.value)) : [], derived: { groups: [{ value: lookup.value }] } };
      }
      default:
        return undefined;
    }
  };

  const list = async (type: ResourceType, query: ListQuery, ctx: RequestContext): Promise<ScimJson> => {
    const count = Math.max(0, Math.min(query.count ?? DIRECTORY_LIMITS.defaultCount, DIRECTORY_LIMITS.maxResults));
    const startIndex = Math.max(1, query.startIndex ?? 1);
    const filter = query.filter === undefined || query.filter.trim() === '' ? undefined : parseFilter(query.filter);
    // Unknown attributes must be a 400 even when an index lookup finds no candidate to evaluate.
    if (filter) validateFilter(filter, type);
    const byCursor = query.cursor !== undefined;
    if (byCursor && query.startIndex !== undefined) {
      throw scimErrors.invalidValue('startIndex and cursor cannot be used together (RFC 9865 section 2)');
    }

    if (!byCursor) assertSkippable(startIndex);

    // Members of one group, unsorted: page straight off the group's membership partition, so a
    // page costs O(count) reads whatever the group's size.
    const groupId = type === 'User' && filter && !query.sortBy ? soleGroupsValue(filter) : undefined;
    if (groupId !== undefined) return await groupMembersPage(groupId, count, startIndex, byCursor ? query.cursor : undefined, query, ctx);

    // Unfiltered and unsorted: page straight off the type index.
    if (!filter && !query.sortBy) {
      const totalResults = await store.count(type);
      let records: ResourceRecord[] = [];
      let next: string | undefined;
      if (byCursor) {
        const page = await listPage(type, count, query.cursor || undefined);
        records = page.items;
        next = page.next;
      } else {
        records = await skipAndTake(type, startIndex - 1, count);
      }
      return listResponse(await representPage(records, query, ctx), totalResults, startIndex, byCursor ? next : undefined, byCursor);
    }

    const predicate = filter ? (resource: ScimJson) => evaluateFilter(filter, resource, type) : undefined;
    let matches = await matchingRecords(type, filter, predicate, ctx);
    if (query.sortBy) {
      const compare = compareBy(query.sortBy, query.sortOrder ?? 'ascending', type);
      const withResources = matches.map((record) => ({ record, resource: toScimResource(record, ctx.baseUrl) }));
      withResources.sort((a, b) => compare(a.resource, b.resource));
      matches = withResources.map((entry) => entry.record);
    }
    const offset = byCursor ? decodeOffset(query.cursor) : startIndex - 1;
    const page = matches.slice(offset, offset + count);
    const next = offset + count < matches.length ? encodeOffset(offset + count) : undefined;
    return listResponse(await representPage(page, query, ctx), matches.length, byCursor ? offset + 1 : startIndex, next, byCursor);
  };

  /**
   * The records of a type that match a filter (all of them without one): by an index when one
   * answers the filter, else by reading at most `maxScanned` records (then 400 tooMany).
   */
  const matchingRecords = async (
    type: ResourceType,
    filter: FilterNode | undefined,
    predicate: ((resource: ScimJson) => boolean) | undefined,
    ctx: RequestContext,
  ): Promise<ResourceRecord[]> => {
    const matches = (record: ResourceRecord, derived?: ScimJson) => predicate === undefined || predicate({ ...toScimResource(record, ctx.baseUrl), ...derived });
    const candidates = filter ? await candidatesFor(type, filter) : undefined;
    if (candidates) return candidates.records.filter((record) => matches(record, candidates.derived));
    const found: ResourceRecord[] = [];
    let cursor: string | undefined;
    let scanned = 0;
    do {
      const page = await store.list(type, { limit: 500, cursor });
      scanned += page.items.length;
      if (scanned > limits.maxScanned) {
        throw scimErrors.tooMany(
          `This ${filter ? 'filter' : 'sort'} would examine more than ${limits.maxScanned} ${ENDPOINTS[type]}; filter on an indexed attribute (id, externalId, ${type === 'User' ? 'userName, emails.value, groups.value' : 'displayName, members.value'})`,
        );
      }
      found.push(...page.items.filter((record) => matches(record)));
      cursor = page.next;
    } while (cursor);
    return found;
  };

  /**
   * RFC 7644 section 3.4.3: `POST /.search` at the root of the SCIM base, one query over Users and
   * Groups with the rules of the per-type endpoints. Users come before Groups (each in creation
   * order) unless `sortBy` orders them; an attribute one type lacks is read as unassigned there,
   * so `userName eq "x"` matches no Group, and a filter no type understands is 400 invalidFilter.
   */
  const search = async (query: ListQuery, ctx: RequestContext): Promise<ScimJson> => {
    const count = Math.max(0, Math.min(query.count ?? DIRECTORY_LIMITS.defaultCount, DIRECTORY_LIMITS.maxResults));
    const startIndex = Math.max(1, query.startIndex ?? 1);
    const byCursor = query.cursor !== undefined;
    if (byCursor && query.startIndex !== undefined) {
      throw scimErrors.invalidValue('startIndex and cursor cannot be used together (RFC 9865 section 2)');
    }
    if (!byCursor) assertSkippable(startIndex);
    const filter = query.filter === undefined || query.filter.trim() === '' ? undefined : parseFilter(query.filter);
    const represented = async (records: ResourceRecord[]) => (await representPage(records, query, ctx)).map((resource, index) => withResourceType(resource, records[index] as ResourceRecord));

    if (!filter && !query.sortBy) {
      const counts = await Promise.all(SEARCH_TYPES.map((type) => store.count(type)));
      const totalResults = counts.reduce((sum, n) => sum + n, 0);
      const records: ResourceRecord[] = [];
      let next: string | undefined;
      if (byCursor) {
        let position: RootPosition | undefined = decodeRootCursor(query.cursor);
        while (records.length < count && position !== undefined) {
          const type = SEARCH_TYPES[position.type] as ResourceType;
          const page = await listPage(type, count - records.length, position.cursor);
          records.push(...page.items);
          position = page.next ? { type: position.type, cursor: page.next } : position.type + 1 < SEARCH_TYPES.length ? { type: position.type + 1 } : undefined;
        }
        next = position === undefined ? undefined : encodeRootCursor(position);
      } else {
        let skip = startIndex - 1;
        for (const [index, type] of SEARCH_TYPES.entries()) {
          const inType = counts[index] ?? 0;
          if (skip >= inType) {
            skip -= inType;
            continue;
          }
          if (records.length >= count) break;
          records.push(...(await skipAndTake(type, skip, count - records.length)));
          skip = 0;
        }
      }
      return listResponse(await represented(records), totalResults, startIndex, next, byCursor);
    }

    if (filter) assertKnownToSomeType(filter, SEARCH_TYPES);
    const plans = SEARCH_TYPES.flatMap((type): Array<{ type: ResourceType; predicate: ((resource: ScimJson) => boolean) | undefined }> => {
      if (!filter) return [{ type, predicate: undefined }];
      if (neverMatches(filter, type)) return [];
      const predicate = compileFilter(filter, type, { unknownAttributesAbsent: true });
      return [{ type, predicate }];
    });
    const entries: Array<{ type: ResourceType; record: ResourceRecord; resource: ScimJson }> = [];
    for (const plan of plans) {
      for (const record of await matchingRecords(plan.type, filter, plan.predicate, ctx)) {
        entries.push({ type: plan.type, record, resource: toScimResource(record, ctx.baseUrl) });
      }
    }
    if (query.sortBy) entries.sort(compareAcrossTypes(query.sortBy, query.sortOrder ?? 'ascending', SEARCH_TYPES));
    const offset = byCursor ? decodeOffset(query.cursor) : startIndex - 1;
    const page = entries.slice(offset, offset + count);
    const next = offset + count < entries.length ? encodeOffset(offset + count) : undefined;
    return listResponse(await represented(page.map((entry) => entry.record)), entries.length, byCursor ? offset + 1 : startIndex, next, byCursor);
  };


  /** startIndex paging walks the index up to the start: beyond the scan cap a cursor must be used. */
  const assertSkippable = (startIndex: number) => {
    if (startIndex - 1 > limits.maxScanned) {
      throw scimErrors.tooMany(`startIndex may be at most ${limits.maxScanned + 1}; page further with cursor (RFC 9865)`);
    }
  };

  const groupMembersPage = async (groupId: string, count: number, startIndex: number, cursor: string | undefined, projection: Projection, ctx: RequestContext): Promise<ScimJson> => {
    const group = await store.get('Group', groupId);
    if (!group) return listResponse([], 0, startIndex, undefined, cursor !== undefined);
    const readMembers = async (limit: number, from: string | undefined) => {
      try {
        return await store.members(groupId, { limit, cursor: from });
      } catch (error) {
        throw invalidCursor(error);
      }
    };
    const taken: Member[] = [];
    let next: string | undefined;
    if (cursor !== undefined) {
      if (count > 0) {
        const page = await readMembers(count, cursor || undefined);
        taken.push(...page.items);
        next = page.next;
      } else next = cursor || undefined;
    } else {
      let skip = startIndex - 1;
      let from: string | undefined;
      while (taken.length < count) {
        const page = await readMembers(Math.min(1000, skip + count - taken.length), from);
        taken.push(...page.items.slice(skip).slice(0, count - taken.length));
        skip = Math.max(0, skip - page.items.length);
        from = page.next;
        if (!from) break;
      }
    }
    // Nested groups are members too, but /Users lists only users.
    const users = await store.getMany('User', taken.filter((member) => member.type === 'User').map((member) => member.value));
    const resources = await representPage(users, projection, ctx);
    return listResponse(resources, group.memberCount ?? 0, startIndex, next, cursor !== undefined);
  };

  const listPage = async (type: ResourceType, count: number, cursor: string | undefined) => {
    if (count === 0) return { items: [], next: cursor };
    try {
      return await store.list(type, { limit: count, cursor });
    } catch (error) {
      throw invalidCursor(error);
    }
  };

  const skipAndTake = async (type: ResourceType, skip: number, take: number): Promise<ResourceRecord[]> => {
    const taken: ResourceRecord[] = [];
    let toSkip = skip;
    let cursor: string | undefined;
    while (taken.length < take) {
      const page = await store.list(type, { limit: Math.min(1000, toSkip + take - taken.length), cursor });
      const usable = page.items.slice(toSkip);
      toSkip = Math.max(0, toSkip - page.items.length);
      taken.push(...usable.slice(0, take - taken.length));
      cursor = page.next;
      if (!cursor) break;
    }
    return taken;
  };

  return { create, get, list, search, replace, patch, delete: remove };
};

export type Directory = ReturnType<typeof makeDirectory>;

/** A membership change whose added members are known to exist, and of which type they are. */
type ResolvedMemberChange = { kind: 'add'; members: Member[] } | { kind: 'remove'; ids: string[] };

/** The group id of a filter that is exactly `groups.value eq "<id>"` (or `groups[value eq "<id>"]`). */
const soleGroupsValue = (filter: FilterNode): string | undefined => {
  const lookup = indexableEquality(filter);
  const exact = filter.op === 'eq' || (filter.op === 'valuePath' && filter.filter.op === 'eq');
  return exact && lookup?.attribute === 'groups.value' ? lookup.value : undefined;
};

const listResponse = (resources: ScimJson[], totalResults: number, startIndex: number, nextCursor: string | undefined, byCursor: boolean): ScimJson => ({
  schemas: [LIST_RESPONSE_SCHEMA],
  totalResults,
  itemsPerPage: resources.length,
  ...(byCursor ? {} : { startIndex }),
  ...(nextCursor ? { nextCursor } : {}),
  Resources: resources,
});

/** In a search over several types each resource says which it is, whatever the projection. */
const withResourceType = (resource: ScimJson, record: ResourceRecord): ScimJson => {
  const meta = (resource.meta ?? {}) as ScimJson;
  return meta.resourceType === undefined ? { ...resource, meta: { ...meta, resourceType: record.resourceType } } : resource;
};

/**
 * An upper bound of what one member costs in a Lambda response: its JSON in the body, with the
 * quotes escaped again in the envelope, for a member id as long as the hub's (a UUID) and the
 * longer of the two reference forms.
 */
const memberResponseBytes = (baseUrl: string): number => {
  const id = '00000000-0000-0000-0000-000000000000';
  const member = JSON.stringify({ value: id, $ref: `${baseUrl}/Groups/${id}`, type: 'Group' });
  return Buffer.byteLength(JSON.stringify(member), 'utf8') - 2 + 1;
};

/** The resource types a search at the root covers, in the order an unsorted search returns them. */
const SEARCH_TYPES: readonly ResourceType[] = ['User', 'Group'];

/** Where an unsorted root search stands: the type it is reading and the store's cursor in it. */
interface RootPosition {
  type: number;
  cursor?: string;
}

const encodeRootCursor = (position: RootPosition): string => Buffer.from(JSON.stringify({ t: position.type, c: position.cursor })).toString('base64url');

const decodeRootCursor = (cursor: string | undefined): RootPosition => {
  if (!cursor) return { type: 0 };
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; c?: unknown };
    if (typeof parsed.t === 'number' && Number.isInteger(parsed.t) && parsed.t >= 0 && parsed.t < SEARCH_TYPES.length && (parsed.c === undefined || typeof parsed.c === 'string')) {
      return { type: parsed.t, ...(parsed.c === undefined ? {} : { cursor: parsed.c }) };
    }
  } catch {
    // falls through to the error below
  }
  throw scimErrors.invalidCursor('The cursor is not valid for this query');
};

const encodeOffset = (offset: number): string => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');

const decodeOffset = (cursor: string | undefined): number => {
  if (!cursor) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // falls through to the error below
  }
  throw scimErrors.invalidCursor('The cursor is not valid for this query');
};

const invalidCursor = (error: unknown): unknown =>
  error instanceof InvalidCursor ? new ScimError(400, 'invalidCursor', 'The cursor is not valid', { cause: error }) : error;
