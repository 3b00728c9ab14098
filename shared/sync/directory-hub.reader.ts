import type { DirectoryStore, ResourceType, UniqueKey } from '../directory/directory.ports.ts';
import type { HubLookup } from './on-demand.service.ts';
import type { HubReader } from './sync.ports.ts';

/** The sync engine's view of the hub, read from the directory store (never through the SCIM API). */
export const hubReaderOf = (store: DirectoryStore): HubReader => ({
  getUser: async (id) => {
    const record = await store.get('User', id);
    return record ? { id: record.id, ...record.data } : undefined;
  },
  getGroup: async (id) => {
    const record = await store.get('Group', id);
    return record ? { id: record.id, ...record.data } : undefined;
  },
  // A deleted group's memberships are removed after it, in the background: only groups that
  // still exist count (a user is never in scope by a group that is gone).
  groupIdsOf: async (userId) => {
    const ids = await store.groupIdsOf(userId);
    return ids.length === 0 ? ids : (await store.getMany('Group', ids)).map((group) => group.id);
  },
  membersAmong: (groupId, memberIds) => store.membersAmong(groupId, memberIds),
});

/** Finds users and groups by the names operators know, through the directory's indexes (no scan). */
export const hubLookupOf = (store: DirectoryStore): HubLookup => {
  const unique = async (type: ResourceType, attribute: UniqueKey['attribute'], ref: string) =>
    store.findIdByUnique(type, { attribute, value: ref.normalize('NFC').toLowerCase() });
  const found = async (type: ResourceType, ids: Array<string | undefined>) => {
    const distinct = [...new Set(ids.filter((id): id is string => id !== undefined))];
    return distinct.length ? store.getMany(type, distinct) : [];
  };
  return {
    findUsers: async (ref) => {
      // An id or a userName names one user; externalId is the IdP's and may name several.
      const byId = await store.get('User', ref);
      const one = byId?.id ?? (await unique('User', 'userName', ref));
      const records = await found('User', one ? [one] : await store.findIdsByExternalId('User', ref));
      return records.map((r) => ({ id: r.id, ...(typeof r.data.userName === 'string' ? { userName: r.data.userName } : {}) }));
    },
    findGroups: async (ref) => {
      const byId = await store.get('Group', ref);
      const records = await found('Group', [byId?.id ?? (await unique('Group', 'displayName', ref))]);
      return records.map((r) => ({ id: r.id, ...(typeof r.data.displayName === 'string' ? { displayName: r.data.displayName } : {}) }));
    },
  };
};
