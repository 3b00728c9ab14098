import type { ScimConnectorConfig } from '../connectors.schema.ts';
import type { SecretSource } from '../connectors.source.ts';
import { ConnectorError, kindOfStatus, parseRetryAfter } from '../connector.errors.ts';
import type { AttributeChange, Connector, MembershipDelta, Page, PageRequest, TargetAccount, TargetAttributes, TargetGroup } from '../connector.port.ts';
import { filterLiteral, flattenScim, GROUP_SCHEMA, toScimUser } from './scim-resource.ts';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const REQUEST_TIMEOUT_MS = 10_000;

type Json = Record<string, unknown>;

/** What the target's /ServiceProviderConfig says it can do (RFC 7643 section 5). */
export interface ScimCapabilities {
  patch: boolean;
  filter: boolean;
  bulk: boolean;
  /** The most resources the target returns in one answer (`filter.maxResults`), when it says. */
  maxResults?: number;
}

/**
 * A SCIM 2.0 client connector that works with any compliant server: it reads the target's
 * ServiceProviderConfig, uses PATCH when supported (PUT otherwise), finds existing accounts by
 * filtering on the matching attributes, and changes group membership with minimal add/remove
 * operations chunked to `membersPerRequest`.
 */
export class ScimConnector implements Connector {
  readonly id: string;
  private capabilities: Promise<ScimCapabilities> | undefined;
  private readonly baseUrl: string;
  private readonly token: SecretSource;

  constructor(
    private readonly config: Pick<ScimConnectorConfig, 'id' | 'baseUrl' | 'membersPerRequest'>,
    /** The bearer token, or a source of it that is read on each request and refreshed after a 401 or 403. */
    bearerToken: string | SecretSource,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.id = config.id;
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.token = typeof bearerToken === 'string' ? { get: async () => bearerToken, refresh: async () => bearerToken } : bearerToken;
  }

  /** Cached per container: a target's capabilities do not change between calls. */
  discover(): Promise<ScimCapabilities> {
    this.capabilities ??= this.request('GET', '/ServiceProviderConfig')
      .then((spc) => ({
        patch: Boolean((spc?.patch as Json | undefined)?.supported),
        filter: Boolean((spc?.filter as Json | undefined)?.supported),
        bulk: Boolean((spc?.bulk as Json | undefined)?.supported),
        ...maxResultsOf(spc),
      }))
      .catch((error: unknown) => {
        this.capabilities = undefined;
        throw error;
      });
    return this.capabilities;
  }

  async probe(): Promise<void> {
    await this.request('GET', '/ServiceProviderConfig');
  }

  async findUser(attribute: string, value: string): Promise<TargetAccount | undefined> {
    if (!(await this.discover()).filter) return undefined;
    const found = await this.request('GET', `/Users?filter=${encodeURIComponent(`${attribute} eq ${filterLiteral(value)}`)}&count=2`);
    const resource = ((found?.Resources as Json[] | undefined) ?? [])[0];
    return resource ? { id: String(resource.id), attributes: flattenScim(resource) } : undefined;
  }

  /** GET /Users/{id} (RFC 7644 section 3.4.1); a 404 is an account the target does not hold. */
  async getUser(targetId: string): Promise<TargetAccount | undefined> {
    try {
      const resource = await this.request('GET', `/Users/${encodeURIComponent(targetId)}`);
      return resource ? { id: String(resource.id), attributes: flattenScim(resource) } : undefined;
    } catch (error) {
      if (error instanceof ConnectorError && error.kind === 'notFound') return undefined;
      throw error;
    }
  }

  /** GET /Users with startIndex and count (RFC 7644 section 3.4.2.4); the cursor is the next startIndex. */
  async listUsers(request: PageRequest): Promise<Page<TargetAccount>> {
    const page = await this.listPage('/Users', '', request);
    return { ...page, items: page.items.map((resource) => ({ id: String(resource.id), attributes: flattenScim(resource) })) };
  }

  async listGroups(request: PageRequest): Promise<Page<TargetGroup>> {
    const page = await this.listPage('/Groups', 'excludedAttributes=members', request);
    return { ...page, items: page.items.map(toTargetGroup) };
  }

  /**
   * SCIM has no paging inside a multi-valued attribute: the members come in one answer, read
   * with `attributes=members`, and the page request is honoured by slicing that answer.
   */
  async listGroupMembers(targetGroupId: string, request: PageRequest): Promise<Page<string>> {
    const group = await this.request('GET', `/Groups/${encodeURIComponent(targetGroupId)}?attributes=members`);
    const all = ((group?.members as Json[] | undefined) ?? []).map((member) => String(member.value));
    const start = Number(request.cursor ?? 0);
    const end = start + request.pageSize;
    return { items: all.slice(start, end), ...(end < all.length ? { next: String(end) } : {}) };
  }

  /**
   * One page of a list. The count asked is the caller's page size capped by what the target
   * advertises; the next startIndex follows what the target really returned, so a server that
   * caps pages lower still (IAM Identity Center: 100) is read without gaps.
   */
  private async listPage(path: string, query: string, request: PageRequest): Promise<Page<Json>> {
    const { maxResults } = await this.discover();
    const count = Math.max(1, Math.min(request.pageSize, maxResults ?? request.pageSize));
    const startIndex = request.cursor ? Number(request.cursor) : 1;
    if (!Number.isInteger(startIndex) || startIndex < 1)
      throw new ConnectorError('permanent', `${this.id}: "${request.cursor}" is not a list cursor of this connector`);
    const answer = await this.request('GET', `${path}?${query ? `${query}&` : ''}startIndex=${startIndex}&count=${count}`);
    const items = (answer?.Resources as Json[] | undefined) ?? [];
    const total = typeof answer?.totalResults === 'number' ? answer.totalResults : undefined;
    const following = startIndex + items.length;
    const more = items.length > 0 && (total === undefined ? items.length >= count : following <= total);
    return { items, ...(more ? { next: String(following) } : {}) };
  }

  async createUser(attributes: TargetAttributes): Promise<TargetAccount> {
    const created = await this.request('POST', '/Users', toScimUser(attributes));
    return { id: String(created?.id), attributes: flattenScim(created ?? {}) };
  }

  async updateUser(targetId: string, change: AttributeChange, full: TargetAttributes): Promise<void> {
    if ((await this.discover()).patch) {
      const operations = [
        ...Object.entries(change.set).map(([path, value]) => ({ op: 'replace', path, value })),
        ...change.unset.map((path) => ({ op: 'remove', path })),
      ];
      if (operations.length === 0) return;
      await this.request('PATCH', `/Users/${encodeURIComponent(targetId)}`, { schemas: [PATCH_OP], Operations: operations });
      return;
    }
    await this.request('PUT', `/Users/${encodeURIComponent(targetId)}`, { ...toScimUser(full), id: targetId });
  }

  async disableUser(targetId: string, full: TargetAttributes): Promise<void> {
    await this.updateUser(targetId, { set: { active: false }, unset: [] }, { ...full, active: false });
  }

  async deleteUser(targetId: string): Promise<void> {
    await this.ignoreNotFound(() => this.request('DELETE', `/Users/${encodeURIComponent(targetId)}`));
  }

  async findGroup(by: { id: string } | { displayName: string }): Promise<TargetGroup | undefined> {
    if ('id' in by) {
      try {
        const group = await this.request('GET', `/Groups/${encodeURIComponent(by.id)}?excludedAttributes=members`);
        return group ? toTargetGroup(group) : undefined;
      } catch (error) {
        if (error instanceof ConnectorError && error.kind === 'notFound') return undefined;
        throw error;
      }
    }
    const found = await this.request(
      'GET',
      `/Groups?filter=${encodeURIComponent(`displayName eq ${filterLiteral(by.displayName)}`)}&excludedAttributes=members&count=2`,
    );
    const group = ((found?.Resources as Json[] | undefined) ?? [])[0];
    return group ? toTargetGroup(group) : undefined;
  }

  async createGroup(displayName: string, externalId: string): Promise<TargetGroup> {
    const created = await this.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, externalId });
    return { id: String(created?.id), displayName, externalId };
  }

  /** One PATCH replace of displayName (RFC 7644 section 3.5.2.3); the group keeps its id and members. */
  async renameGroup(targetId: string, displayName: string, externalId: string): Promise<TargetGroup> {
    if (!(await this.discover()).patch) {
      throw new ConnectorError('permanent', `${this.id} does not support PATCH: a group cannot be renamed without replacing its members`);
    }
    await this.request('PATCH', `/Groups/${encodeURIComponent(targetId)}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'displayName', value: displayName }],
    });
    return { id: targetId, displayName, externalId };
  }

  async deleteGroup(targetId: string): Promise<void> {
    await this.ignoreNotFound(() => this.request('DELETE', `/Groups/${encodeURIComponent(targetId)}`));
  }

  /**
   * Adds go in PATCH requests of `membersPerRequest` members; removals too, and a removal the
   * target answers with 404 or `noTarget` (the member or the group is gone already, e.g. the
   * user's deletion ran first) is what we wanted: that chunk is retried member by member, and
   * each member already gone counts as removed.
   */
  async changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void> {
    if (!(await this.discover()).patch) {
      throw new ConnectorError('permanent', `${this.id} does not support PATCH: membership cannot change without replacing the whole list`);
    }
    const path = `/Groups/${encodeURIComponent(targetGroupId)}`;
    const size = this.config.membersPerRequest;
    for (let start = 0; start < delta.add.length; start += size) {
      const value = delta.add.slice(start, start + size).map((id) => ({ value: id }));
      await this.request('PATCH', path, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value }] });
    }
    const removal = (ids: string[]) => ({
      schemas: [PATCH_OP],
      Operations: ids.map((id) => ({ op: 'remove', path: `members[value eq ${filterLiteral(id)}]` })),
    });
    for (let start = 0; start < delta.remove.length; start += size) {
      const part = delta.remove.slice(start, start + size);
      try {
        await this.request('PATCH', path, removal(part));
      } catch (error) {
        if (!isAlreadyGone(error)) throw error;
        if ((error as ConnectorError).kind === 'notFound' && part.length === 1) continue;
        for (const id of part) await this.ignoreAlreadyGone(() => this.request('PATCH', path, removal([id])));
      }
    }
  }

  private async ignoreAlreadyGone(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (error) {
      if (!isAlreadyGone(error)) throw error;
    }
  }

  private async ignoreNotFound(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (error) {
      // Already gone is what we wanted.
      if (!(error instanceof ConnectorError && error.kind === 'notFound')) throw error;
    }
  }

  /** One request; a 401 or 403 reads the token again (it may have been rotated) and tries once more. */
  private async request(method: string, path: string, body?: unknown): Promise<Json | undefined> {
    try {
      return await this.send(method, path, body, await this.token.get());
    } catch (error) {
      if (!(error instanceof ConnectorError && error.kind === 'unauthorized')) throw error;
      let token: string;
      try {
        token = await this.token.refresh();
      } catch (cause) {
        throw new ConnectorError('retryable', `${this.id}: the target refused the bearer token, and reading it again failed: ${(cause as Error).message}`, {
          cause,
        });
      }
      return this.send(method, path, body, token);
    }
  }

  private async send(method: string, path: string, body: unknown, token: string): Promise<Json | undefined> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/scim+json, application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ConnectorError('retryable', `${this.id}: ${method} ${path} failed: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      const json = safeJson(text);
      const detail = json?.detail ?? text.slice(0, 300);
      throw new ConnectorError(kindOfStatus(response.status), `${this.id}: ${method} ${path} answered ${response.status}: ${String(detail)}`, {
        status: response.status,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        ...(typeof json?.scimType === 'string' ? { scimType: json.scimType } : {}),
      });
    }
    return text ? safeJson(text) : undefined;
  }
}

/** A member or group the target no longer has: 404, or 400 `noTarget` (RFC 7644 section 3.5.2). */
const isAlreadyGone = (error: unknown): boolean =>
  error instanceof ConnectorError && (error.kind === 'notFound' || (error.status === 400 && error.scimType === 'noTarget'));

const toTargetGroup = (group: Json): TargetGroup => ({
  id: String(group.id),
  displayName: String(group.displayName),
  ...(typeof group.externalId === 'string' ? { externalId: group.externalId } : {}),
});

const maxResultsOf = (spc: Json | undefined): { maxResults?: number } => {
  const value = (spc?.filter as Json | undefined)?.maxResults;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? { maxResults: value } : {};
};

const safeJson = (text: string): Json | undefined => {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
};
