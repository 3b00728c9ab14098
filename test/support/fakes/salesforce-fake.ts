import { createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matches, parseSoql, SoqlError, type SoqlQuery } from './salesforce-soql.ts';

/**
 * A fake Salesforce org over real HTTP, enforcing the contract of ../shared/contracts/README.md
 * section 3 (Salesforce publishes no static OpenAPI description): the versioned data path, the
 * sObjects a provisioning connector uses with their required fields and types, global Username
 * uniqueness, users that are never deleted, error arrays, SOQL with `nextRecordsUrl` paging,
 * GroupMember and PermissionSetAssignment semantics, composite and sObject Collections
 * results, `Sforce-Limit-Info` on every answer with `REQUEST_LIMIT_EXCEEDED` past the rolling
 * 24-hour allocation or the concurrent long-running request limit, and sessions that expire.
 * One server is both the login host and the org's instance.
 */

type Json = Record<string, unknown>;
type FieldType = 'string' | 'boolean' | 'reference' | 'picklist';

interface FieldSpec {
  type: FieldType;
  required?: boolean;
  maxLength?: number;
  /** Objects a reference may point at. */
  to?: string[];
  values?: string[];
  /** Set by Salesforce, never by the client. */
  readOnly?: boolean;
}

interface ObjectSpec {
  prefix: string;
  fields: Record<string, FieldSpec>;
  create: boolean;
  update: boolean;
  delete: boolean;
}

const text = (maxLength: number, required = false): FieldSpec => ({ type: 'string', maxLength, required });

/** Object facts from the User, Group, GroupMember and PermissionSetAssignment references. */
const OBJECTS: Record<string, ObjectSpec> = {
  User: {
    prefix: '005',
    create: true,
    update: true,
    delete: false,
    fields: {
      Username: text(80, true),
      LastName: text(80, true),
      FirstName: text(40),
      Email: text(128, true),
      Alias: text(8, true),
      TimeZoneSidKey: text(40, true),
      LocaleSidKey: text(40, true),
      EmailEncodingKey: text(40, true),
      LanguageLocaleKey: text(40, true),
      ProfileId: { type: 'reference', required: true, to: ['Profile'] },
      UserRoleId: { type: 'reference', to: ['UserRole'] },
      FederationIdentifier: text(512),
      IsActive: { type: 'boolean' },
      Title: text(80),
      Department: text(80),
      CommunityNickname: text(40),
    },
  },
  Group: {
    prefix: '00G',
    create: true,
    update: true,
    delete: true,
    fields: {
      Name: text(40, true),
      DeveloperName: text(80),
      Type: { type: 'picklist', values: ['Regular', 'Role', 'RoleAndSubordinates', 'Organization', 'Queue'] },
    },
  },
  GroupMember: {
    prefix: '011',
    create: true,
    update: false,
    delete: true,
    fields: { GroupId: { type: 'reference', required: true, to: ['Group'] }, UserOrGroupId: { type: 'reference', required: true, to: ['User', 'Group'] } },
  },
  PermissionSetAssignment: {
    prefix: '0Pa',
    create: true,
    update: false,
    delete: true,
    fields: {
      AssigneeId: { type: 'reference', required: true, to: ['User'] },
      PermissionSetId: { type: 'reference', to: ['PermissionSet'] },
      PermissionSetGroupId: { type: 'reference', to: ['PermissionSetGroup'] },
    },
  },
  Profile: { prefix: '00e', create: false, update: false, delete: false, fields: { Name: text(255, true) } },
  UserRole: { prefix: '00E', create: false, update: false, delete: false, fields: { Name: text(80, true), DeveloperName: text(80, true) } },
  PermissionSet: { prefix: '0PS', create: false, update: false, delete: false, fields: { Name: text(80, true), Label: text(80, true) } },
  PermissionSetGroup: { prefix: '0PG', create: false, update: false, delete: false, fields: { DeveloperName: text(80, true), MasterLabel: text(80, true) } },
};

export interface SalesforceFakeOptions {
  /** Versions the org serves (`GET /services/data/`). */
  apiVersions?: string[];
  /** The org's rolling 24-hour API allocation (Developer Edition: 15,000). */
  dailyLimit?: number;
  /** Salesforce licences: active users beyond them fail with LICENSE_LIMIT_EXCEEDED. */
  licences?: number;
  clientId?: string;
  clientSecret?: string;
  /** JWT bearer flow: the certificate's public key and the user the connected app may act as. */
  jwt?: { publicKeyPem: string; subject: string };
  /** Usernames other orgs hold: Usernames are unique across every Salesforce org. */
  otherOrgUsernames?: string[];
  /** A request in flight this long is long-running (Salesforce: 20 s). */
  longRequestMs?: number;
  /** Concurrent long-running requests per org (production: 25). */
  maxConcurrentLong?: number;
  /** Records per query batch when the client asks for none (Salesforce: 2,000). */
  defaultBatchSize?: number;
  now?: () => number;
  seed?: { profiles?: string[]; permissionSets?: string[]; permissionSetGroups?: string[]; roles?: string[] };
}

export interface RecordedCall {
  method: string;
  path: string;
  /** Whether the call counted against the allocation. */
  counted: boolean;
  status: number;
  /** The JSON body sent, or the token request's grant type. */
  body?: unknown;
}

export interface SalesforceFake {
  /** The login URL and the instance URL alike. */
  url: string;
  calls: RecordedCall[];
  /** Calls counted against the allocation since the fake started (or `resetCalls`). */
  apiCalls(): number;
  resetCalls(): void;
  usage(): { used: number; limit: number };
  /** Counts `used` calls as made now, as other integrations of the org would. */
  useAllocation(used: number): void;
  /** Ends every session: the next data call answers 401 INVALID_SESSION_ID. */
  expireSessions(): void;
  /** Holds every answer until the returned function is called, to keep requests in flight. */
  hold(): () => void;
  /** Requests accepted and not yet answered. */
  inFlight(): number;
  records(object: string): Json[];
  record(object: string, id: string): Json | undefined;
  /** The id of a seeded Profile, PermissionSet, PermissionSetGroup or UserRole by its name. */
  idOf(object: 'Profile' | 'PermissionSet' | 'PermissionSetGroup' | 'UserRole', name: string): string;
  /** Adds active users straight into the org (validated like any create), as if made before the test; answers their ids. */
  seedUsers(usernames: string[]): string[];
  /** Removes a record as if it had never existed (for tests that need an id the org does not hold). */
  forget(object: string, id: string): void;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: { errorCode: string; message: string; fields?: string[] }[],
  ) {
    super(errors[0]?.message);
  }
}

const fail = (status: number, errorCode: string, message: string, fields?: string[]) =>
  new ApiError(status, [{ errorCode, message, ...(fields ? { fields } : {}) }]);

const NOT_FOUND = () => fail(404, 'NOT_FOUND', 'The requested resource does not exist');
const DAY_MS = 24 * 60 * 60 * 1000;
const ID_PATTERN = /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/;

/** The HTTP answer of one request inside the fake, before it goes on the wire (or into a composite answer). */
interface Answer {
  status: number;
  body?: unknown;
}

/** The connectors-document entry of a `salesforce` connector signed in to `fake` (as the minimal entry of issue 14), with `extra` fields. */
export const salesforceEntryFor = (fake: Pick<SalesforceFake, 'url'>, extra: Record<string, unknown> = {}) => ({
  id: 'sf',
  type: 'salesforce',
  enabled: true,
  loginUrl: fake.url,
  clientId: 'fake-consumer-key',
  clientSecret: 'fake-consumer-secret',
  profile: 'Standard User',
  usernameSuffix: '.acme',
  ...extra,
});

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return Object.fromEntries(new URLSearchParams(text));
  }
};

export const startSalesforceFake = async (options: SalesforceFakeOptions = {}): Promise<SalesforceFake> => {
  const versions = options.apiVersions ?? ['64.0', '65.0', '66.0'];
  const limit = options.dailyLimit ?? 15_000;
  const clientId = options.clientId ?? 'fake-consumer-key';
  const clientSecret = options.clientSecret ?? 'fake-consumer-secret';
  const now = options.now ?? Date.now;
  const longRequestMs = options.longRequestMs ?? 20_000;
  const maxConcurrentLong = options.maxConcurrentLong ?? 25;
  const defaultBatchSize = options.defaultBatchSize ?? 2000;
  const otherOrgs = new Set((options.otherOrgUsernames ?? []).map((u) => u.toLowerCase()));

  let store = new Map<string, Map<string, Json>>(Object.keys(OBJECTS).map((name) => [name, new Map()]));
  let counter = 0;
  const newId = (object: string) => {
    counter++;
    const spec = OBJECTS[object] as ObjectSpec;
    return `${spec.prefix}${String(counter).padStart(12, '0')}AAA`;
  };
  const table = (object: string) => store.get(object) as Map<string, Json>;
  const seed = (object: string, fields: Json) => {
    const id = newId(object);
    table(object).set(id, { Id: id, ...fields });
  };
  for (const name of options.seed?.profiles ?? ['Standard User', 'System Administrator', 'Chatter Free User']) seed('Profile', { Name: name });
  for (const name of options.seed?.permissionSets ?? ['Sales_Ops', 'Support_Agent']) seed('PermissionSet', { Name: name, Label: name.replace(/_/g, ' ') });
  for (const name of options.seed?.permissionSetGroups ?? ['Service_Bundle']) seed('PermissionSetGroup', { DeveloperName: name, MasterLabel: name });
  for (const name of options.seed?.roles ?? ['CEO', 'Sales_Manager']) seed('UserRole', { Name: name.replace(/_/g, ' '), DeveloperName: name });

  const tokens = new Set<string>();
  let tokenCounter = 0;
  /** Calls counted in the rolling window: [time, count]. */
  const window: [number, number][] = [];
  const used = () => {
    const since = now() - DAY_MS;
    while (window.length > 0 && (window[0] as [number, number])[0] <= since) window.shift();
    return window.reduce((sum, [, count]) => sum + count, 0);
  };
  const calls: RecordedCall[] = [];
  /** Requests being answered, with when each arrived. */
  const inFlight = new Map<object, number>();
  let gate: Promise<void> | undefined;
  const locators = new Map<string, Json[]>();

  // ---- validation of records -------------------------------------------------------------

  const checkValue = (object: string, field: string, spec: FieldSpec, value: unknown) => {
    if (value === null) {
      if (spec.required) throw fail(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${field}]`, [field]);
      return;
    }
    if (spec.readOnly) throw fail(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${field}.`, [field]);
    if (spec.type === 'boolean' && typeof value !== 'boolean') {
      throw fail(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of boolean from ${typeof value} value for field ${field}`);
    }
    if (spec.type !== 'boolean' && typeof value !== 'string') {
      throw fail(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of string from ${typeof value} value for field ${field}`);
    }
    if (spec.type === 'string' && spec.maxLength && (value as string).length > spec.maxLength) {
      throw fail(400, 'STRING_TOO_LONG', `${field}: data value too large: ${value} (max length=${spec.maxLength})`, [field]);
    }
    if (spec.type === 'picklist' && !spec.values?.includes(value as string)) {
      throw fail(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field}: bad value for restricted picklist field: ${value}`, [field]);
    }
    if (spec.type === 'reference') {
      if (!ID_PATTERN.test(value as string)) throw fail(400, 'MALFORMED_ID', `${field}: id value of incorrect type: ${value}`, [field]);
      if (!(spec.to ?? []).some((to) => table(to).has(value as string))) {
        throw fail(400, 'FIELD_INTEGRITY_EXCEPTION', `field integrity exception: unknown (${field}: id value of incorrect type or not found)`, [field]);
      }
    }
    if (object === 'User' && field === 'Email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value as string)) {
      throw fail(400, 'INVALID_EMAIL_ADDRESS', `Email: invalid email address: ${value}`, ['Email']);
    }
  };

  const checkFields = (object: string, fields: Json, creating: boolean) => {
    const spec = OBJECTS[object] as ObjectSpec;
    for (const [field, value] of Object.entries(fields)) {
      const fieldSpec = spec.fields[field];
      if (!fieldSpec) throw fail(400, 'INVALID_FIELD', `No such column '${field}' on sobject of type ${object}`, [field]);
      checkValue(object, field, fieldSpec, value);
    }
    if (creating) {
      const missing = Object.entries(spec.fields)
        .filter(([field, fieldSpec]) => fieldSpec.required && (fields[field] === undefined || fields[field] === null))
        .map(([field]) => field);
      if (missing.length > 0) throw fail(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    }
  };

  const activeUsers = (except?: string) => [...table('User').values()].filter((u) => u.IsActive !== false && u.Id !== except).length;

  /** The rules of each object beyond field types; answers the record as it will be stored. */
  const userRules = (id: string | undefined, merged: Json, changed: Json) => {
    if (typeof changed.Username === 'string') {
      const name = changed.Username.toLowerCase();
      const taken = otherOrgs.has(name) || [...table('User').values()].some((u) => u.Id !== id && String(u.Username).toLowerCase() === name);
      if (taken) {
        throw fail(
          400,
          'DUPLICATE_USERNAME',
          "Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must be unique across all Salesforce organizations. To resolve, use a different username (it doesn't need to match the user's email address).",
          ['Username'],
        );
      }
    }
    const activating = merged.IsActive !== false && (id === undefined || table('User').get(id)?.IsActive === false);
    if (activating && options.licences !== undefined && activeUsers(id) >= options.licences) {
      throw fail(400, 'LICENSE_LIMIT_EXCEEDED', 'License Limit Exceeded');
    }
  };

  const insert = (object: string, fields: Json): Answer => {
    const spec = OBJECTS[object];
    if (!spec) throw NOT_FOUND();
    if (!spec.create) throw fail(405, 'METHOD_NOT_ALLOWED', `HTTP Method 'POST' not allowed for ${object}`);
    checkFields(object, fields, true);
    if (object === 'User') userRules(undefined, fields, fields);
    if (object === 'Group') {
      const developerName = String(fields.DeveloperName ?? String(fields.Name).replace(/[^A-Za-z0-9]+/g, '_'));
      if ([...table('Group').values()].some((g) => g.DeveloperName === developerName)) {
        throw fail(400, 'DUPLICATE_DEVELOPER_NAME', 'This Group Name already exists or has been previously used. Please choose a different Group Name.', [
          'DeveloperName',
        ]);
      }
      fields = { Type: 'Regular', ...fields, DeveloperName: developerName };
    }
    if (object === 'GroupMember') {
      const group = table('Group').get(String(fields.GroupId));
      if (group?.Type !== 'Regular') throw fail(400, 'FIELD_INTEGRITY_EXCEPTION', 'Group Type must be Regular to add members directly', ['GroupId']);
      // A second GroupMember for the same pair answers the existing record (no error).
      const existing = [...table('GroupMember').values()].find((m) => m.GroupId === fields.GroupId && m.UserOrGroupId === fields.UserOrGroupId);
      if (existing) return { status: 201, body: { id: existing.Id, success: true, errors: [] } };
    }
    if (object === 'PermissionSetAssignment') {
      if ((fields.PermissionSetId === undefined) === (fields.PermissionSetGroupId === undefined)) {
        throw fail(400, 'FIELD_INTEGRITY_EXCEPTION', 'Specify exactly one of PermissionSetId or PermissionSetGroupId', ['PermissionSetId']);
      }
      const duplicate = [...table('PermissionSetAssignment').values()].some(
        (a) => a.AssigneeId === fields.AssigneeId && a.PermissionSetId === fields.PermissionSetId && a.PermissionSetGroupId === fields.PermissionSetGroupId,
      );
      if (duplicate)
        throw fail(400, 'DUPLICATE_VALUE', `duplicate value found: Assignee ${fields.AssigneeId} already holds this permission set`, ['AssigneeId']);
    }
    const id = newId(object);
    table(object).set(id, { Id: id, ...(object === 'User' ? { IsActive: true } : {}), ...fields });
    return { status: 201, body: { id, success: true, errors: [] } };
  };

  const update = (object: string, id: string, fields: Json): Answer => {
    const spec = OBJECTS[object];
    if (!spec) throw NOT_FOUND();
    if (!spec.update) throw fail(405, 'METHOD_NOT_ALLOWED', `HTTP Method 'PATCH' not allowed. Allowed are GET,HEAD,DELETE`);
    const existing = table(object).get(id);
    if (!existing) throw fail(404, 'NOT_FOUND', 'The requested resource does not exist');
    checkFields(object, fields, false);
    const merged = { ...existing, ...fields };
    if (object === 'User') userRules(id, merged, fields);
    table(object).set(id, merged);
    return { status: 204 };
  };

  const remove = (object: string, id: string): Answer => {
    const spec = OBJECTS[object];
    if (!spec) throw NOT_FOUND();
    if (!spec.delete) throw fail(405, 'METHOD_NOT_ALLOWED', `HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH`);
    if (!table(object).delete(id)) throw fail(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    if (object === 'Group')
      for (const [memberId, m] of table('GroupMember')) if (m.GroupId === id || m.UserOrGroupId === id) table('GroupMember').delete(memberId);
    return { status: 204 };
  };

  const objectOfId = (id: string) => Object.entries(OBJECTS).find(([name, spec]) => id.startsWith(spec.prefix) && table(name).has(id))?.[0];

  // ---- SOQL ------------------------------------------------------------------------------

  const project = (object: string, record: Json, fields: string[], version: string): Json => {
    const out: Json = { attributes: { type: object, url: `/services/data/v${version}/sobjects/${object}/${record.Id}` } };
    for (const field of fields) {
      const [lookup, sub] = field.split('.');
      if (sub) {
        const target = record[`${lookup}Id`];
        const related = typeof target === 'string' ? objectOfId(target) : undefined;
        const relatedRecord = related ? table(related).get(target as string) : undefined;
        out[lookup as string] = relatedRecord ? { attributes: { type: related }, [sub]: relatedRecord[sub] ?? null } : null;
      } else {
        out[field] = record[field] ?? null;
      }
    }
    return out;
  };

  const checkQueryFields = (query: SoqlQuery) => {
    const spec = OBJECTS[query.object];
    if (!spec) throw new SoqlError('INVALID_TYPE', `sObject type '${query.object}' is not supported.`);
    const known = (field: string) => {
      if (field === 'Id' || spec.fields[field]) return true;
      const [lookup, sub] = field.split('.');
      const reference = spec.fields[`${lookup}Id`];
      return reference?.type === 'reference' && sub === 'Name';
    };
    for (const field of [...query.fields, ...query.where.map((c) => c.field), ...(query.orderBy ? [query.orderBy.field] : [])]) {
      if (!known(field)) throw new SoqlError('INVALID_FIELD', `No such column '${field}' on entity '${query.object}'.`);
    }
  };

  const runQuery = (soql: string, version: string, batchSize: number): Answer => {
    let query: SoqlQuery;
    try {
      query = parseSoql(soql);
      checkQueryFields(query);
    } catch (error) {
      if (error instanceof SoqlError) throw fail(400, error.errorCode, error.message);
      throw error;
    }
    let rows = [...table(query.object).values()].filter((r) => matches(r, query.where));
    if (query.orderBy) {
      const { field, descending } = query.orderBy;
      rows.sort((a, b) => (String(a[field]) < String(b[field]) ? -1 : String(a[field]) > String(b[field]) ? 1 : 0) * (descending ? -1 : 1));
    }
    if (query.limit !== undefined) rows = rows.slice(0, query.limit);
    const projected = rows.map((r) => project(query.object, r, query.fields, version));
    return page(projected, 0, batchSize, version, undefined);
  };

  const page = (all: Json[], offset: number, batchSize: number, version: string, locator: string | undefined): Answer => {
    const records = all.slice(offset, offset + batchSize);
    const done = offset + records.length >= all.length;
    let nextRecordsUrl: string | undefined;
    if (!done) {
      const id = locator ?? `01g${String(++counter).padStart(12, '0')}AAA`;
      locators.set(id, all);
      nextRecordsUrl = `/services/data/v${version}/query/${id}-${offset + records.length}`;
    }
    return { status: 200, body: { totalSize: all.length, done, ...(nextRecordsUrl ? { nextRecordsUrl } : {}), records } };
  };

  const batchSizeOf = (headers: Record<string, string | undefined>) => {
    const match = /batchSize=(\d+)/.exec(headers['sforce-query-options'] ?? '');
    return match ? Math.max(200, Math.min(2000, Number(match[1]))) : defaultBatchSize;
  };

  // ---- collections and composite --------------------------------------------------------

  const saveError = (error: unknown) => {
    if (!(error instanceof ApiError)) throw error;
    return error.errors.map((e) => ({ statusCode: e.errorCode, message: e.message, fields: e.fields ?? [] }));
  };

  const collection = (method: string, query: URLSearchParams, body: unknown): Answer => {
    const snapshot = cloneStore();
    let results: Json[];
    let allOrNone: boolean;
    if (method === 'DELETE') {
      const ids = (query.get('ids') ?? '').split(',').filter(Boolean);
      if (ids.length === 0) throw fail(400, 'MISSING_ARGUMENT', 'ids parameter is required');
      if (ids.length > 200) throw fail(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call');
      allOrNone = query.get('allOrNone') === 'true';
      results = ids.map((id) => {
        const object = objectOfId(id);
        try {
          if (!object) throw fail(404, 'ENTITY_IS_DELETED', 'entity is deleted');
          remove(object, id);
          return { id, success: true, errors: [] };
        } catch (error) {
          return { id, success: false, errors: saveError(error) };
        }
      });
    } else {
      const request = body as { allOrNone?: unknown; records?: unknown } | undefined;
      if (!request || !Array.isArray(request.records)) throw fail(400, 'JSON_PARSER_ERROR', 'records is required and must be an array');
      if (request.records.length > 200) throw fail(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call');
      if (request.allOrNone !== undefined && typeof request.allOrNone !== 'boolean') throw fail(400, 'JSON_PARSER_ERROR', 'allOrNone must be a boolean');
      allOrNone = request.allOrNone === true;
      const types = new Set<string>();
      results = (request.records as unknown[]).map((raw) => {
        const record = (raw ?? {}) as Json;
        const type = (record.attributes as Json | undefined)?.type;
        if (typeof type !== 'string') throw fail(400, 'INVALID_TYPE', 'Each record needs attributes.type');
        types.add(type);
        if (types.size > 10) throw fail(400, 'INVALID_BATCH_REQUEST', 'A collection holds at most 10 types of record');
        const { attributes: _attributes, id, ...fields } = record;
        try {
          if (method === 'POST') {
            if (id !== undefined) throw fail(400, 'INVALID_FIELD', 'Record ID: cannot specify Id in an insert call', ['Id']);
            return insert(type, fields).body as Json;
          }
          if (typeof id !== 'string') throw fail(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
          update(type, id, fields);
          return { id, success: true, errors: [] };
        } catch (error) {
          return { success: false, errors: saveError(error) };
        }
      });
    }
    if (allOrNone && results.some((r) => r.success !== true)) {
      store = snapshot;
      results = results.map((r) =>
        r.success === true
          ? {
              id: r.id,
              success: false,
              errors: [
                {
                  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
                  fields: [],
                },
              ],
            }
          : r,
      );
    }
    return { status: 200, body: results };
  };

  const cloneStore = () => new Map([...store].map(([name, records]) => [name, new Map([...records].map(([id, r]) => [id, { ...r }]))]));

  const REFERENCE = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}/g;

  const composite = (body: unknown, version: string): Answer => {
    const request = body as { allOrNone?: unknown; compositeRequest?: unknown } | undefined;
    const subrequests = request?.compositeRequest;
    if (!Array.isArray(subrequests) || subrequests.length === 0) throw fail(400, 'JSON_PARSER_ERROR', 'compositeRequest is required');
    if (subrequests.length > 25) throw fail(400, 'INVALID_BATCH_REQUEST', 'Composite request can contain at most 25 subrequests');
    const seen = new Set<string>();
    let heavy = 0;
    for (const sub of subrequests as Json[]) {
      if (typeof sub.method !== 'string' || typeof sub.url !== 'string' || typeof sub.referenceId !== 'string' || !/^[A-Za-z0-9_]+$/.test(sub.referenceId)) {
        throw fail(400, 'JSON_PARSER_ERROR', 'Each subrequest needs method, url and an alphanumeric referenceId');
      }
      if (seen.has(sub.referenceId)) throw fail(400, 'DUPLICATE_VALUE', `Duplicate referenceId ${sub.referenceId}`);
      seen.add(sub.referenceId);
      const headers = Object.keys((sub.httpHeaders as Json | undefined) ?? {}).map((h) => h.toLowerCase());
      if (headers.some((h) => h === 'accept' || h === 'authorization' || h === 'content-type')) {
        throw fail(400, 'INVALID_HEADER_TYPE', 'Subrequests cannot set the Accept, Authorization or Content-Type header');
      }
      if (/\/query\b|\/composite\/sobjects/.test(sub.url)) heavy++;
    }
    if (heavy > 5) throw fail(400, 'INVALID_BATCH_REQUEST', 'Composite request can contain at most 5 query or sObject Collections subrequests');
    const allOrNone = request?.allOrNone === true;
    const snapshot = cloneStore();
    const results = new Map<string, Answer>();
    const failed = new Set<string>();
    const resolve = (value: unknown): unknown => {
      if (typeof value === 'string') {
        return value.replace(REFERENCE, (_, ref: string, path: string) => {
          if (failed.has(ref) || !results.has(ref))
            throw fail(400, 'PROCESSING_HALTED', `Invalid reference specified. No value for ${ref}${path} found in ${ref}.`);
          let current: unknown = results.get(ref)?.body;
          for (const part of path.match(/\.[A-Za-z0-9_]+|\[\d+\]/g) ?? []) {
            current = (current as Json | undefined)?.[part.startsWith('.') ? part.slice(1) : part.slice(1, -1)];
          }
          return String(current);
        });
      }
      if (Array.isArray(value)) return value.map(resolve);
      if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
      return value;
    };
    const answers: Json[] = [];
    let halted = false;
    for (const sub of subrequests as Json[]) {
      const referenceId = sub.referenceId as string;
      let answer: Answer;
      if (halted) {
        answer = {
          status: 400,
          body: [{ errorCode: 'PROCESSING_HALTED', message: 'The transaction was rolled back since another operation in the same transaction failed.' }],
        };
      } else {
        try {
          const url = resolve(sub.url) as string;
          answer = dataCall(String(sub.method).toUpperCase(), url, resolve(sub.body), {}, version, true);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          answer = { status: error.status, body: error.errors };
        }
      }
      results.set(referenceId, answer);
      if (answer.status >= 400) {
        failed.add(referenceId);
        if (allOrNone) halted = true;
      }
      answers.push({ body: answer.body ?? null, httpHeaders: {}, httpStatusCode: answer.status, referenceId });
    }
    if (allOrNone && failed.size > 0) {
      store = snapshot;
      for (const answer of answers) {
        if ((answer.httpStatusCode as number) < 400) {
          answer.httpStatusCode = 400;
          answer.body = [
            { errorCode: 'PROCESSING_HALTED', message: 'The transaction was rolled back since another operation in the same transaction failed.' },
          ];
        }
      }
    }
    return { status: 200, body: { compositeResponse: answers } };
  };

  // ---- routing ---------------------------------------------------------------------------

  /** One data call below `/services/data/vNN.N`; `inComposite` calls are not counted on their own. */
  const dataCall = (method: string, url: string, body: unknown, headers: Record<string, string | undefined>, version: string, inComposite: boolean): Answer => {
    const parsed = new URL(url, 'http://fake');
    const prefix = `/services/data/v${version}`;
    if (!parsed.pathname.startsWith(`${prefix}/`) && parsed.pathname !== prefix) throw NOT_FOUND();
    const path = parsed.pathname.slice(prefix.length);
    const segments = path.split('/').filter(Boolean);
    const [resource, a, b] = segments;
    if (resource === 'limits' && method === 'GET' && segments.length === 1) {
      const current = used();
      return { status: 200, body: { DailyApiRequests: { Max: limit, Remaining: Math.max(0, limit - current) } } };
    }
    if (resource === 'query' && method === 'GET') {
      if (a) {
        const [locator, offset] = a.split('-');
        const all = locators.get(locator ?? '');
        if (!all || segments.length > 2) throw fail(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
        return page(all, Number(offset), batchSizeOf(headers), version, locator);
      }
      const q = parsed.searchParams.get('q');
      if (!q) throw fail(400, 'MALFORMED_QUERY', 'q parameter is required');
      return runQuery(q, version, batchSizeOf(headers));
    }
    if (resource === 'composite' && !a && method === 'POST') {
      if (inComposite) throw fail(400, 'INVALID_BATCH_REQUEST', 'composite cannot nest');
      return composite(body, version);
    }
    if (resource === 'composite' && a === 'sobjects' && !b && ['POST', 'PATCH', 'DELETE'].includes(method))
      return collection(method, parsed.searchParams, body);
    if (resource === 'sobjects' && a && OBJECTS[a]) {
      if (segments.length === 2 && method === 'POST') {
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw fail(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
        return insert(a, body as Json);
      }
      if (segments.length === 3 && b) {
        if (method === 'GET') {
          const record = table(a).get(b);
          if (!record) throw NOT_FOUND();
          const fields = parsed.searchParams.get('fields')?.split(',') ?? ['Id', ...Object.keys((OBJECTS[a] as ObjectSpec).fields)];
          return { status: 200, body: project(a, record, fields, version) };
        }
        if (method === 'PATCH') {
          if (!body || typeof body !== 'object' || Array.isArray(body)) throw fail(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
          return update(a, b, body as Json);
        }
        if (method === 'DELETE') {
          if (!(OBJECTS[a] as ObjectSpec).delete) return remove(a, b);
          if (!table(a).has(b)) throw NOT_FOUND();
          return remove(a, b);
        }
        throw fail(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed`);
      }
    }
    throw NOT_FOUND();
  };

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const token = (form: URLSearchParams): Answer => {
    const grant = form.get('grant_type');
    const issue = () => {
      const accessToken = `00Dfake!${++tokenCounter}.${Math.random().toString(36).slice(2)}`;
      tokens.add(accessToken);
      return {
        status: 200,
        body: { access_token: accessToken, instance_url: fake.url, id: `${fake.url}/id/00Dfake/005fake`, token_type: 'Bearer', issued_at: String(now()) },
      };
    };
    if (grant === 'client_credentials') {
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
        return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
      }
      return issue();
    }
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && options.jwt) {
      const [header, claims, signature] = (form.get('assertion') ?? '').split('.');
      const valid =
        header !== undefined &&
        claims !== undefined &&
        signature !== undefined &&
        verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), createPublicKey(options.jwt.publicKeyPem), Buffer.from(signature, 'base64url'));
      const payload = valid ? (JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Json) : {};
      if (!valid || payload.iss !== clientId || payload.sub !== options.jwt.subject || payload.aud !== fake.url || Number(payload.exp) * 1000 < now()) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'invalid assertion' } };
      }
      return issue();
    }
    return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const ticket = {};
    inFlight.set(ticket, now());
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    let answer: Answer;
    let counted = false;
    let limitHeader = true;
    try {
      if (url.pathname === '/services/oauth2/token' && method === 'POST') {
        answer = token(new URLSearchParams(raw));
        limitHeader = false;
      } else if (url.pathname === '/services/data' || url.pathname === '/services/data/') {
        // The versions resource needs no session and counts against no limit.
        answer = { status: 200, body: versions.map((v) => ({ label: `v${v}`, url: `/services/data/v${v}`, version: v })) };
        limitHeader = false;
      } else {
        const version = /^\/services\/data\/v(\d+\.\d)(\/|$)/.exec(url.pathname)?.[1];
        if (!version || !versions.includes(version)) throw NOT_FOUND();
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) throw fail(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
        if (used() >= limit) throw fail(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
        const long = [...inFlight].filter(([other, since]) => other !== ticket && now() - since >= longRequestMs).length;
        if (long >= maxConcurrentLong) throw fail(403, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.');
        // Held requests stay in flight here, accepted but unanswered, like a slow transaction.
        if (gate) await gate;
        let body: unknown;
        if (raw) {
          try {
            body = JSON.parse(raw);
          } catch {
            throw fail(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body');
          }
        }
        counted = true;
        window.push([now(), 1]);
        answer = dataCall(method, `${url.pathname}${url.search}`, body, req.headers as Record<string, string | undefined>, version, false);
      }
    } catch (error) {
      if (!(error instanceof ApiError)) {
        answer = { status: 500, body: [{ errorCode: 'UNKNOWN_EXCEPTION', message: String(error) }] };
      } else {
        answer = { status: error.status, body: error.errors };
      }
    } finally {
      inFlight.delete(ticket);
    }
    calls.push({ method, path: url.pathname, counted, status: answer.status, ...(raw ? { body: safeJson(raw) } : {}) });
    const headers: Record<string, string> = {};
    if (answer.body !== undefined) headers['content-type'] = 'application/json;charset=UTF-8';
    if (limitHeader) headers['sforce-limit-info'] = `api-usage=${used()}/${limit}`;
    res.writeHead(answer.status, headers);
    res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: SalesforceFake = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    apiCalls: () => calls.filter((c) => c.counted).length,
    resetCalls: () => {
      calls.length = 0;
    },
    usage: () => ({ used: used(), limit }),
    useAllocation: (count) => {
      window.push([now(), count]);
    },
    expireSessions: () => tokens.clear(),
    hold: () => {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
    inFlight: () => inFlight.size,
    records: (object) => [...table(object).values()].map((r) => ({ ...r })),
    record: (object, id) => {
      const found = table(object).get(id);
      return found ? { ...found } : undefined;
    },
    idOf: (object, name) => {
      const field = object === 'PermissionSetGroup' || object === 'UserRole' ? 'DeveloperName' : 'Name';
      const found = [...table(object).values()].find((r) => r[field] === name);
      if (!found) throw new Error(`the fake org has no ${object} ${name}`);
      return String(found.Id);
    },
    seedUsers: (usernames) =>
      usernames.map((username) => {
        const answer = insert('User', {
          Username: username,
          LastName: 'Seeded',
          Email: 'seeded@example.com',
          Alias: 'seeded',
          TimeZoneSidKey: 'America/Los_Angeles',
          LocaleSidKey: 'en_US',
          EmailEncodingKey: 'UTF-8',
          LanguageLocaleKey: 'en_US',
          ProfileId: fake.idOf('Profile', 'Standard User'),
        });
        return String((answer.body as Json).id);
      }),
    forget: (object, id) => {
      table(object).delete(id);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return fake;
};
