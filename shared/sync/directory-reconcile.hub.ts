import type { DirectoryStore, ResourceRecord } from '../directory/directory.ports.ts';
import type { HubGroupView } from './inbound-groups.ts';
import type { ReconcileHub } from './reconcile-run.ports.ts';
import type { HubUserView, MatchQuery } from './reconcile-situations.ts';

/** Members read per query while a run compares one group. */
const MEMBERS_PAGE = 1000;

const toUser = (record: ResourceRecord) => ({ id: record.id, ...record.data });

const groupView = (record: ResourceRecord): HubGroupView => ({
  id: record.id,
  displayName: String(record.data.displayName ?? ''),
  ...(typeof record.data.externalId === 'string' ? { externalId: record.data.externalId } : {}),
});

/**
 * The hub as a reconciliation run reads it, from the directory store: users page by page in
 * creation order, and matching lookups through the indexes the hub keeps (userName, id,
 * externalId, email): never a scan. A matching attribute mapped from anything else finds no
 * candidate, so its account stays an orphan rather than being guessed at.
 */
export const reconcileHubOf = (store: DirectoryStore): ReconcileHub => {
  const view = async (record: ResourceRecord, withGroups: boolean): Promise<HubUserView> => ({
    user: toUser(record),
    groupIds: withGroups ? await store.groupIdsOf(record.id) : [],
  });
  return {
    listUsers: async ({ limit, cursor, withGroups }) => {
      const page = await store.list('User', { limit, ...(cursor ? { cursor } : {}) });
      const items = await Promise.all(page.items.map(async (record) => ({ id: record.id, ...(await view(record, withGroups)) })));
      return { items, ...(page.next ? { next: page.next } : {}) };
    },
    usersByIds: async (ids, withGroups) => {
      const records = ids.length > 0 ? await store.getMany('User', ids) : [];
      return new Map(await Promise.all(records.map(async (record) => [record.id, await view(record, withGroups)] as const)));
    },
    findUserIds: async (query: MatchQuery) => {
      const attribute = query.hubAttribute.toLowerCase();
      if (attribute === 'username') {
        // The uniqueness key: userName in NFC, lowercased (it is case-insensitive).
        const id = await store.findIdByUnique('User', { attribute: 'userName', value: query.value.normalize('NFC').toLowerCase() });
        return id ? [id] : [];
      }
      if (attribute === 'id') return (await store.get('User', query.value)) ? [query.value] : [];
      if (attribute === 'externalid') return store.findIdsByExternalId('User', query.value);
      if (attribute.startsWith('emails')) return store.findUserIdsByEmail(query.value.toLowerCase());
      return [];
    },
    listGroups: async ({ limit, cursor }) => {
      const page = await store.list('Group', { limit, ...(cursor ? { cursor } : {}) });
      const items = page.items.map((record) => ({ id: record.id, displayName: String(record.data.displayName ?? '') }));
      return { items, ...(page.next ? { next: page.next } : {}) };
    },
    groupsByIds: async (ids) => {
      const records = ids.length > 0 ? await store.getMany('Group', ids) : [];
      return new Map(records.map((record) => [record.id, groupView(record)]));
    },
    findGroupByName: async (displayName) => {
      const id = await store.findIdByUnique('Group', { attribute: 'displayName', value: displayName.normalize('NFC').toLowerCase() });
      const record = id === undefined ? undefined : await store.get('Group', id);
      return record ? groupView(record) : undefined;
    },
    groupMemberIds: async (groupId) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.members(groupId, { limit: MEMBERS_PAGE, type: 'User', ...(cursor ? { cursor } : {}) });
        ids.push(...page.items.map((member) => member.value));
        cursor = page.next;
      } while (cursor);
      return ids;
    },
  };
};
