import type { ScimConnectorConfig } from '../connectors.schema.ts';
import { ConnectorError, kindOfStatus, parseRetryAfter } from '../connector.errors.ts';
import type { AttributeChange, Connector, MembershipDelta, TargetAccount, TargetAttributes, TargetGroup } from '../connector.port.ts';
import { filterLiteral, flattenScim, GROUP_SCHEMA, toScimUser } from './scim-resource.ts';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const REQUEST_TIMEOUT_MS = 10_000;

type Json = Record<string, unknown>;

/** What the target's /ServiceProviderConfig says it can do (RFC 7643 section 5). */
export interface ScimCapabilities {
  patch: boolean;
  filter: boolean;
  bulk: boolean;
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

  constructor(
    private readonly config: Pick<ScimConnectorConfig, 'id' | 'baseUrl' | 'membersPerRequest'>,
    private readonly bearerToken: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.id = config.id;
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
  }

  /** Cached per container: a target's capabilities do not change between calls. */
  discover(): Promise<ScimCapabilities> {
    this.capabilities ??= this.request('GET', '/ServiceProviderConfig')
      .then((spc) => ({
        patch: Boolean((spc?.patch as Json | undefined)?.supported),
        filter: Boolean((spc?.filter as Json | undefined)?.supported),
        bulk: Boolean((spc?.bulk as Json | undefined)?.supported),
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
        return group ? { id: String(group.id), displayName: String(group.displayName) } : undefined;
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
    return group ? { id: String(group.id), displayName: String(group.displayName) } : undefined;
  }

  async createGroup(displayName: string, externalId: string): Promise<TargetGroup> {
    const created = await this.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, externalId });
    return { id: String(created?.id), displayName };
  }

  async deleteGroup(targetId: string): Promise<void> {
    await this.ignoreNotFound(() => this.request('DELETE', `/Groups/${encodeURIComponent(targetId)}`));
  }

  async changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void> {
    if (!(await this.discover()).patch) {
      throw new ConnectorError('permanent', `${this.id} does not support PATCH: membership cannot change without replacing the whole list`);
    }
    const changes = [...delta.add.map((id) => ({ kind: 'add' as const, id })), ...delta.remove.map((id) => ({ kind: 'remove' as const, id }))];
    for (let start = 0; start < changes.length; start += this.config.membersPerRequest) {
      const part = changes.slice(start, start + this.config.membersPerRequest);
      const adds = part.filter((c) => c.kind === 'add').map((c) => ({ value: c.id }));
      const operations = [
        ...(adds.length > 0 ? [{ op: 'add', path: 'members', value: adds }] : []),
        ...part.filter((c) => c.kind === 'remove').map((c) => ({ op: 'remove', path: `members[value eq ${filterLiteral(c.id)}]` })),
      ];
      await this.request('PATCH', `/Groups/${encodeURIComponent(targetGroupId)}`, { schemas: [PATCH_OP], Operations: operations });
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

  private async request(method: string, path: string, body?: unknown): Promise<Json | undefined> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.bearerToken}`,
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
      const detail = safeJson(text)?.detail ?? text.slice(0, 300);
      throw new ConnectorError(kindOfStatus(response.status), `${this.id}: ${method} ${path} answered ${response.status}: ${String(detail)}`, {
        status: response.status,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    return text ? safeJson(text) : undefined;
  }
}

const safeJson = (text: string): Json | undefined => {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
};

