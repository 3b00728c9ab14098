import { ChangesExpiredError, ConnectorError } from '../connector.errors.ts';
import type {
  AttributeChange,
  ChangeFeed,
  ChangePage,
  Connector,
  ConnectorOperation,
  GroupChange,
  MembershipDelta,
  Page,
  PageRequest,
  TargetAccount,
  TargetAttributes,
  TargetGroup,
} from '../connector.port.ts';
import type { EntraConnectorConfig } from '../connectors.schema.ts';
import { secretSourceOf } from '../connectors.source.ts';
import {
  generatePassword,
  groupMailNickname,
  hubGroupDescription,
  isObjectId,
  MANAGER,
  newGraphUser,
  odataString,
  toGraphUser,
  toTargetAccount,
  toTargetGroup,
  userPrincipalNameOf,
  userSelect,
} from './entra-resource.ts';
import { type BatchRequest, GraphClient } from './graph.client.ts';
import { GraphError, isDeltaRefused, isObjectConflict } from './graph.errors.ts';
import { type ClientCredential, GraphTokenProvider } from './graph-token.ts';
import { containerShare, laneMaxConcurrency } from '../resilience/lane-concurrency.ts';
import { RateLimiter } from '../resilience/rate-limiter.ts';

type Json = Record<string, unknown>;

/** Graph's write quota per application and tenant: 3 000 requests per 150 s. */
export const WRITES_PER_SECOND = 3_000 / 150;
/** Members bound in one `PATCH /groups/{id}` with `members@odata.bind`: Graph takes at most 20. */
export const MEMBERS_PER_BIND = 20;
/** Graph pages hold 1 to 999 items (`$top`). */
const MAX_PAGE = 999;
/** How long a user Graph says exists but does not yet show is given to replicate before the next attempt. */
export const REPLICATION_WAIT_MS = 5_000;
const GROUP_SELECT = 'id,displayName,description';
/**
 * User properties whose `$filter` is an advanced query in Entra: it needs `ConsistencyLevel:
 * eventual` and `$count=true` (https://learn.microsoft.com/graph/aad-advanced-queries).
 */
const ADVANCED_FILTER = /^(employeeId|onPremisesExtensionAttributes\/|employeeOrgData\/|faxNumber|otherMails|proxyAddresses)/;

/** What the connector reads from its connectors-document entry. */
export type EntraConnectorSettings = Pick<
  EntraConnectorConfig,
  'id' | 'domain' | 'graphBaseUrl' | 'forceChangePasswordNextSignIn' | 'groupAppRole' | 'mapping'
>;

/**
 * "Already there" answers Graph gives without a code of their own (both are 400
 * `Request_BadRequest`): a member added twice ("One or more added object references already
 * exist ...") and an app role assigned twice ("Permission being assigned already exists ...").
 * The message is the only signal Graph sends, so it is read here and nowhere else.
 */
const isAlreadyThere = (error: GraphError | undefined) =>
  error?.status === 400 && error.graphCode === 'Request_BadRequest' && /already exist/i.test(error.message);

const isNotFound = (error: unknown) => error instanceof ConnectorError && error.kind === 'notFound';

/**
 * Provisions users and security groups into a Microsoft Entra ID tenant through Microsoft
 * Graph v1.0, with an app registration's client credentials. See entra-resource.ts for the
 * attribute vocabulary. Membership changes are bound 20 at a time (`members@odata.bind`) and
 * those PATCHes, like removals, travel 20 to a `$batch`: one call carries up to 400 additions.
 */
export class EntraConnector implements Connector, ChangeFeed {
  readonly id: string;
  /**
   * Calls per second per operation, from Graph's identity and access limits per application
   * and tenant (https://learn.microsoft.com/graph/throttling-limits): 3 000 writes per 150 s
   * (20/s) and, for the smallest tenants, 3 500 resource units per 10 s (350/s; a user read
   * by key with `$select` costs 1, a list page 1 to 2, a member page 2 to 3).
   */
  readonly defaultRateLimits: Partial<Record<ConnectorOperation, number>> = {
    // Write calls; their write requests are metered together by the client (WRITES_PER_SECOND),
    // since one quota covers them all and a $batch carries up to 20.
    createUser: WRITES_PER_SECOND,
    updateUser: WRITES_PER_SECOND,
    disableUser: WRITES_PER_SECOND,
    deleteUser: WRITES_PER_SECOND,
    renameGroup: WRITES_PER_SECOND,
    deleteGroup: WRITES_PER_SECOND,
    createGroup: WRITES_PER_SECOND,
    changeGroupMembers: WRITES_PER_SECOND,
    // Reads share the resource-unit quota: a third each for lookups, lists and the rest.
    findUser: 100,
    getUser: 100,
    findGroup: 50,
    listUsers: 50,
    listGroups: 50,
    listGroupMembers: 30,
    probe: 5,
  };
  private readonly select: string;
  private readonly directoryObjects: string;

  constructor(
    private readonly config: EntraConnectorSettings,
    private readonly graph: GraphClient,
    private readonly password: () => string = generatePassword,
  ) {
    this.id = config.id;
    this.select = userSelect(config.mapping?.map((mapping) => mapping.target));
    this.directoryObjects = `${graph.baseUrl}/directoryObjects`;
  }

  async probe(): Promise<void> {
    await this.graph.request('GET', '/users?$select=id&$top=1');
  }

  /**
   * `id` and `userPrincipalName` are key reads (`GET /users/{id | userPrincipalName}`); any
   * other property is a `$filter` eq, sent as an advanced query where Entra requires one.
   */
  async findUser(attribute: string, value: string): Promise<TargetAccount | undefined> {
    if (attribute === 'id') return isObjectId(value) ? this.readUser(value) : undefined;
    if (attribute === 'userPrincipalName') return this.readUser(userPrincipalNameOf(value, this.config.domain));
    if (!/^[A-Za-z][A-Za-z0-9_.]*$/.test(attribute) || attribute === 'active' || attribute === MANAGER) {
      throw new ConnectorError('permanent', `${this.id}: "${attribute}" is not a user property Microsoft Graph can filter on`);
    }
    const property = attribute.replace(/\./g, '/');
    const advanced = ADVANCED_FILTER.test(property);
    const filter = encodeURIComponent(`${property} eq ${odataString(value)}`);
    const found = await this.graph.request('GET', `/users?$filter=${filter}&$select=${this.select}&$top=2${advanced ? '&$count=true' : ''}`, {
      headers: advanced ? { ConsistencyLevel: 'eventual' } : {},
    });
    const user = ((found?.value as Json[] | undefined) ?? [])[0];
    return user ? toTargetAccount(user) : undefined;
  }

  /** `GET /users/{id}`; an id that is no object id names no account. */
  getUser(targetId: string): Promise<TargetAccount | undefined> {
    return isObjectId(targetId) ? this.readUser(targetId) : Promise.resolve(undefined);
  }

  private async readUser(key: string): Promise<TargetAccount | undefined> {
    try {
      const user = await this.graph.request('GET', `/users/${encodeURIComponent(key)}?$select=${this.select}`);
      return user ? toTargetAccount(user) : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * `POST /users` with the required properties and a generated password. Graph keeps
   * userPrincipalName unique, so a second create of the same person is refused (400
   * `ObjectConflict`) and never makes a second account. The refusal is a `conflict` when the
   * account can be read (the engine matches it again and links it); while replication still
   * hides it, a `retryable` failure with a short wait, so the next attempt finds it.
   */
  async createUser(attributes: TargetAttributes): Promise<TargetAccount> {
    const body = newGraphUser(attributes, {
      domain: this.config.domain,
      password: this.password(),
      forceChangePasswordNextSignIn: this.config.forceChangePasswordNextSignIn,
    });
    let created: Json | undefined;
    try {
      created = await this.graph.request('POST', '/users', { body });
    } catch (error) {
      if (!isObjectConflict(error)) throw error;
      const upn = String(body.userPrincipalName);
      if (await this.readUser(upn)) throw error;
      throw new ConnectorError('retryable', `${this.id}: ${upn} exists in the tenant but is not readable yet (directory replication); trying again shortly`, {
        cause: error,
        status: 400,
        retryAfterMs: REPLICATION_WAIT_MS,
      });
    }
    const account = toTargetAccount(created ?? {});
    const manager = attributes[MANAGER];
    if (typeof manager === 'string' && manager) await this.setManager(account.id, manager);
    return account;
  }

  /**
   * Exactly one `PATCH /users/{id}` with the changed properties (cleared ones as null); a
   * changed manager is a `manager/$ref` request, sent with the PATCH in one `$batch` that runs
   * it after the PATCH succeeded.
   */
  async updateUser(targetId: string, change: AttributeChange): Promise<void> {
    const body = toGraphUser(change.set, change.unset, this.config.domain);
    const requests: BatchRequest[] = [];
    const path = `/users/${encodeURIComponent(targetId)}`;
    if (Object.keys(body).length > 0) requests.push({ id: 'user', method: 'PATCH', url: path, body });
    const manager = MANAGER in change.set ? change.set[MANAGER] : change.unset.includes(MANAGER) ? null : undefined;
    if (manager !== undefined) {
      const managerId = typeof manager === 'string' && manager ? await this.managerIdOf(manager) : undefined;
      if (managerId) {
        requests.push({
          id: 'manager',
          method: 'PUT',
          url: `${path}/manager/$ref`,
          body: { '@odata.id': `${this.directoryObjects}/${managerId}` },
          ...(requests.length ? { dependsOn: 'user' } : {}),
        });
      } else if (manager === null || manager === '') {
        requests.push({ id: 'manager', method: 'DELETE', url: `${path}/manager/$ref`, ...(requests.length ? { dependsOn: 'user' } : {}) });
      }
    }
    if (requests.length === 0) return;
    const results = await this.graph.batch(requests);
    const user = results.get('user');
    if (user?.error) throw user.error;
    const managerResult = results.get('manager');
    // A manager that is not in the tenant (or is gone already, for a removal) leaves the user without one.
    if (managerResult?.error && managerResult.status !== 404) throw managerResult.error;
  }

  async disableUser(targetId: string): Promise<void> {
    await this.graph.request('PATCH', `/users/${encodeURIComponent(targetId)}`, { body: { accountEnabled: false } });
  }

  /**
   * `DELETE /users/{id}`: Entra keeps the user in deleted items for 30 days (restorable), then
   * removes it for good. Deleting a user that is already gone succeeds.
   */
  async deleteUser(targetId: string): Promise<void> {
    await this.ignoreNotFound(() => this.graph.request('DELETE', `/users/${encodeURIComponent(targetId)}`));
  }

  /** The manager's object id: a GUID is one already; another value is the manager's userPrincipalName. */
  private async managerIdOf(value: string): Promise<string | undefined> {
    if (isObjectId(value)) return value;
    try {
      const found = await this.graph.request('GET', `/users/${encodeURIComponent(userPrincipalNameOf(value, this.config.domain))}?$select=id`);
      return typeof found?.id === 'string' ? found.id : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async setManager(userId: string, manager: string): Promise<void> {
    const managerId = await this.managerIdOf(manager);
    if (!managerId) return;
    await this.ignoreNotFound(() =>
      this.graph.request('PUT', `/users/${encodeURIComponent(userId)}/manager/$ref`, { body: { '@odata.id': `${this.directoryObjects}/${managerId}` } }),
    );
  }

  async findGroup(by: { id: string } | { displayName: string }): Promise<TargetGroup | undefined> {
    if ('id' in by) {
      if (!isObjectId(by.id)) return undefined;
      try {
        const group = await this.graph.request('GET', `/groups/${encodeURIComponent(by.id)}?$select=${GROUP_SELECT}`);
        return group ? toTargetGroup(group) : undefined;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }
    return this.groupWhere(`displayName eq ${odataString(by.displayName)}`);
  }

  private async groupWhere(filter: string): Promise<TargetGroup | undefined> {
    const found = await this.graph.request('GET', `/groups?$filter=${encodeURIComponent(filter)}&$select=${GROUP_SELECT}&$top=2`);
    const group = ((found?.value as Json[] | undefined) ?? [])[0];
    return group ? toTargetGroup(group) : undefined;
  }

  /**
   * A security group (`mailEnabled: false`, `securityEnabled: true`) whose description names
   * the hub group. Graph does not keep group names unique, so the hub's own group is looked up
   * by that description first: a create retried after a lost answer adopts the group it made.
   * With `groupAppRole`, the group is given the app role.
   */
  async createGroup(displayName: string, externalId: string): Promise<TargetGroup> {
    const description = hubGroupDescription(externalId);
    let group = await this.groupWhere(`description eq ${odataString(description)}`);
    group ??= toTargetGroup(
      (await this.graph.request('POST', '/groups', {
        body: { displayName, description, mailEnabled: false, mailNickname: groupMailNickname(externalId), securityEnabled: true },
      })) ?? {},
    );
    if (this.config.groupAppRole) await this.assignAppRole(group.id);
    return { id: group.id, displayName, externalId };
  }

  private async assignAppRole(groupId: string): Promise<void> {
    const role = this.config.groupAppRole;
    if (!role) return;
    try {
      await this.graph.request('POST', `/groups/${encodeURIComponent(groupId)}/appRoleAssignments`, {
        body: { principalId: groupId, resourceId: role.resourceId, appRoleId: role.appRoleId },
      });
    } catch (error) {
      if (!(error instanceof GraphError && isAlreadyThere(error))) throw error;
    }
  }

  /** One `PATCH /groups/{id}` of displayName: the group keeps its id, members and role assignments. */
  async renameGroup(targetId: string, displayName: string, externalId: string): Promise<TargetGroup> {
    await this.graph.request('PATCH', `/groups/${encodeURIComponent(targetId)}`, { body: { displayName } });
    return { id: targetId, displayName, externalId };
  }

  /** Security groups are deleted for good (only Microsoft 365 groups go to deleted items). Already gone succeeds. */
  async deleteGroup(targetId: string): Promise<void> {
    await this.ignoreNotFound(() => this.graph.request('DELETE', `/groups/${encodeURIComponent(targetId)}`));
  }

  /**
   * Additions: `PATCH /groups/{id}` binding 20 members each (`members@odata.bind`), the PATCHes
   * 20 to a `$batch`. Graph adds none of a PATCH's members when one of them fails (one is a
   * member already, or gone), so a failed PATCH is redone member by member with
   * `POST members/$ref`, where "already a member" is success. Removals: `DELETE
   * members/{id}/$ref`, 20 to a `$batch`; a member (or group) already gone is success.
   */
  async changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void> {
    const group = `/groups/${encodeURIComponent(targetGroupId)}`;
    const ref = (id: string) => `${this.directoryObjects}/${id}`;
    const chunks: string[][] = [];
    for (let start = 0; start < delta.add.length; start += MEMBERS_PER_BIND) chunks.push(delta.add.slice(start, start + MEMBERS_PER_BIND));
    const bound = await this.graph.batch(
      chunks.map((ids, index) => ({ id: `bind-${index}`, method: 'PATCH', url: group, body: { 'members@odata.bind': ids.map(ref) } })),
    );
    const redo = chunks.flatMap((ids, index) => (bound.get(`bind-${index}`)?.error ? ids : []));
    const added = await this.graph.batch(
      redo.map((id, index) => ({ id: `add-${index}`, method: 'POST', url: `${group}/members/$ref`, body: { '@odata.id': ref(id) } })),
    );
    const refused = [...added.values()].find((result) => result.error && !isAlreadyThere(result.error));
    if (refused?.error) throw refused.error;
    const removed = await this.graph.batch(
      delta.remove.map((id, index) => ({ id: `remove-${index}`, method: 'DELETE', url: `${group}/members/${encodeURIComponent(id)}/$ref` })),
    );
    const failed = [...removed.values()].find((result) => result.error && result.status !== 404);
    if (failed?.error) throw failed.error;
  }

  /** Users a page at a time with `$select`, following `@odata.nextLink` (the cursor) verbatim. */
  async listUsers(request: PageRequest): Promise<Page<TargetAccount>> {
    const page = await this.listPage(`/users?$select=${this.select}`, request);
    return { ...page, items: page.items.map(toTargetAccount) };
  }

  async listGroups(request: PageRequest): Promise<Page<TargetGroup>> {
    const page = await this.listPage(`/groups?$select=${GROUP_SELECT}`, request);
    return { ...page, items: page.items.map(toTargetGroup) };
  }

  async listGroupMembers(targetGroupId: string, request: PageRequest): Promise<Page<string>> {
    const page = await this.listPage(`/groups/${encodeURIComponent(targetGroupId)}/members?$select=id`, request);
    return { ...page, items: page.items.map((member) => String(member.id)) };
  }

  /**
   * One page of Entra's user changes for an inbound run (delta query,
   * https://learn.microsoft.com/graph/delta-query-users): without a cursor, every user (the
   * first round); with the `deltaLink` a finished round gave, only what changed since. Follow
   * `next` until the page carries `deltaLink`, and keep that link for the next run.
   */
  async userChanges(cursor?: string): Promise<ChangePage<TargetAccount>> {
    const answer = await this.deltaPage(cursor ?? `/users/delta?$select=${this.select}`);
    const items = (answer?.value as Json[] | undefined) ?? [];
    const nextLink = answer?.['@odata.nextLink'];
    const deltaLink = answer?.['@odata.deltaLink'];
    return {
      changed: items.filter((item) => !item['@removed']).map(toTargetAccount),
      removed: items.filter((item) => item['@removed']).map((item) => String(item.id)),
      ...(typeof nextLink === 'string' ? { next: nextLink } : {}),
      ...(typeof deltaLink === 'string' ? { deltaLink } : {}),
    };
  }

  /**
   * One page of Entra's group changes for an inbound run (delta query,
   * https://learn.microsoft.com/graph/api/group-delta), as `userChanges` reads users: without a
   * cursor every group with all its members (the first round), with a round's `deltaLink` only
   * the groups changed since, each with the members added and removed since. One group may come
   * on several pages of a round, its members split between them: apply each page as it comes.
   */
  async groupChanges(cursor?: string): Promise<ChangePage<GroupChange>> {
    const answer = await this.deltaPage(cursor ?? `/groups/delta?$select=${GROUP_SELECT},members`);
    const items = (answer?.value as Json[] | undefined) ?? [];
    const nextLink = answer?.['@odata.nextLink'];
    const deltaLink = answer?.['@odata.deltaLink'];
    const members = (item: Json, removed: boolean) =>
      ((item['members@delta'] as Json[] | undefined) ?? []).filter((member) => Boolean(member['@removed']) === removed).map((member) => String(member.id));
    return {
      changed: items
        .filter((item) => !item['@removed'])
        .map((item) => ({
          ...(typeof item.displayName === 'string' ? toTargetGroup(item) : { id: String(item.id) }),
          membersAdded: members(item, false),
          membersRemoved: members(item, true),
        })),
      removed: items.filter((item) => item['@removed']).map((item) => String(item.id)),
      ...(typeof nextLink === 'string' ? { next: nextLink } : {}),
      ...(typeof deltaLink === 'string' ? { deltaLink } : {}),
    };
  }

  /**
   * One page of a delta round. Graph refuses a link whose round it no longer keeps (delta links
   * of users and groups live 7 days): 410 Gone, or an error coded `syncStateNotFound`,
   * `syncStateInvalid` or `resync...` (https://learn.microsoft.com/graph/delta-query-overview,
   * "Synchronization reset"); that is a ChangesExpiredError, and the run reads a full round.
   */
  private async deltaPage(url: string): Promise<Json | undefined> {
    try {
      return await this.graph.request('GET', url);
    } catch (error) {
      if (!isDeltaRefused(error)) throw error;
      throw new ChangesExpiredError(
        `${this.id}: Microsoft Graph no longer honours the delta link (${error.graphCode ?? error.status}): a full round is needed`,
        {
          cause: error,
          status: error.status,
        },
      );
    }
  }

  private async listPage(first: string, request: PageRequest): Promise<Page<Json>> {
    const top = Math.max(1, Math.min(MAX_PAGE, request.pageSize));
    const answer = await this.graph.request('GET', request.cursor ?? `${first}&$top=${top}`);
    const next = answer?.['@odata.nextLink'];
    return { items: (answer?.value as Json[] | undefined) ?? [], ...(typeof next === 'string' ? { next } : {}) };
  }

  private async ignoreNotFound(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/** The credential the document entry gives: a client secret or a certificate, each a secret source. */
const credentialOf = (config: EntraConnectorConfig): ClientCredential => {
  if (config.clientCertificate) {
    return { kind: 'certificate', privateKey: secretSourceOf(config.clientCertificate.privateKey), thumbprint: config.clientCertificate.thumbprint };
  }
  if (!config.clientSecret) throw new ConnectorError('permanent', `${config.id}: an entra connector needs clientSecret or clientCertificate`);
  return { kind: 'secret', secret: secretSourceOf(config.clientSecret) };
};

/** The `.default` scope of the Graph resource the base URL names (national clouds have their own). */
export const graphScopeOf = (graphBaseUrl: string) => `${new URL(graphBaseUrl).origin}/.default`;

/**
 * The connector with its token provider and client, built once per container. The credential
 * is read now, so a secret that cannot be read fails the connector's construction.
 */
export const createEntraConnector = async (
  config: EntraConnectorConfig,
  options: {
    fetchImpl?: typeof fetch;
    /** Waits of the client (between a batch's throttled rounds) and of the write meter, with `now` (benchmarks run on a simulated clock). */
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
    containers?: number;
    /** Meter write requests to Graph's write quota (default); the benchmark turns it off to compare. */
    meterWrites?: boolean;
  } = {},
) => {
  const credential = credentialOf(config);
  await (credential.kind === 'secret' ? credential.secret.get() : credential.privateKey.get());
  const tokens = new GraphTokenProvider(
    {
      connectorId: config.id,
      authorityUrl: config.authorityUrl,
      tenantId: config.tenantId,
      clientId: config.clientId,
      scope: graphScopeOf(config.graphBaseUrl),
    },
    credential,
    options.fetchImpl,
  );
  // The write quota, capped by the connector's configured rate, shared by the lane's containers.
  const configured = config.rateLimit?.requestsPerSecond;
  const share = containerShare(Math.min(WRITES_PER_SECOND, configured ?? WRITES_PER_SECOND), options.containers ?? laneMaxConcurrency(configured));
  const writes = options.now && options.sleep ? new RateLimiter(share, options.now, options.sleep) : new RateLimiter(share);
  return new EntraConnector(
    config,
    new GraphClient({
      connectorId: config.id,
      baseUrl: config.graphBaseUrl,
      tokens,
      fetchImpl: options.fetchImpl,
      sleep: options.sleep,
      ...(options.meterWrites === false ? {} : { writes }),
    }),
  );
};
