import { UniquenessConflict, VersionConflict, ResourceNotFound } from '../../shared/directory/directory.errors.ts';
import type {
  DirectoryStore,
  Member,
  MembershipChange,
  Page,
  RecordIndexes,
  ResourceRecord,
  ResourceType,
  UniqueKey,
} from '../../shared/directory/directory.ports.ts';

/**
 * The directory port in memory, for measuring the handler's own CPU time with the store
 * taken out (and for unit tests of the directory's use cases). Same contract as the DynamoDB
 * store, except that it is not safe under concurrent writers and pages by offset.
 */
export class InMemoryDirectoryStore implements DirectoryStore {
  private readonly records = new Map<string, ResourceRecord>();
  private readonly uniques = new Map<string, string>();
  private readonly emails = new Map<string, Set<string>>();
  private readonly externalIds = new Map<string, Set<string>>();
  private readonly memberships = new Map<string, Map<string, Member>>();

  private key = (type: ResourceType, id: string) => `${type}#${id}`;
  private uniqueKey = (type: ResourceType, key: UniqueKey) => `${type}#${key.attribute}#${key.value}`;

  async get(type: ResourceType, id: string) {
    const record = this.records.get(this.key(type, id));
    return record ? structuredClone(record) : undefined;
  }
  async getMany(type: ResourceType, ids: string[]) {
    return ids.flatMap((id) => this.records.get(this.key(type, id)) ?? []).map((r) => structuredClone(r));
  }
  async create(record: ResourceRecord, indexes: RecordIndexes) {
    for (const key of indexes.uniques) {
      const owner = this.uniques.get(this.uniqueKey(record.resourceType, key));
      if (owner && owner !== record.id) throw new UniquenessConflict(record.resourceType, key);
    }
    for (const key of indexes.uniques) this.uniques.set(this.uniqueKey(record.resourceType, key), record.id);
    for (const email of indexes.emails) this.emails.set(email, new Set([...(this.emails.get(email) ?? []), record.id]));
    this.indexExternalId(record, indexes.externalId);
    this.records.set(this.key(record.resourceType, record.id), structuredClone(record));
  }
  private externalIdKey = (type: ResourceType, externalId: string) => `${type}#${externalId}`;
  private indexExternalId(record: ResourceRecord, externalId: string | undefined) {
    if (externalId === undefined) return;
    const key = this.externalIdKey(record.resourceType, externalId);
    this.externalIds.set(key, new Set([...(this.externalIds.get(key) ?? []), record.id]));
  }
  private unindexExternalId(record: ResourceRecord, externalId: string | undefined) {
    if (externalId !== undefined) this.externalIds.get(this.externalIdKey(record.resourceType, externalId))?.delete(record.id);
  }
  async replace(record: ResourceRecord, expectedVersion: number, before: RecordIndexes, after: RecordIndexes) {
    const current = this.records.get(this.key(record.resourceType, record.id));
    if (!current || current.version !== expectedVersion) throw new VersionConflict(record.resourceType, record.id);
    for (const key of after.uniques) {
      const owner = this.uniques.get(this.uniqueKey(record.resourceType, key));
      if (owner && owner !== record.id) throw new UniquenessConflict(record.resourceType, key);
    }
    for (const key of before.uniques) this.uniques.delete(this.uniqueKey(record.resourceType, key));
    for (const key of after.uniques) this.uniques.set(this.uniqueKey(record.resourceType, key), record.id);
    for (const email of before.emails) this.emails.get(email)?.delete(record.id);
    for (const email of after.emails) this.emails.set(email, new Set([...(this.emails.get(email) ?? []), record.id]));
    this.unindexExternalId(record, before.externalId);
    this.indexExternalId(record, after.externalId);
    this.records.set(this.key(record.resourceType, record.id), structuredClone(record));
  }
  async delete(record: ResourceRecord, indexes: RecordIndexes) {
    const current = this.records.get(this.key(record.resourceType, record.id));
    if (!current) throw new ResourceNotFound(record.resourceType, record.id);
    // As the DynamoDB store does: only the version that was read is deleted.
    if (current.version !== record.version) throw new VersionConflict(record.resourceType, record.id);
    this.records.delete(this.key(record.resourceType, record.id));
    for (const key of indexes.uniques) this.uniques.delete(this.uniqueKey(record.resourceType, key));
    for (const email of indexes.emails) this.emails.get(email)?.delete(record.id);
    this.unindexExternalId(record, indexes.externalId);
    // As the DynamoDB store does: the memberships it is part of go, and a group's own members.
    for (const groupId of await this.groupIdsOf(record.id)) {
      await this.changeMembers(groupId, { add: [], remove: [record.id] }, { lastModified: new Date().toISOString() });
    }
    if (record.resourceType === 'Group') this.memberships.delete(record.id);
  }
  async completeCreate(type: ResourceType, id: string) {
    const record = this.records.get(this.key(type, id));
    if (record) delete record.pendingMembers;
  }
  async findIdByUnique(type: ResourceType, key: UniqueKey) {
    return this.uniques.get(this.uniqueKey(type, key));
  }
  async findIdsByUnique(type: ResourceType, attribute: UniqueKey['attribute'], values: string[]) {
    const found = new Map<string, string>();
    for (const value of values) {
      const id = this.uniques.get(this.uniqueKey(type, { attribute, value }));
      if (id !== undefined) found.set(value, id);
    }
    return found;
  }
  async findUserIdsByEmail(email: string) {
    return [...(this.emails.get(email) ?? [])];
  }
  async findIdsByExternalId(type: ResourceType, externalId: string) {
    return [...(this.externalIds.get(this.externalIdKey(type, externalId)) ?? [])];
  }
  async list(type: ResourceType, options: { limit: number; cursor?: string }): Promise<Page<ResourceRecord>> {
    const all = [...this.records.values()].filter((r) => r.resourceType === type);
    const start = Number(options.cursor ?? 0);
    const items = all.slice(start, start + options.limit);
    return { items, next: start + options.limit < all.length ? String(start + options.limit) : undefined };
  }
  async count(type: ResourceType) {
    return [...this.records.values()].filter((r) => r.resourceType === type).length;
  }
  async members(groupId: string, options: { limit: number; cursor?: string; type?: ResourceType }): Promise<Page<Member>> {
    const all = [...(this.memberships.get(groupId)?.values() ?? [])].filter((member) => !options.type || member.type === options.type);
    const start = Number(options.cursor ?? 0);
    return { items: all.slice(start, start + options.limit), next: start + options.limit < all.length ? String(start + options.limit) : undefined };
  }
  async membersAmong(groupId: string, memberIds: string[]) {
    const members = this.memberships.get(groupId);
    return new Set(memberIds.filter((id) => members?.has(id)));
  }
  async groupIdsOf(memberId: string) {
    return [...this.memberships.entries()].filter(([, members]) => members.has(memberId)).map(([id]) => id);
  }
  async changeMembers(groupId: string, change: MembershipChange, options: { expectedVersion?: number; lastModified: string }) {
    const group = this.records.get(this.key('Group', groupId));
    if (!group) throw new ResourceNotFound('Group', groupId);
    if (options.expectedVersion !== undefined && group.version !== options.expectedVersion) throw new VersionConflict('Group', groupId);
    const members = this.memberships.get(groupId) ?? new Map<string, Member>();
    const added = change.add.filter((member) => !members.has(member.value));
    const removed = change.remove.filter((id) => members.has(id) && !change.add.some((member) => member.value === id));
    // Like the DynamoDB store: a change that adds and removes nothing leaves the version alone.
    if (added.length === 0 && removed.length === 0) return structuredClone(group);
    for (const member of added) members.set(member.value, member);
    for (const id of removed) members.delete(id);
    this.memberships.set(groupId, members);
    group.version++;
    group.memberCount = members.size;
    group.lastModified = options.lastModified;
    return structuredClone(group);
  }
}
