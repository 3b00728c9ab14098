import type { DirectoryStore } from '../directory/directory.ports.ts';
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
