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
  groupIdsOf: (userId) => store.groupIdsOf(userId),
  membersAmong: (groupId, memberIds) => store.membersAmong(groupId, memberIds),
});
