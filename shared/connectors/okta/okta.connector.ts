import { ConnectorError } from '../connector.errors.ts';
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
} from '../connector.port.ts';
import { secretSourceOf } from '../connectors.source.ts';
import { apiTokenCredentials, type OktaCredentials, serviceAppCredentials } from './okta-credentials.ts';
import { OktaHttp } from './okta-http.ts';
import { OktaRateGovernor } from './okta-rate-governor.ts';
import type { OktaConnectorConfig } from './okta.schema.ts';

type Json = Record<string, unknown>;

/** The attribute-map key of the enabled state; every other key is a profile property (`login`, `email`, custom ones). */
export const OKTA_ACTIVE = 'active';

/** Okta's default page size for users, and the largest it serves. */
const USERS_PAGE_MAX = 200;
/** Okta recommends pages of at most 200 groups or group members. */
const GROUPS_PAGE_MAX = 200;

/** `filter` on `lastUpdated` returns every user, DEPROVISIONED ones included (a bare list omits them), from the primary store. */
const EVERY_USER_FILTER = 'lastUpdated gt "1970-01-01T00:00:00.000Z"';

/**
 * Okta's published per-minute limits (Enterprise column of the management rate limits page),
 * per second: 600/min on each family. The governor follows the org's own counters on top of
 * these, which also cover other tiers and the families several operations share.
 */
const OKTA_RATE_LIMITS: Partial<Record<ConnectorOperation, number>> = {
  findUser: 10,
  getUser: 10,
  createUser: 10,
  updateUser: 10,
  disableUser: 10,
  deleteUser: 10,
  findGroup: 10,
  createGroup: 10,
  renameGroup: 10,
  deleteGroup: 10,
  changeGroupMembers: 10,
  listUsers: 10,
  listGroups: 10,
  listGroupMembers: 10,
  probe: 10,
};

/** The group description of a group the hub made: it names the hub group, so the hub knows its own groups. */
const groupDescription = (hubGroupId: string) => `Provisioned by the SCIM hub from hub group ${hubGroupId}`;
const HUB_GROUP_OF_DESCRIPTION = /^Provisioned by the SCIM hub from hub group (\S+)$/;

/** A string literal of Okta's filter and search expressions. */
const literal = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Statuses in which an account cannot sign in because the hub (or an admin) turned it off. */
const DISABLED_STATUSES = new Set(['DEPROVISIONED', 'SUSPENDED']);

export type OktaConnectorSettings = Pick<OktaConnectorConfig, 'id' | 'activate' | 'sendActivationEmail' | 'disableAs'>;

/**
 * Okta's Management API as a target (users, their lifecycle, OKTA_GROUP groups and their
 * members), over fetch: the official SDK adds about a megabyte and its own retry and rate-limit
 * handling to the worker's bundle, where these few endpoints need neither.
 *
 * Accounts cross the port as their flat profile (`login`, `email`, `firstName`, custom
 * properties) plus `active`. The enabled state follows Okta's state machine: disable
 * deactivates (or suspends, with `disableAs: suspend`), enable activates or unsuspends as the
 * user's status allows, and delete deactivates first, as Okta requires.
 */
export class OktaConnector implements Connector {
  readonly id: string;
  readonly defaultRateLimits = OKTA_RATE_LIMITS;
  /** Group types never change: one read per group per container. */
  private readonly groupTypes = new Map<string, string>();

  constructor(
    private readonly settings: OktaConnectorSettings,
    private readonly http: OktaHttp,
  ) {
    this.id = settings.id;
  }

  /** The rate governor, whose counters say how often it held requests back. */
  get governor(): OktaRateGovernor {
    return this.http.governor;
  }

  async probe(): Promise<void> {
    await this.http.send({ method: 'GET', path: '/api/v1/users?limit=1' });
  }

  /**
   * `id` and `login` read the user (`GET /api/v1/users/{idOrLogin}`): Okta's `search` reads an
   * eventually consistent store, and its own description says to look up by id for current
   * data, so the match on login sees a user created a moment before. Any other attribute is a
   * profile property found with `search` (which includes DEPROVISIONED users).
   */
  async findUser(attribute: string, value: string): Promise<TargetAccount | undefined> {
    if (attribute === 'id') return this.readUser(value);
    if (attribute === 'login') {
      // The path also takes a login's short name: only the exact login (any case) is a match.
      const account = await this.readUser(value);
      return account && String(account.attributes.login).toLowerCase() === value.toLowerCase() ? account : undefined;
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(attribute)) throw new ConnectorError('permanent', `${this.id}: "${attribute}" is not an Okta profile property`);
    const search = `profile.${attribute} eq ${literal(value)}`;
    const { body } = await this.http.send({ method: 'GET', path: `/api/v1/users?search=${encodeURIComponent(search)}&limit=2` });
    const user = (body as Json[] | undefined)?.[0];
    return user ? this.toAccount(user) : undefined;
  }

  /** `GET /api/v1/users/{id}`, Okta's strongly consistent read. */
  getUser(targetId: string): Promise<TargetAccount | undefined> {
    return this.readUser(targetId);
  }

  async listUsers(request: PageRequest): Promise<Page<TargetAccount>> {
    const limit = Math.max(1, Math.min(request.pageSize, USERS_PAGE_MAX));
    const path = request.cursor ? this.http.pathOfLink(request.cursor) : `/api/v1/users?filter=${encodeURIComponent(EVERY_USER_FILTER)}&limit=${limit}`;
    const { body, next } = await this.http.send({ method: 'GET', path });
    return { items: ((body as Json[] | undefined) ?? []).map((user) => this.toAccount(user)), ...(next ? { next } : {}) };
  }

  /**
   * POST /api/v1/users with the mapped profile. Activation without Okta's email is a second
   * call (`activate?sendEmail=false`) on the staged user; with the email, Okta activates on
   * create. A user mapped inactive, or every user when `activate` is off, stays STAGED.
   */
  async createUser(attributes: TargetAttributes): Promise<TargetAccount> {
    const { profile, active } = splitAttributes(attributes);
    const activate = this.settings.activate && active !== false;
    const activateOnCreate = activate && this.settings.sendActivationEmail;
    const { body } = await this.http.send({ method: 'POST', path: `/api/v1/users?activate=${activateOnCreate}`, body: { profile } });
    const user = body as Json;
    const id = String(user.id);
    if (activate && !activateOnCreate) await this.lifecycle(id, 'activate', 'sendEmail=false');
    // As `isEnabled` reads it: a user staged because the connector stages every new user counts as enabled.
    return { id, attributes: { ...profileOf(user), [OKTA_ACTIVE]: activate || !this.settings.activate } };
  }

  /**
   * A partial update (POST /api/v1/users/{id}) with only the changed profile properties; a
   * cleared property is sent as null. A change of `active` is a lifecycle call: enabling comes
   * before the profile update, disabling after it.
   */
  async updateUser(targetId: string, change: AttributeChange, _full: TargetAttributes): Promise<void> {
    const { profile, active } = splitAttributes(change.set);
    for (const name of change.unset) if (name !== OKTA_ACTIVE) profile[name] = null;
    if (active === true) await this.enable(targetId);
    if (Object.keys(profile).length > 0) await this.http.send({ method: 'POST', path: `/api/v1/users/${encodeURIComponent(targetId)}`, body: { profile } });
    if (active === false) await this.disable(targetId);
  }

  async disableUser(targetId: string, _full: TargetAttributes): Promise<void> {
    await this.disable(targetId);
  }

  /** Deactivate, then delete: Okta deletes only DEPROVISIONED users (a DELETE of any other deactivates it). */
  async deleteUser(targetId: string): Promise<void> {
    await ignoreNotFound(() => this.deactivate(targetId));
    await ignoreNotFound(() => this.http.send({ method: 'DELETE', path: `/api/v1/users/${encodeURIComponent(targetId)}?sendEmail=false` }));
  }

  async findGroup(by: { id: string } | { displayName: string }): Promise<TargetGroup | undefined> {
    if ('id' in by) {
      try {
        const { body } = await this.http.send({ method: 'GET', path: `/api/v1/groups/${encodeURIComponent(by.id)}` });
        return this.toGroup(body as Json);
      } catch (error) {
        if (error instanceof ConnectorError && error.kind === 'notFound') return undefined;
        throw error;
      }
    }
    const search = `profile.name eq ${literal(by.displayName)}`;
    const { body } = await this.http.send({ method: 'GET', path: `/api/v1/groups?search=${encodeURIComponent(search)}&limit=2` });
    const group = (body as Json[] | undefined)?.[0];
    return group ? this.toGroup(group) : undefined;
  }

  /** POST /api/v1/groups: an OKTA_GROUP whose description names the hub group. */
  async createGroup(displayName: string, externalId: string): Promise<TargetGroup> {
    const { body } = await this.http.send({
      method: 'POST',
      path: '/api/v1/groups',
      body: { profile: { name: displayName, description: groupDescription(externalId) } },
    });
    return this.toGroup(body as Json);
  }

  /** PUT /api/v1/groups/{id} replaces the profile: the group keeps its id and members. */
  async renameGroup(targetId: string, displayName: string, externalId: string): Promise<TargetGroup> {
    await this.requireOktaGroup(targetId, 'rename');
    const { body } = await this.http.send({
      method: 'PUT',
      path: `/api/v1/groups/${encodeURIComponent(targetId)}`,
      body: { profile: { name: displayName, description: groupDescription(externalId) } },
    });
    return this.toGroup(body as Json);
  }

  async deleteGroup(targetId: string): Promise<void> {
    try {
      await this.requireOktaGroup(targetId, 'delete');
    } catch (error) {
      if (error instanceof ConnectorError && error.kind === 'notFound') return;
      throw error;
    }
    await ignoreNotFound(() => this.http.send({ method: 'DELETE', path: `/api/v1/groups/${encodeURIComponent(targetId)}` }));
    this.groupTypes.delete(targetId);
  }

  /**
   * One PUT or DELETE per member (Okta has no batch membership call); the rate governor paces
   * them. A member already removed, or gone from Okta, counts as removed.
   */
  async changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void> {
    if (delta.add.length === 0 && delta.remove.length === 0) return;
    await this.requireOktaGroup(targetGroupId, 'change the members of');
    const path = (userId: string) => `/api/v1/groups/${encodeURIComponent(targetGroupId)}/users/${encodeURIComponent(userId)}`;
    for (const userId of delta.add) await this.http.send({ method: 'PUT', path: path(userId) });
    for (const userId of delta.remove) await ignoreNotFound(() => this.http.send({ method: 'DELETE', path: path(userId) }));
  }

  /** The OKTA_GROUP groups (APP_GROUP and BUILT_IN groups are not the hub's to manage). */
  async listGroups(request: PageRequest): Promise<Page<TargetGroup>> {
    const limit = Math.max(1, Math.min(request.pageSize, GROUPS_PAGE_MAX));
    const path = request.cursor ? this.http.pathOfLink(request.cursor) : `/api/v1/groups?filter=${encodeURIComponent('type eq "OKTA_GROUP"')}&limit=${limit}`;
    const { body, next } = await this.http.send({ method: 'GET', path });
    return { items: ((body as Json[] | undefined) ?? []).map((group) => this.toGroup(group)), ...(next ? { next } : {}) };
  }

  async listGroupMembers(targetGroupId: string, request: PageRequest): Promise<Page<string>> {
    const limit = Math.max(1, Math.min(request.pageSize, GROUPS_PAGE_MAX));
    const path = request.cursor ? this.http.pathOfLink(request.cursor) : `/api/v1/groups/${encodeURIComponent(targetGroupId)}/users?limit=${limit}`;
    const { body, next } = await this.http.send({ method: 'GET', path });
    return { items: ((body as Json[] | undefined) ?? []).map((user) => String(user.id)), ...(next ? { next } : {}) };
  }

  private async readUser(id: string): Promise<TargetAccount | undefined> {
    try {
      const { body } = await this.http.send({ method: 'GET', path: `/api/v1/users/${encodeURIComponent(id)}` });
      return this.toAccount(body as Json);
    } catch (error) {
      if (error instanceof ConnectorError && error.kind === 'notFound') return undefined;
      throw error;
    }
  }

  private lifecycle(id: string, operation: string, query = ''): Promise<unknown> {
    return this.http.send({ method: 'POST', path: `/api/v1/users/${encodeURIComponent(id)}/lifecycle/${operation}${query ? `?${query}` : ''}` });
  }

  /** Deactivation of a user who is DEPROVISIONED already is what we wanted. */
  private async deactivate(id: string): Promise<void> {
    try {
      await this.lifecycle(id, 'deactivate', 'sendEmail=false');
    } catch (error) {
      if (error instanceof ConnectorError && error.kind === 'permanent' && error.status === 403 && (await this.statusOf(id)) === 'DEPROVISIONED') return;
      throw error;
    }
  }

  private async disable(id: string): Promise<void> {
    if (this.settings.disableAs === 'deactivate') return this.deactivate(id);
    // Okta suspends only ACTIVE users; one that never finished activating is deactivated instead.
    const status = await this.statusOf(id);
    if (DISABLED_STATUSES.has(status)) return;
    if (status === 'ACTIVE') await this.lifecycle(id, 'suspend');
    else await this.deactivate(id);
  }

  /**
   * Whichever call the user's status allows: activate a STAGED or DEPROVISIONED user (without
   * Okta's email unless configured), unsuspend a SUSPENDED one, unlock a LOCKED_OUT one. ACTIVE,
   * PROVISIONED (activation pending), RECOVERY and PASSWORD_EXPIRED users can sign in or finish
   * doing so already: `reactivate` would only send them the activation email again.
   */
  private async enable(id: string): Promise<void> {
    const status = await this.statusOf(id);
    if (status === 'STAGED' || status === 'DEPROVISIONED') await this.lifecycle(id, 'activate', `sendEmail=${this.settings.sendActivationEmail}`);
    else if (status === 'SUSPENDED') await this.lifecycle(id, 'unsuspend');
    else if (status === 'LOCKED_OUT') await this.lifecycle(id, 'unlock');
  }

  private async statusOf(id: string): Promise<string> {
    const { body } = await this.http.send({ method: 'GET', path: `/api/v1/users/${encodeURIComponent(id)}` });
    return String((body as Json).status);
  }

  /** Only OKTA_GROUP groups can be changed; APP_GROUP groups belong to the app that imports them. */
  private async requireOktaGroup(groupId: string, what: string): Promise<void> {
    let type = this.groupTypes.get(groupId);
    if (!type) {
      const { body } = await this.http.send({ method: 'GET', path: `/api/v1/groups/${encodeURIComponent(groupId)}` });
      type = String((body as Json).type);
      this.groupTypes.set(groupId, type);
    }
    if (type !== 'OKTA_GROUP') {
      throw new ConnectorError(
        'permanent',
        `${this.id}: cannot ${what} Okta group ${groupId}: it is an ${type} group, which ${type === 'APP_GROUP' ? 'its app imports and manages' : 'Okta manages'}; map the hub group to an OKTA_GROUP group instead`,
      );
    }
  }

  private toAccount(user: Json): TargetAccount {
    return { id: String(user.id), attributes: { ...profileOf(user), [OKTA_ACTIVE]: this.isEnabled(user) } };
  }

  /** STAGED counts as enabled when the connector creates accounts staged on purpose (`activate: false`). */
  private isEnabled(user: Json): boolean {
    const status = String(user.status);
    if (DISABLED_STATUSES.has(status)) return false;
    if (status === 'STAGED') return !this.settings.activate || user.transitioningToStatus === 'ACTIVE';
    return true;
  }

  private toGroup(group: Json): TargetGroup {
    const profile = (group.profile as Json | undefined) ?? {};
    const id = String(group.id);
    if (typeof group.type === 'string') this.groupTypes.set(id, group.type);
    const hubGroupId = HUB_GROUP_OF_DESCRIPTION.exec(typeof profile.description === 'string' ? profile.description : '')?.[1];
    return { id, displayName: String(profile.name), ...(hubGroupId ? { externalId: hubGroupId } : {}) };
  }
}

const profileOf = (user: Json): TargetAttributes => {
  const profile = (user.profile as Json | undefined) ?? {};
  return Object.fromEntries(Object.entries(profile).filter(([, value]) => value !== null && value !== undefined));
};

const splitAttributes = (attributes: TargetAttributes): { profile: Json; active: boolean | undefined } => {
  const { [OKTA_ACTIVE]: active, ...profile } = attributes;
  return { profile, active: active === undefined ? undefined : active !== false };
};

const ignoreNotFound = async (run: () => Promise<unknown>): Promise<void> => {
  try {
    await run();
  } catch (error) {
    // Already gone is what we wanted.
    if (!(error instanceof ConnectorError && error.kind === 'notFound')) throw error;
  }
};

export interface OktaConnectorOptions {
  fetchImpl?: typeof fetch;
  /** The longest wait for a rate-limit reset spent in process (see OktaRateGovernor); default 2 s. */
  maxWaitMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The connector a document entry describes; the secrets are read now, so an unreadable one fails its construction. */
export const createOktaConnector = async (config: OktaConnectorConfig, options: OktaConnectorOptions = {}): Promise<OktaConnector> => {
  const orgUrl = new URL(config.orgUrl).origin;
  let credentials: OktaCredentials;
  if (config.oauth) {
    const privateKey = secretSourceOf(config.oauth.privateKey);
    await privateKey.get();
    credentials = serviceAppCredentials({
      orgUrl,
      clientId: config.oauth.clientId,
      privateKey,
      scopes: config.oauth.scopes,
      connectorId: config.id,
      ...(config.oauth.keyId ? { keyId: config.oauth.keyId } : {}),
      ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  } else {
    if (!config.apiToken) throw new ConnectorError('permanent', `${config.id}: an Okta connector needs apiToken or oauth`);
    const token = secretSourceOf(config.apiToken);
    await token.get();
    credentials = apiTokenCredentials(token);
  }
  const governor = new OktaRateGovernor({
    maxConcurrent: config.concurrentRequests,
    label: config.id,
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  return new OktaConnector(config, new OktaHttp(config.id, orgUrl, credentials, governor, options.fetchImpl));
};
