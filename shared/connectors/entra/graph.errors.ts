import { ConnectorError, type FailureKind, kindOfStatus, parseRetryAfter } from '../connector.errors.ts';

type Json = Record<string, unknown>;

/** One entry of a Graph error's `details` (https://learn.microsoft.com/graph/errors). */
export interface GraphErrorDetail {
  code?: string;
  target?: string;
  message?: string;
}

/**
 * A Microsoft Graph error, with the envelope's `code` kept: callers branch on `graphCode` and
 * `details`, never on `message`, as Microsoft asks (the messages change).
 */
export class GraphError extends ConnectorError {
  readonly graphCode: string | undefined;
  readonly details: GraphErrorDetail[];

  constructor(
    kind: FailureKind,
    message: string,
    options: { status: number; graphCode?: string; details?: GraphErrorDetail[]; retryAfterMs?: number; cause?: unknown },
  ) {
    super(kind, message, { status: options.status, retryAfterMs: options.retryAfterMs, cause: options.cause });
    this.graphCode = options.graphCode;
    this.details = options.details ?? [];
  }
}

/**
 * The Microsoft Graph application permission an operation needs, named in the error when the
 * tenant has not granted it (`Authorization_RequestDenied`). Reads name the narrower permission.
 */
export const permissionFor = (method: string, path: string): string => {
  const write = method !== 'GET';
  const route = path.replace(/^https?:\/\/[^/]+\/[^/]+/, '').split('?')[0] ?? '';
  if (/^\/groups\/[^/]+\/appRoleAssignments/.test(route)) return 'AppRoleAssignment.ReadWrite.All';
  if (/^\/groups\/[^/]+\/members/.test(route)) return write ? 'GroupMember.ReadWrite.All' : 'GroupMember.Read.All';
  if (route.startsWith('/groups')) return write ? 'Group.ReadWrite.All' : 'Group.Read.All';
  if (route.startsWith('/directory/deletedItems')) return 'User.ReadWrite.All';
  return write ? 'User.ReadWrite.All' : 'User.Read.All';
};

/** A 400 that says the object exists (duplicate userPrincipalName, mailNickname...): `ObjectConflict` in `details`. */
export const isObjectConflict = (error: unknown): error is GraphError =>
  error instanceof GraphError && error.status === 400 && error.details.some((detail) => detail.code === 'ObjectConflict');

/** Codes of Graph's synchronization reset: the delta link's round is forgotten (expired, or the tenant's sync state reset). */
const SYNC_RESET = /^(syncStateNotFound|syncStateInvalid|resync\w*)$/i;

/** Graph refused a delta link: 410 Gone, or a sync state error (400 `syncStateNotFound` once a link is older than 7 days). */
export const isDeltaRefused = (error: unknown): error is GraphError =>
  error instanceof GraphError && (error.status === 410 || SYNC_RESET.test(error.graphCode ?? ''));

/** Header lookup over the plain objects `$batch` items carry (names are case-insensitive). */
export const headerOf = (headers: Record<string, string> | undefined, name: string): string | undefined => {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
};

/**
 * A Graph answer that is not a success, as a ConnectorError of the right kind:
 * - 429, and 503 with a Retry-After, are `throttled` with the wait Graph asked for;
 * - 400 with an `ObjectConflict` detail (the userPrincipalName is taken) is a `conflict`;
 * - 403 `Authorization_RequestDenied` is `permanent`, naming the permission to grant: a retry
 *   cannot succeed until an administrator consents, and the breaker is for credentials;
 * - otherwise by status (kindOfStatus).
 */
export const graphErrorOf = (
  answer: { status: number; body: unknown; retryAfter?: string | null },
  context: { connectorId: string; method: string; path: string },
): GraphError => {
  const envelope = ((answer.body as Json | undefined)?.error ?? {}) as Json;
  const graphCode = typeof envelope.code === 'string' ? envelope.code : undefined;
  const text = typeof envelope.message === 'string' ? envelope.message : typeof answer.body === 'string' ? answer.body.slice(0, 300) : '';
  const details = Array.isArray(envelope.details) ? (envelope.details as GraphErrorDetail[]) : [];
  const retryAfterMs = parseRetryAfter(answer.retryAfter ?? undefined);
  const where = `${context.connectorId}: ${context.method} ${context.path.split('?')[0]} answered ${answer.status}${graphCode ? ` ${graphCode}` : ''}`;
  let kind = kindOfStatus(answer.status);
  let message = `${where}: ${text}`;
  if (answer.status === 503 && retryAfterMs !== undefined) kind = 'throttled';
  if (answer.status === 400 && details.some((detail) => detail.code === 'ObjectConflict')) kind = 'conflict';
  if (answer.status === 403 && graphCode === 'Authorization_RequestDenied') {
    kind = 'permanent';
    const permission = permissionFor(context.method, context.path);
    message = `${where}: the app registration lacks the Microsoft Graph application permission ${permission} (grant it and give admin consent): ${text}`;
  }
  return new GraphError(kind, message, { status: answer.status, graphCode, details, retryAfterMs });
};
