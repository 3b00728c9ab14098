import { scimErrors } from '../scim/errors.ts';
import {
  assertKnownToSomeType,
  compileFilter,
  evaluateFilter,
  type FilterNode,
  indexableEquality,
  neverMatches,
  parseFilter,
  validateFilter,
} from '../scim/filter.ts';
import { compareAcrossTypes, compareBy } from '../scim/sort.ts';
import type { DirectoryStore, Member, ResourceRecord, ResourceType, ScimJson } from './directory.ports.ts';
import {
  decodeOffset,
  decodeRootCursor,
  encodeOffset,
  encodeRootCursor,
  invalidCursor,
  listResponse,
  type RootPosition,
  SEARCH_TYPES,
  type TypePaging,
} from './directory.paging.ts';
import { type Representation, withResourceType } from './directory.representation.ts';
import { DIRECTORY_LIMITS, type DirectoryLimits, type ListQuery, type Projection, type RequestContext } from './directory.types.ts';
import { ENDPOINTS, toScimResource } from './scim-resource.mapper.ts';

/** The group id of a filter that is exactly `groups.value eq "<id>"` (or `groups[value eq "<id>"]`). */
const soleGroupsValue = (filter: FilterNode): string | undefined => {
  const lookup = indexableEquality(filter);
  const exact = filter.op === 'eq' || (filter.op === 'valuePath' && filter.filter.op === 'eq');
  return exact && lookup?.attribute === 'groups.value' ? lookup.value : undefined;
};

/**
 * The directory's read use cases: list a type (RFC 7644 section 3.4.2) and search at the root
 * (section 3.4.3), by an index where one answers the filter, else over a capped scan.
 */
export const makeQueries = ({
  store,
  limits,
  representation,
  paging,
}: {
  store: DirectoryStore;
  limits: DirectoryLimits;
  representation: Representation;
  paging: TypePaging;
}) => {
  const { representPage, allMemberIds } = representation;
  const { assertSkippable, listPage, skipAndTake } = paging;

  /**
   * Candidates for a filter: by an index when one answers it, else undefined (scan). Lookups on
   * derived attributes (a user's groups, a group's members) also say what the index proved, so
   * the filter's other terms can be checked without loading every membership.
   */
  const candidatesFor = async (type: ResourceType, filter: FilterNode): Promise<{ records: ResourceRecord[]; derived?: ScimJson } | undefined> => {
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
          throw scimErrors.tooMany(
            `Group ${lookup.value} has more than ${limits.maxScanned} members to examine; filter on groups.value alone and page by cursor`,
          );
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
    const matches = (record: ResourceRecord, derived?: ScimJson) =>
      predicate === undefined || predicate({ ...toScimResource(record, ctx.baseUrl), ...derived });
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
    const represented = async (records: ResourceRecord[]) =>
      (await representPage(records, query, ctx)).map((resource, index) => withResourceType(resource, records[index] as ResourceRecord));

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

  const groupMembersPage = async (
    groupId: string,
    count: number,
    startIndex: number,
    cursor: string | undefined,
    projection: Projection,
    ctx: RequestContext,
  ): Promise<ScimJson> => {
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
    const users = await store.getMany(
      'User',
      taken.filter((member) => member.type === 'User').map((member) => member.value),
    );
    const resources = await representPage(users, projection, ctx);
    return listResponse(resources, group.memberCount ?? 0, startIndex, next, cursor !== undefined);
  };

  return { list, search };
};
