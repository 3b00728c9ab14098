import { ConnectorError } from '../../shared/connectors/connector.errors.ts';
import type {
  AttributeChange,
  Connector,
  ConnectorOperation,
  MembershipDelta,
  Page,
  PageRequest,
  TargetAccount,
  TargetAttributes,
  TargetGroup,
} from '../../shared/connectors/connector.port.ts';
import { type ConnectorConfig, ConnectorConfigSchema } from '../../shared/connectors/connectors.schema.ts';
import { type BreakerState, initialBreaker } from '../../shared/connectors/resilience/circuit-breaker.ts';
import type { ChangeMessage } from '../../shared/sync/change-message.ts';
import type { AccessGrant, GrantStore } from '../../shared/sync/grant.ports.ts';
import type { BreakerPort, QueuePort, ReceivedChange } from '../../shared/sync/change-worker.ts';
import {
  type AuditEntry,
  type AuditLog,
  type HubReader,
  type Link,
  LinkCollisionError,
  LinkConflictError,
  type LinkKind,
  type LinkStore,
  linkRef,
  OWNED_LINK_KINDS,
} from '../../shared/sync/sync.ports.ts';

/**
 * In-memory ports of the sync engine, for unit tests: they keep the same rules as the real
 * adapters (the link store refuses a target id linked to another hub id, as its DynamoDB
 * transaction does), so a test meets the same collisions as production.
 */

type Json = Record<string, unknown>;

/** The hub's directory: users, groups and memberships, edited by the test. */
export class InMemoryHub implements HubReader {
  readonly users = new Map<string, Json>();
  readonly groups = new Map<string, Json>();
  /** group id -> member ids */
  readonly members = new Map<string, Set<string>>();

  user(id: string, data: Json = {}): Json {
    const user = { id, userName: id, active: true, ...data };
    this.users.set(id, user);
    return user;
  }

  group(id: string, displayName: string, memberIds: string[] = []): Json {
    const group = { id, displayName };
    this.groups.set(id, group);
    this.members.set(id, new Set(memberIds));
    return group;
  }

  join(groupId: string, userId: string): void {
    this.members.set(groupId, new Set([...(this.members.get(groupId) ?? []), userId]));
  }

  leave(groupId: string, userId: string): void {
    this.members.get(groupId)?.delete(userId);
  }

  async getUser(id: string) {
    return this.users.get(id);
  }

  async getGroup(id: string) {
    return this.groups.get(id);
  }

  async groupIdsOf(userId: string) {
    return [...this.members].filter(([, members]) => members.has(userId)).map(([groupId]) => groupId);
  }

  async membersAmong(groupId: string, memberIds: string[]) {
    const members = this.members.get(groupId) ?? new Set<string>();
    return new Set(memberIds.filter((id) => members.has(id)));
  }
}

/** Links with their reverse index, refusing a target id owned by another hub id. */
export class InMemoryLinkStore implements LinkStore {
  readonly links = new Map<string, Link>();
  readonly owners = new Map<string, string>();
  /** Single-link reads and batched reads made, so tests can assert what a sync costs. */
  reads = 0;
  batchReads = 0;

  private key = (connectorId: string, kind: LinkKind, id: string) => `${connectorId}#${kind}#${id}`;

  async get(connectorId: string, kind: LinkKind, hubId: string) {
    this.reads += 1;
    return this.links.get(this.key(connectorId, kind, hubId));
  }

  async getMany(connectorId: string, refs: Array<{ kind: LinkKind; hubId: string }>) {
    this.batchReads += 1;
    const found = refs.flatMap((ref) => {
      const link = this.links.get(this.key(connectorId, ref.kind, ref.hubId));
      return link ? [[linkRef(ref.kind, ref.hubId), structuredClone(link)] as const] : [];
    });
    return new Map(found);
  }

  async ownerOf(connectorId: string, kind: LinkKind, targetId: string) {
    return OWNED_LINK_KINDS.has(kind) ? this.owners.get(this.key(connectorId, kind, targetId)) : undefined;
  }

  /** The same optimistic check as the store: the version read, or (new) none or the same target. */
  private check(link: Link, deleting = false) {
    const stored = this.links.get(this.key(link.connectorId, link.kind, link.hubId));
    const fresh =
      link.version === undefined ? deleting || !stored || stored.targetId === link.targetId : (stored?.version ?? 0) === link.version && stored !== undefined;
    if (!fresh) throw new LinkConflictError(link);
    return stored;
  }

  async put(link: Link, replaces?: Link) {
    const stored = this.check(link);
    if (OWNED_LINK_KINDS.has(link.kind)) {
      const owner = this.owners.get(this.key(link.connectorId, link.kind, link.targetId));
      if (owner !== undefined && owner !== link.hubId) throw new LinkCollisionError(link, owner);
      if (replaces && replaces.targetId !== link.targetId) this.owners.delete(this.key(replaces.connectorId, replaces.kind, replaces.targetId));
      this.owners.set(this.key(link.connectorId, link.kind, link.targetId), link.hubId);
    }
    this.links.set(this.key(link.connectorId, link.kind, link.hubId), { ...structuredClone(link), version: (stored?.version ?? 0) + 1 });
  }

  async delete(link: Link) {
    this.check(link, true);
    this.links.delete(this.key(link.connectorId, link.kind, link.hubId));
    const reverse = this.key(link.connectorId, link.kind, link.targetId);
    if (OWNED_LINK_KINDS.has(link.kind) && this.owners.get(reverse) === link.hubId) this.owners.delete(reverse);
  }
}

export class InMemoryAudit implements AuditLog {
  readonly entries: AuditEntry[] = [];

  async record(entry: AuditEntry) {
    this.entries.push(structuredClone(entry));
  }

  /** The entries of one resource, or of one action. */
  of(filter: { resourceId?: string; action?: string }) {
    return this.entries.filter(
      (e) => (filter.resourceId === undefined || e.resourceId === filter.resourceId) && (filter.action === undefined || e.action === filter.action),
    );
  }
}

/**
 * A target app in memory: accounts by id, groups with members, every call logged. A test can
 * make the next calls of an operation fail (`failNext`) or fail always (`failAlways`).
 */
export class FakeTarget implements Connector {
  readonly id: string;
  readonly accounts = new Map<string, TargetAttributes>();
  readonly groups = new Map<string, { displayName: string; externalId?: string; members: Set<string> }>();
  readonly calls: Array<{ operation: ConnectorOperation; args: unknown[] }> = [];
  private readonly failures: Array<{ operation: ConnectorOperation; error: ConnectorError; times: number }> = [];
  private nextId = 1;

  constructor(
    id = 'target',
    /** The attribute that names an account (`userName` for SCIM, `username` for Cognito). */
    private readonly nameAttribute = 'userName',
  ) {
    this.id = id;
  }

  failNext(operation: ConnectorOperation, error: ConnectorError, times = 1): this {
    this.failures.push({ operation, error, times });
    return this;
  }

  failAlways(operation: ConnectorOperation, error: ConnectorError): this {
    return this.failNext(operation, error, Number.POSITIVE_INFINITY);
  }

  /** Calls that change the target (not lookups). */
  writes(): Array<{ operation: ConnectorOperation; args: unknown[] }> {
    return this.calls.filter((c) => !['findUser', 'getUser', 'findGroup', 'listUsers', 'listGroups', 'listGroupMembers', 'probe'].includes(c.operation));
  }

  account(attributes: TargetAttributes): string {
    const id = `t-${this.nextId++}`;
    this.accounts.set(id, { active: true, ...attributes });
    return id;
  }

  private enter(operation: ConnectorOperation, args: unknown[]) {
    this.calls.push({ operation, args: structuredClone(args) });
    const failure = this.failures.find((f) => f.operation === operation && f.times > 0);
    if (failure) {
      failure.times--;
      throw failure.error;
    }
  }

  async findUser(attribute: string, value: string): Promise<TargetAccount | undefined> {
    this.enter('findUser', [attribute, value]);
    const found = [...this.accounts].find(([, a]) => a[attribute] === value);
    return found ? { id: found[0], attributes: structuredClone(found[1]) } : undefined;
  }

  async getUser(targetId: string): Promise<TargetAccount | undefined> {
    this.enter('getUser', [targetId]);
    const account = this.accounts.get(targetId);
    return account ? { id: targetId, attributes: structuredClone(account) } : undefined;
  }

  async createUser(attributes: TargetAttributes): Promise<TargetAccount> {
    this.enter('createUser', [attributes]);
    const name = attributes[this.nameAttribute];
    if ([...this.accounts.values()].some((a) => a[this.nameAttribute] === name))
      throw new ConnectorError('conflict', `${String(name)} exists`, { status: 409 });
    const id = this.account(attributes);
    return { id, attributes: structuredClone(this.accounts.get(id) as TargetAttributes) };
  }

  async updateUser(targetId: string, change: AttributeChange): Promise<void> {
    this.enter('updateUser', [targetId, change]);
    const account = this.accounts.get(targetId);
    if (!account) throw new ConnectorError('notFound', `${targetId} not found`, { status: 404 });
    Object.assign(account, change.set);
    for (const key of change.unset) delete account[key];
  }

  async disableUser(targetId: string): Promise<void> {
    this.enter('disableUser', [targetId]);
    const account = this.accounts.get(targetId);
    if (!account) throw new ConnectorError('notFound', `${targetId} not found`, { status: 404 });
    account.active = false;
  }

  async deleteUser(targetId: string): Promise<void> {
    this.enter('deleteUser', [targetId]);
    this.accounts.delete(targetId);
    for (const group of this.groups.values()) group.members.delete(targetId);
  }

  async findGroup(by: { id: string } | { displayName: string }): Promise<TargetGroup | undefined> {
    this.enter('findGroup', [by]);
    const found = 'id' in by ? ([by.id, this.groups.get(by.id)] as const) : [...this.groups].find(([, g]) => g.displayName === by.displayName);
    const [id, group] = found ?? [];
    return id && group ? { id, displayName: group.displayName, ...(group.externalId ? { externalId: group.externalId } : {}) } : undefined;
  }

  /** A group that exists on the target before the hub meets it. */
  group(displayName: string, externalId?: string): string {
    const id = `tg-${this.nextId++}`;
    this.groups.set(id, { displayName, ...(externalId ? { externalId } : {}), members: new Set() });
    return id;
  }

  async createGroup(displayName: string, externalId: string): Promise<TargetGroup> {
    this.enter('createGroup', [displayName, externalId]);
    if ([...this.groups.values()].some((g) => g.displayName === displayName))
      throw new ConnectorError('conflict', `group ${displayName} exists`, { status: 409 });
    const id = this.group(displayName, externalId);
    return { id, displayName, externalId };
  }

  async renameGroup(targetId: string, displayName: string, externalId: string): Promise<TargetGroup> {
    this.enter('renameGroup', [targetId, displayName, externalId]);
    const group = this.groups.get(targetId);
    if (!group) throw new ConnectorError('notFound', `group ${targetId} not found`, { status: 404 });
    group.displayName = displayName;
    return { id: targetId, displayName, externalId };
  }

  async deleteGroup(targetId: string): Promise<void> {
    this.enter('deleteGroup', [targetId]);
    this.groups.delete(targetId);
  }

  async changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void> {
    this.enter('changeGroupMembers', [targetGroupId, delta]);
    const group = this.groups.get(targetGroupId);
    if (!group) throw new ConnectorError('notFound', `group ${targetGroupId} not found`, { status: 404 });
    for (const id of delta.add) {
      if (!this.accounts.has(id)) throw new ConnectorError('notFound', `${id} not found`, { status: 404 });
      group.members.add(id);
    }
    for (const id of delta.remove) group.members.delete(id);
  }

  async listUsers(request: PageRequest): Promise<Page<TargetAccount>> {
    this.enter('listUsers', [request]);
    return pageOf(
      [...this.accounts].map(([id, attributes]) => ({ id, attributes: structuredClone(attributes) })),
      request,
    );
  }

  async listGroups(request: PageRequest): Promise<Page<TargetGroup>> {
    this.enter('listGroups', [request]);
    const groups = [...this.groups].map(([id, g]) => ({ id, displayName: g.displayName, ...(g.externalId ? { externalId: g.externalId } : {}) }));
    return pageOf(groups, request);
  }

  async listGroupMembers(targetGroupId: string, request: PageRequest): Promise<Page<string>> {
    this.enter('listGroupMembers', [targetGroupId, request]);
    const group = this.groups.get(targetGroupId);
    if (!group) throw new ConnectorError('notFound', `group ${targetGroupId} not found`, { status: 404 });
    return pageOf([...group.members], request);
  }

  async probe(): Promise<void> {
    this.enter('probe', []);
  }
}

/** One page of a list by offset, the cursor being the next offset. */
const pageOf = <T>(all: T[], request: PageRequest): Page<T> => {
  const start = Number(request.cursor ?? 0);
  const end = start + request.pageSize;
  return { items: all.slice(start, end), ...(end < all.length ? { next: String(end) } : {}) };
};

/** The breaker table item, with the same compare-and-set rule as the DynamoDB store. */
export class InMemoryBreakers implements BreakerPort {
  state: BreakerState = initialBreaker();
  reads = 0;

  async get() {
    this.reads += 1;
    return structuredClone(this.state);
  }

  async compareAndSet(_connectorId: string, expectedRevision: number, next: BreakerState) {
    if (this.state.revision !== expectedRevision) return false;
    this.state = structuredClone(next);
    return true;
  }
}

/**
 * A FIFO lane in memory: `receive` hands out what is visible (receive counts go up), the
 * worker's waits and re-enqueues act on it, `settle` applies a partial batch response as the
 * event source mapping does (successes deleted, failures back after their visibility).
 */
export class FakeLane implements QueuePort {
  private seq = 0;
  messages: Array<{ messageId: string; message: ChangeMessage; receiveCount: number; visibleAt: number }> = [];
  readonly deadLetters: Array<{ message: ChangeMessage; reason: string }> = [];
  readonly delays: Array<{ ids: string[]; ms: number }> = [];
  readonly requeues: ChangeMessage[] = [];

  constructor(private readonly now: () => number) {}

  send(message: ChangeMessage): void {
    this.messages.push({ messageId: `m-${++this.seq}`, message: structuredClone(message), receiveCount: 0, visibleAt: 0 });
  }

  receive(): ReceivedChange[] {
    const visible = this.messages.filter((m) => m.visibleAt <= this.now());
    for (const m of visible) {
      m.receiveCount++;
      m.visibleAt = this.now() + 60_000;
    }
    return visible.map((m) => ({ messageId: m.messageId, receiveCount: m.receiveCount, message: structuredClone(m.message), body: JSON.stringify(m.message) }));
  }

  /** The event source mapping: everything received and not reported failed is deleted. */
  settle(received: ReceivedChange[], failed: string[]): void {
    const done = new Set(received.map((r) => r.messageId).filter((id) => !failed.includes(id)));
    this.messages = this.messages.filter((m) => !done.has(m.messageId));
  }

  async delay(ids: string[], ms: number) {
    this.delays.push({ ids, ms });
    for (const m of this.messages) if (ids.includes(m.messageId)) m.visibleAt = this.now() + ms;
  }

  async requeue(_change: ReceivedChange, message: ChangeMessage) {
    this.requeues.push(structuredClone(message));
    this.send(message);
  }

  async deadLetter(change: ReceivedChange, reason: string) {
    this.deadLetters.push({ message: change.message, reason });
  }
}

/** A connector document entry, with the schema's defaults filled in. */
export const connectorConfig = (overrides: Json = {}): ConnectorConfig =>
  ConnectorConfigSchema.parse({ id: 'app', type: 'scim', baseUrl: 'https://app.example.com/scim/v2', bearerToken: 'token', ...overrides });

/** The parts of a sync test: a hub, its links and audit, one target, and a fixed clock. */
export const syncFixture = () => {
  let time = Date.parse('2026-03-01T00:00:00.000Z');
  return {
    hub: new InMemoryHub(),
    links: new InMemoryLinkStore(),
    audit: new InMemoryAudit(),
    clock: () => new Date(time),
    advance: (ms: number) => {
      time += ms;
    },
    now: () => time,
  };
};

/** Temporary access grants in memory, with the expiry rules of the DynamoDB store. */
export class InMemoryGrantStore implements GrantStore {
  readonly grants = new Map<string, AccessGrant>();
  private key = (connectorId: string, userId: string) => `${connectorId}#${userId}`;

  async get(connectorId: string, userId: string) {
    return this.grants.get(this.key(connectorId, userId));
  }

  async put(grant: AccessGrant) {
    this.grants.set(this.key(grant.connectorId, grant.userId), { ...grant });
  }

  async delete(connectorId: string, userId: string) {
    this.grants.delete(this.key(connectorId, userId));
  }

  async list(connectorId?: string) {
    return [...this.grants.values()]
      .filter((g) => connectorId === undefined || g.connectorId === connectorId)
      .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  }

  async expiredAt(now: Date, limit: number) {
    return (await this.list()).filter((g) => Date.parse(g.expiresAt) <= now.getTime()).slice(0, limit);
  }

  async deleteIfUnchanged(grant: AccessGrant) {
    const stored = await this.get(grant.connectorId, grant.userId);
    if (stored?.expiresAt !== grant.expiresAt) return false;
    await this.delete(grant.connectorId, grant.userId);
    return true;
  }
}
