/**
 * The directory's contract with its callers: the limits it advertises and enforces, its
 * dependencies, and the shapes of requests and results.
 */
import type { DirectoryStore, ResourceType, ScimJson, WriteOrigin } from './directory.ports.ts';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** Limits the service advertises in /ServiceProviderConfig and enforces. */
export const DIRECTORY_LIMITS = {
  /** `count` beyond this is lowered to it (RFC 7644 section 3.4.2.4 lets the server do so). */
  maxResults: 1000,
  defaultCount: 100,
  /** A filter no index can answer is evaluated over at most this many resources, else 400 tooMany. */
  maxScanned: 10_000,
  /**
   * A group with more members than this is returned without `members` (and with `memberCount`
   * in the hub extension): 100 000 members do not fit in a 6 MB Lambda response. Members of
   * any group page through `GET /Users?filter=groups.value eq "<group id>"`.
   */
  maxInlineMembers: 10_000,
  /** Members added or removed per store call. */
  memberChunk: 1000,
  /**
   * Email addresses per user. Each is an index item written in the same DynamoDB transaction as
   * the user (at most 100 items, and a change removes old ones and adds new ones), so more would
   * fail in DynamoDB instead of answering 400.
   */
  maxEmails: 40,
  /**
   * The stored size of one resource, measured as its JSON. DynamoDB refuses items over 400 KB
   * (attribute names count too); this leaves room for the keys and the item's other attributes.
   */
  maxResourceBytes: 350_000,
  /**
   * Members a PUT or a `replace`/`remove` of all members may take away or add in one request:
   * a diff larger than this would not finish inside API Gateway's 29 s. Larger changes go as
   * several PATCH add/remove requests.
   */
  maxMemberDiff: 20_000,
  /**
   * What the member lists in one response may cost, in bytes of the Lambda response (the JSON
   * body inside the JSON envelope, with its escaped quotes). Lambda's limit is 6 MB; the rest of
   * the page gets the remaining 2 MB. Groups beyond the budget come without `members`, marked
   * `membersOmitted` like groups above `maxInlineMembers`.
   */
  memberBytesPerResponse: 4_000_000,
} as const;

/**
 * The limits a deployment may lower (tests do, to reach them with a handful of resources).
 * `maxResults` and `defaultCount` are not among them: /ServiceProviderConfig advertises those.
 */
export interface AdjustableLimits {
  maxScanned?: number;
  maxInlineMembers?: number;
  memberBytesPerResponse?: number;
}

export const HUB_GROUP_EXTENSION = 'urn:ietf:params:scim:schemas:extension:hub:2.0:Group';

export interface DirectoryDeps {
  store: DirectoryStore;
  clock: () => Date;
  newId: () => string;
  /** Where ignored unknown attributes are reported (logged, by default). */
  onUnknownAttributes: (resourceType: ResourceType, names: string[]) => void;
  /** Overrides of DIRECTORY_LIMITS; the defaults apply to what is not given. */
  limits?: AdjustableLimits;
}

export interface RequestContext {
  baseUrl: string;
  strictUnknownAttributes: boolean;
  /** Set by callers that are not SCIM clients (an import): stamped on what the request writes. */
  origin?: WriteOrigin;
}

export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

export interface ListQuery extends Projection {
  filter?: string;
  startIndex?: number;
  count?: number;
  /** RFC 9865: present (possibly empty) when the client pages by cursor. */
  cursor?: string;
  sortBy?: string;
  sortOrder?: 'ascending' | 'descending';
}

export interface ResourceResult {
  resource: ScimJson;
  version: number;
}

/** The adjustable limits with the defaults filled in. */
export type DirectoryLimits = Required<AdjustableLimits>;

export const resolveLimits = (limits: AdjustableLimits | undefined): DirectoryLimits => ({
  maxScanned: limits?.maxScanned ?? DIRECTORY_LIMITS.maxScanned,
  maxInlineMembers: limits?.maxInlineMembers ?? DIRECTORY_LIMITS.maxInlineMembers,
  memberBytesPerResponse: limits?.memberBytesPerResponse ?? DIRECTORY_LIMITS.memberBytesPerResponse,
});
