import { ConnectorError } from '../connector.errors.ts';
import type { AttributeChange, Connector, MembershipDelta, Page, PageRequest, TargetAccount, TargetAttributes, TargetGroup } from '../connector.port.ts';
import { secretSourceOf } from '../connectors.source.ts';
import { chunk, isSalesforceId, isSoqlField, soqlIn, soqlString } from './salesforce-soql.ts';
import { ACTIVE, accountAttributes, deriveAlias, PROFILE_NAME, recordFields, releasedUsername, USER_FIELDS, withSuffix } from './salesforce-user.ts';
import { type SalesforceCredentials, SalesforceClient } from './salesforce.client.ts';
import { onlyCodes, type SaveResultError, salesforceError } from './salesforce.errors.ts';
import type { SalesforceConnectorConfig } from './salesforce.schema.ts';

type Json = Record<string, unknown>;

/** sObject Collections take at most 200 records per request. */
export const COLLECTION_SIZE = 200;
/** A composite request holds at most 25 subrequests, of which at most 5 are queries or collections. */
export const COLLECTION_SUBREQUESTS_PER_COMPOSITE = 5;
const SOQL_BATCH_MAX = 2000;

/**
 * What a hub group can stand for in Salesforce, told apart by the id's key prefix: a public
 * group (members are GroupMember records), a permission set or permission set group (members
 * are PermissionSetAssignment records), a profile or a role (members are the users whose
 * ProfileId or UserRoleId points at it).
 */
interface RoleKind {
  kind: 'Group' | 'PermissionSet' | 'PermissionSetGroup' | 'Profile' | 'UserRole';
  prefix: string;
  nameField: string;
}

const ROLE_KINDS: readonly RoleKind[] = [
  { kind: 'Group', prefix: '00G', nameField: 'Name' },
  { kind: 'PermissionSet', prefix: '0PS', nameField: 'Name' },
  { kind: 'PermissionSetGroup', prefix: '0PG', nameField: 'DeveloperName' },
  { kind: 'Profile', prefix: '00e', nameField: 'Name' },
  { kind: 'UserRole', prefix: '00E', nameField: 'DeveloperName' },
];

const kindOfId = (id: string): RoleKind | undefined => (isSalesforceId(id) ? ROLE_KINDS.find((k) => id.startsWith(k.prefix)) : undefined);

/** `PermissionSet:Sales_Ops` names a permission set by its API name; a bare name is a public group. */
export const parseRoleName = (displayName: string): { kind: RoleKind; name: string } => {
  const colon = displayName.indexOf(':');
  const kind = colon > 0 ? ROLE_KINDS.find((k) => k.kind === displayName.slice(0, colon)) : undefined;
  return kind && kind.kind !== 'Group' ? { kind, name: displayName.slice(colon + 1) } : { kind: ROLE_KINDS[0] as RoleKind, name: displayName };
};

/** The DeveloperName of a public group the hub made: the hub group's id, hex-encoded, so it is read back exactly. */
const HUB_PREFIX = 'hub_';
const DEVELOPER_NAME_MAX = 80;
export const hubDeveloperName = (hubGroupId: string): string | undefined => {
  const name = `${HUB_PREFIX}${Buffer.from(hubGroupId, 'utf8').toString('hex')}`;
  return name.length <= DEVELOPER_NAME_MAX ? name : undefined;
};
const hubGroupIdOf = (developerName: unknown): string | undefined =>
  typeof developerName === 'string' && /^hub_([0-9a-f]{2})+$/.test(developerName) ? Buffer.from(developerName.slice(4), 'hex').toString('utf8') : undefined;

/** Membership records that are already as wanted: a second assignment, a deletion of what is gone. */
const ALREADY_ASSIGNED = new Set(['DUPLICATE_VALUE']);
const ALREADY_GONE = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND']);

interface SaveResult {
  id?: string;
  success: boolean;
  errors?: SaveResultError[];
}

interface Subrequest {
  method: string;
  url: string;
  body?: unknown;
}

/** What the connector reads from its connectors-document entry. */
export type SalesforceConnectorSettings = Pick<SalesforceConnectorConfig, 'id' | 'profile' | 'usernameSuffix' | 'userDefaults' | 'mapping'>;

/**
 * Provisions users and their roles into one Salesforce org through the REST API: Users
 * (created with every required field, updated field by field, deactivated; never deleted, which
 * Salesforce does not allow), and hub groups as public groups, permission sets, permission set
 * groups, profiles or roles. Membership changes travel as sObject Collections of up to 200
 * records, up to five collections in one composite request, which Salesforce counts as one call.
 */
export class SalesforceConnector implements Connector {
  readonly id: string;
  private readonly suffix: string;
  private readonly fields: string[];
  private readonly profiles = new Map<string, Promise<string>>();

  constructor(
    private readonly config: SalesforceConnectorSettings,
    readonly client: SalesforceClient,
  ) {
    this.id = config.id;
    this.suffix = config.usernameSuffix;
    const mapped = (config.mapping ?? []).map((m) => m.target).filter((target) => target !== ACTIVE && isSoqlField(target));
    this.fields = [...new Set([...USER_FIELDS, ...mapped])];
  }

  /** `GET /limits`: proves the org answers, and refreshes the allocation reading. */
  async probe(): Promise<void> {
    const limits = (await this.client.expect('GET', '/limits')) as Json | undefined;
    const daily = limits?.DailyApiRequests as { Max?: number; Remaining?: number } | undefined;
    if (typeof daily?.Max === 'number' && typeof daily.Remaining === 'number')
      this.client.allocation.observe({ used: daily.Max - daily.Remaining, limit: daily.Max });
  }

  private async query(soql: string): Promise<Json> {
    return ((await this.client.expect('GET', `/query?q=${encodeURIComponent(soql)}`)) ?? {}) as Json;
  }

  private async records(soql: string): Promise<Json[]> {
    const records: Json[] = [];
    let page = await this.query(soql);
    for (;;) {
      records.push(...((page.records as Json[] | undefined) ?? []));
      if (page.done !== false || typeof page.nextRecordsUrl !== 'string') return records;
      page = ((await this.client.expect('GET', page.nextRecordsUrl)) ?? {}) as Json;
    }
  }

  /** Username, FederationIdentifier, Email or any other User field, compared with a quoted, escaped literal. */
  async findUser(attribute: string, value: string): Promise<TargetAccount | undefined> {
    if (attribute === ACTIVE || !isSoqlField(attribute)) {
      throw new ConnectorError('permanent', `${this.id}: "${attribute}" is not a User field SOQL can filter on`);
    }
    const literal = attribute === 'Username' ? withSuffix(value, this.suffix) : value;
    const [record] = await this.records(`SELECT ${this.fields.join(', ')} FROM User WHERE ${attribute} = ${soqlString(literal)} ORDER BY Id LIMIT 1`);
    return record ? this.toAccount(record) : undefined;
  }

  /** One SOQL read by Id; a value that is no Salesforce id names no account. */
  async getUser(targetId: string): Promise<TargetAccount | undefined> {
    if (!isSalesforceId(targetId)) return undefined;
    const [record] = await this.records(`SELECT ${this.fields.join(', ')} FROM User WHERE Id = ${soqlString(targetId)} LIMIT 1`);
    return record ? this.toAccount(record) : undefined;
  }

  private toAccount(record: Json): TargetAccount {
    return { id: String(record.Id), attributes: accountAttributes(record, this.suffix) };
  }

  /**
   * One page of a listing, keyset-paged on Id (`WHERE Id > :last ORDER BY Id LIMIT :size`), so
   * a page never holds more than asked and no query locator has to outlive a reconciliation
   * step. Should Salesforce cut a batch short (large records), its `nextRecordsUrl` is followed.
   */
  private async listPage(object: string, fields: string[], conditions: string[], request: PageRequest): Promise<Page<Json>> {
    const size = Math.max(1, Math.min(SOQL_BATCH_MAX, request.pageSize));
    let page: Json;
    let limit = size;
    const cursor = request.cursor ?? '';
    if (cursor.startsWith('next:')) {
      const [, limitText, url] = /^next:(\d+):(.+)$/.exec(cursor) ?? [];
      if (!url?.startsWith(`/services/data/`)) throw new ConnectorError('permanent', `${this.id}: "${cursor}" is not a list cursor of this connector`);
      limit = Number(limitText);
      page = ((await this.client.expect('GET', url)) ?? {}) as Json;
    } else {
      const after = cursor.startsWith('after:') ? cursor.slice(6) : undefined;
      if (cursor && (!after || !isSalesforceId(after))) throw new ConnectorError('permanent', `${this.id}: "${cursor}" is not a list cursor of this connector`);
      const where = [...conditions, ...(after ? [`Id > ${soqlString(after)}`] : [])];
      page = await this.query(`SELECT ${fields.join(', ')} FROM ${object}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY Id LIMIT ${size}`);
    }
    const items = (page.records as Json[] | undefined) ?? [];
    if (page.done === false && typeof page.nextRecordsUrl === 'string') return { items, next: `next:${limit}:${page.nextRecordsUrl}` };
    const last = items.at(-1);
    const full = typeof page.totalSize === 'number' && page.totalSize >= limit;
    return { items, ...(full && last ? { next: `after:${String(last.Id)}` } : {}) };
  }

  async listUsers(request: PageRequest): Promise<Page<TargetAccount>> {
    const page = await this.listPage('User', this.fields, [], request);
    return { ...page, items: page.items.map((record) => this.toAccount(record)) };
  }

  /** Public groups (Type Regular); permission sets, profiles and roles belong to the org and are not listed. */
  async listGroups(request: PageRequest): Promise<Page<TargetGroup>> {
    const page = await this.listPage('Group', ['Id', 'Name', 'DeveloperName'], ["Type = 'Regular'"], request);
    return { ...page, items: page.items.map((record) => this.toGroup(ROLE_KINDS[0] as RoleKind, record)) };
  }

  async listGroupMembers(targetGroupId: string, request: PageRequest): Promise<Page<string>> {
    const kind = this.kindOf(targetGroupId);
    const id = soqlString(targetGroupId);
    const source: Record<RoleKind['kind'], [string, string, string]> = {
      Group: ['GroupMember', 'UserOrGroupId', `GroupId = ${id}`],
      PermissionSet: ['PermissionSetAssignment', 'AssigneeId', `PermissionSetId = ${id}`],
      PermissionSetGroup: ['PermissionSetAssignment', 'AssigneeId', `PermissionSetGroupId = ${id}`],
      Profile: ['User', 'Id', `ProfileId = ${id}`],
      UserRole: ['User', 'Id', `UserRoleId = ${id}`],
    };
    const [object, field, condition] = source[kind.kind];
    const page = await this.listPage(object, field === 'Id' ? ['Id'] : ['Id', field], [condition], request);
    return { ...page, items: page.items.map((record) => String(record[field])) };
  }

  private kindOf(targetGroupId: string): RoleKind {
    const kind = kindOfId(targetGroupId);
    if (!kind) throw new ConnectorError('permanent', `${this.id}: ${targetGroupId} is not the id of a public group, permission set, profile or role`);
    return kind;
  }

  /** The ProfileId of a profile name, read once per container. */
  private profileId(name: string): Promise<string> {
    let id = this.profiles.get(name);
    if (!id) {
      id = this.records(`SELECT Id FROM Profile WHERE Name = ${soqlString(name)} LIMIT 1`).then(([record]) => {
        if (!record) throw new ConnectorError('permanent', `${this.id}: the org has no profile named "${name}"`);
        return String(record.Id);
      });
      id.catch(() => this.profiles.delete(name));
      this.profiles.set(name, id);
    }
    return id;
  }

  /** A record to send: the mapped fields, ProfileId for a mapped `Profile.Name`. */
  private async toRecord(attributes: TargetAttributes): Promise<Json> {
    const record = recordFields(attributes, this.suffix);
    const profile = attributes[PROFILE_NAME];
    if (typeof profile === 'string' && profile !== '') record.ProfileId = await this.profileId(profile);
    return record;
  }

  /**
   * `POST /sobjects/User` with every field Salesforce requires: the mapped ones, an Alias
   * derived from the name when none is mapped, the locale settings from `userDefaults`, and the
   * ProfileId of the mapped `Profile.Name` or of the entry's `profile`.
   */
  async createUser(attributes: TargetAttributes): Promise<TargetAccount> {
    const record = await this.toRecord(attributes);
    record.ProfileId ??= await this.profileId(this.config.profile);
    record.Alias ??= deriveAlias(record.FirstName, record.LastName, record.Username);
    for (const [field, value] of Object.entries(this.config.userDefaults)) record[field] ??= value;
    if (record.IsActive === undefined) delete record.IsActive;
    const created = (await this.client.expect('POST', '/sobjects/User', record)) as Json | undefined;
    const { ProfileId: _profile, ...sent } = record;
    return { id: String(created?.id), attributes: accountAttributes({ ...sent, IsActive: record.IsActive ?? true }, this.suffix) };
  }

  /** One PATCH with only the changed fields; a cleared attribute is sent as null. */
  async updateUser(targetId: string, change: AttributeChange): Promise<void> {
    const record = await this.toRecord(change.set);
    for (const name of change.unset) if (name !== PROFILE_NAME) Object.assign(record, recordFields({ [name]: null }, this.suffix));
    if (Object.keys(record).length === 0) return;
    await this.patchUser(targetId, record);
  }

  async disableUser(targetId: string): Promise<void> {
    await this.patchUser(targetId, { IsActive: false });
  }

  /**
   * Salesforce never deletes users. Removing one deactivates it, gives it a Username nobody will
   * want (so the person's Username is free for a new account) and clears its
   * FederationIdentifier (so single sign-on cannot reach it). A user that is not there is fine.
   */
  async deleteUser(targetId: string): Promise<void> {
    try {
      await this.patchUser(targetId, { IsActive: false, Username: releasedUsername(targetId, this.suffix), FederationIdentifier: null });
    } catch (error) {
      if (!(error instanceof ConnectorError && error.kind === 'notFound')) throw error;
    }
  }

  private async patchUser(targetId: string, record: Json): Promise<void> {
    if (!isSalesforceId(targetId)) throw new ConnectorError('notFound', `${this.id}: ${targetId} is not a Salesforce record id`);
    await this.client.expect('PATCH', `/sobjects/User/${targetId}`, record);
  }

  private toGroup(kind: RoleKind, record: Json): TargetGroup {
    const name = String(record[kind.nameField]);
    const externalId = kind.kind === 'Group' ? hubGroupIdOf(record.DeveloperName) : undefined;
    return { id: String(record.Id), displayName: kind.kind === 'Group' ? name : `${kind.kind}:${name}`, ...(externalId ? { externalId } : {}) };
  }

  private groupFields(kind: RoleKind): string {
    return kind.kind === 'Group' ? 'Id, Name, DeveloperName' : `Id, ${kind.nameField}`;
  }

  /**
   * By id: the key prefix says which object. By name: `PermissionSet:<Name>`,
   * `PermissionSetGroup:<DeveloperName>`, `Profile:<Name>`, `UserRole:<DeveloperName>`, or a
   * public group's Name.
   */
  async findGroup(by: { id: string } | { displayName: string }): Promise<TargetGroup | undefined> {
    const { kind, condition } =
      'id' in by
        ? { kind: kindOfId(by.id), condition: `Id = ${soqlString(by.id)}` }
        : (({ kind, name }) => ({ kind, condition: `${kind.nameField} = ${soqlString(name)}` }))(parseRoleName(by.displayName));
    if (!kind) return undefined;
    const typed = kind.kind === 'Group' ? " AND Type = 'Regular'" : '';
    const [record] = await this.records(`SELECT ${this.groupFields(kind)} FROM ${kind.kind} WHERE ${condition}${typed} ORDER BY Id LIMIT 1`);
    return record ? this.toGroup(kind, record) : undefined;
  }

  /** A public group (Type Regular) whose DeveloperName records the hub group; a retry finds the one made before. */
  async createGroup(displayName: string, externalId: string): Promise<TargetGroup> {
    const developerName = hubDeveloperName(externalId);
    const answer = await this.client.request('POST', '/sobjects/Group', {
      Name: displayName,
      Type: 'Regular',
      ...(developerName ? { DeveloperName: developerName } : {}),
    });
    if (answer.status < 400) return { id: String((answer.body as Json | undefined)?.id), displayName, ...(developerName ? { externalId } : {}) };
    const error = this.client.failure('POST', '/sobjects/Group', answer);
    if (error.kind !== 'conflict' || !developerName) throw error;
    const [existing] = await this.records(`SELECT Id, Name, DeveloperName FROM Group WHERE DeveloperName = ${soqlString(developerName)} LIMIT 1`);
    if (!existing) throw error;
    return this.toGroup(ROLE_KINDS[0] as RoleKind, existing);
  }

  /** Public groups are renamed in place; permission sets, profiles and roles belong to the org and keep their names. */
  async renameGroup(targetId: string, displayName: string, externalId: string): Promise<TargetGroup> {
    const { kind } = this.kindOf(targetId);
    if (kind !== 'Group') throw new ConnectorError('permanent', `${this.id}: ${targetId} is a ${kind}: the hub manages its members, not its name`);
    await this.client.expect('PATCH', `/sobjects/Group/${targetId}`, { Name: displayName });
    return { id: targetId, displayName, ...(hubDeveloperName(externalId) ? { externalId } : {}) };
  }

  /**
   * Deletes a public group (one already gone is fine). A permission set, profile or role is the
   * org's, mapped to a hub group only to manage who holds it: it is left in place.
   */
  async deleteGroup(targetId: string): Promise<void> {
    if (kindOfId(targetId)?.kind !== 'Group') return;
    const answer = await this.client.request('DELETE', `/sobjects/Group/${targetId}`);
    if (answer.status >= 400 && answer.status !== 404) throw this.client.failure('DELETE', `/sobjects/Group/${targetId}`, answer);
  }

  /**
   * Adds and removes holders of a role as record inserts and deletes (GroupMember,
   * PermissionSetAssignment) or as User updates (ProfileId, UserRoleId), 200 records per
   * collection and up to five collections per composite request.
   */
  async changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void> {
    const kind = this.kindOf(targetGroupId);
    if (kind.kind === 'Profile' || kind.kind === 'UserRole') return this.changeUserField(kind, targetGroupId, delta);
    const [object, groupField, memberField] =
      kind.kind === 'Group'
        ? ['GroupMember', 'GroupId', 'UserOrGroupId']
        : ['PermissionSetAssignment', kind.kind === 'PermissionSet' ? 'PermissionSetId' : 'PermissionSetGroupId', 'AssigneeId'];
    const inserts = chunk(delta.add, COLLECTION_SIZE).map((ids) => ({
      method: 'POST',
      url: `${this.client.dataPath}/composite/sobjects`,
      body: { allOrNone: false, records: ids.map((id) => ({ attributes: { type: object }, [groupField]: targetGroupId, [memberField]: id })) },
    }));
    await this.saveAll(inserts, delta.add, ALREADY_ASSIGNED);
    if (delta.remove.length === 0) return;
    const found = await this.queryAll(
      chunk(delta.remove, COLLECTION_SIZE).map(
        (ids) => `SELECT Id FROM ${object} WHERE ${groupField} = ${soqlString(targetGroupId)} AND ${soqlIn(memberField, ids)}`,
      ),
    );
    await this.deleteAll(found.map((record) => String(record.Id)));
  }

  /** A profile or role is a field of the User: adding sets it; removing resets it (the entry's profile, or no role) for users who still hold it. */
  private async changeUserField(kind: RoleKind, roleId: string, delta: MembershipDelta): Promise<void> {
    const field = kind.kind === 'Profile' ? 'ProfileId' : 'UserRoleId';
    const update = (ids: string[], value: string | null) =>
      chunk(ids, COLLECTION_SIZE).map((part) => ({
        method: 'PATCH',
        url: `${this.client.dataPath}/composite/sobjects`,
        body: { allOrNone: false, records: part.map((id) => ({ attributes: { type: 'User' }, id, [field]: value })) },
      }));
    await this.saveAll(update(delta.add, roleId), delta.add, new Set());
    if (delta.remove.length === 0) return;
    const fallback = kind.kind === 'Profile' ? await this.profileId(this.config.profile) : null;
    if (fallback === roleId) return;
    const holders = (
      await this.queryAll(
        chunk(delta.remove, COLLECTION_SIZE).map((ids) => `SELECT Id FROM User WHERE ${field} = ${soqlString(roleId)} AND ${soqlIn('Id', ids)}`),
      )
    ).map((record) => String(record.Id));
    await this.saveAll(update(holders, fallback), holders, new Set());
  }

  private async queryAll(queries: string[]): Promise<Json[]> {
    const answers = await this.composite(queries.map((soql) => ({ method: 'GET', url: `${this.client.dataPath}/query?q=${encodeURIComponent(soql)}` })));
    const records: Json[] = [];
    for (const answer of answers) {
      let page = (answer ?? {}) as Json;
      records.push(...((page.records as Json[] | undefined) ?? []));
      while (page.done === false && typeof page.nextRecordsUrl === 'string') {
        page = ((await this.client.expect('GET', page.nextRecordsUrl)) ?? {}) as Json;
        records.push(...((page.records as Json[] | undefined) ?? []));
      }
    }
    return records;
  }

  private async deleteAll(ids: string[]): Promise<void> {
    const deletes = chunk(ids, COLLECTION_SIZE).map((part) => ({
      method: 'DELETE',
      url: `${this.client.dataPath}/composite/sobjects?ids=${part.join(',')}&allOrNone=false`,
    }));
    await this.saveAll(deletes, ids, ALREADY_GONE);
  }

  /** Sends collection subrequests and fails with the records Salesforce refused (other than the `fine` codes). */
  private async saveAll(subrequests: Subrequest[], subjects: readonly string[], fine: ReadonlySet<string>): Promise<void> {
    if (subrequests.length === 0) return;
    const answers = await this.composite(subrequests);
    const results = answers.flatMap((answer) => (Array.isArray(answer) ? (answer as SaveResult[]) : []));
    const failed = results.flatMap((result, index) =>
      result.success || onlyCodes(result.errors, fine) ? [] : [{ subject: subjects[index], errors: result.errors ?? [] }],
    );
    if (failed.length === 0) return;
    const items = failed.flatMap(({ subject, errors }) =>
      errors.map((e) => ({ errorCode: e.statusCode, message: `${subject}: ${e.message}`, fields: e.fields })),
    );
    throw salesforceError(`${this.id}: ${failed.length} of ${results.length} records refused`, 400, items);
  }

  /**
   * Subrequests in composite requests of up to five collections or queries each: the whole
   * composite counts as one API call. `allOrNone: false` on purpose: each subrequest is
   * idempotent (a second assignment or a deletion of what is gone is fine), so one refused
   * record must not roll back the rest; the refusals are reported after the others are saved.
   */
  private async composite(subrequests: Subrequest[]): Promise<unknown[]> {
    const bodies: unknown[] = [];
    for (const part of chunk(subrequests, COLLECTION_SUBREQUESTS_PER_COMPOSITE)) {
      const answer = (await this.client.expect('POST', '/composite', {
        allOrNone: false,
        compositeRequest: part.map((sub, index) => ({ ...sub, referenceId: `part${index}` })),
      })) as { compositeResponse?: { body: unknown; httpStatusCode: number; referenceId: string }[] } | undefined;
      for (const [index, sub] of part.entries()) {
        const result = answer?.compositeResponse?.find((r) => r.referenceId === `part${index}`);
        if (!result) throw new ConnectorError('retryable', `${this.id}: the composite answer lacks subrequest ${index}`);
        if (result.httpStatusCode >= 400) throw this.client.failure(sub.method, sub.url, { status: result.httpStatusCode, body: result.body });
        bodies.push(result.body);
      }
    }
    return bodies;
  }
}

const credentialsOf = (config: SalesforceConnectorConfig): SalesforceCredentials => {
  if (config.auth.flow === 'jwt-bearer') {
    return { flow: 'jwt-bearer', clientId: config.clientId, subject: config.auth.subject, privateKey: secretSourceOf(config.auth.privateKey) };
  }
  if (!config.clientSecret) throw new ConnectorError('permanent', `${config.id}: the client credentials flow needs clientSecret`);
  return { flow: 'client-credentials', clientId: config.clientId, clientSecret: secretSourceOf(config.clientSecret) };
};

/** The connector of a document entry, with its client: built once per container, signed in on first use. */
export const createSalesforceConnector = (
  config: SalesforceConnectorConfig,
  options: { fetchImpl?: typeof fetch; now?: () => number } = {},
): SalesforceConnector =>
  new SalesforceConnector(
    config,
    new SalesforceClient({
      id: config.id,
      loginUrl: config.loginUrl,
      apiVersion: config.apiVersion,
      credentials: credentialsOf(config),
      allocation: config.allocation,
      ...options,
    }),
  );
