import { ConnectorError, type FailureKind, kindOfStatus } from '../connector.errors.ts';

/** One entry of Salesforce's error array (REST API Developer Guide, "Status Codes and Error Responses"). */
export interface SalesforceErrorItem {
  message: string;
  errorCode: string;
  fields?: string[];
}

/** A SaveResult's error inside an sObject Collections answer names its code `statusCode`. */
export interface SaveResultError {
  statusCode: string;
  message: string;
  fields?: string[];
}

const CONFLICTS = new Set(['DUPLICATE_USERNAME', 'DUPLICATE_VALUE', 'DUPLICATE_DEVELOPER_NAME']);
/** The request itself is wrong for this org: sending it again cannot help. */
const FIELD_ERRORS = new Set(['REQUIRED_FIELD_MISSING', 'INVALID_FIELD', 'FIELD_INTEGRITY_EXCEPTION', 'INVALID_FIELD_FOR_INSERT_UPDATE', 'STRING_TOO_LONG']);
const RETRYABLE = new Set(['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'REQUEST_RUNNING_TOO_LONG']);
const GONE = new Set(['NOT_FOUND', 'ENTITY_IS_DELETED']);

/** The error array of an answer's body, whatever shape it came in. */
export const errorItemsOf = (body: unknown): SalesforceErrorItem[] => {
  const list = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : [];
  return list.flatMap((item) => {
    if (!item || typeof item !== 'object') return [];
    const record = item as Record<string, unknown>;
    const errorCode = String(record.errorCode ?? record.statusCode ?? record.error ?? 'UNKNOWN');
    const message = String(record.message ?? record.error_description ?? '');
    const fields = Array.isArray(record.fields) ? record.fields.map(String) : undefined;
    return [{ errorCode, message, ...(fields && fields.length > 0 ? { fields } : {}) }];
  });
};

const kindOf = (status: number, code: string): FailureKind => {
  if (code === 'REQUEST_LIMIT_EXCEEDED') return 'throttled';
  if (code === 'INVALID_SESSION_ID') return 'unauthorized';
  if (CONFLICTS.has(code)) return 'conflict';
  if (FIELD_ERRORS.has(code) || code === 'LICENSE_LIMIT_EXCEEDED') return 'permanent';
  if (RETRYABLE.has(code)) return 'retryable';
  if (GONE.has(code) && status === 404) return 'notFound';
  return kindOfStatus(status);
};

const describe = (item: SalesforceErrorItem): string => {
  if (item.errorCode === 'LICENSE_LIMIT_EXCEEDED') return `no licences left: ${item.message}`;
  const fields = item.fields?.length ? ` (field ${item.fields.join(', ')})` : '';
  return `${item.errorCode}${fields}: ${item.message}`;
};

/**
 * The ConnectorError for a Salesforce error answer, by its first error code: DUPLICATE_USERNAME
 * is a conflict; REQUIRED_FIELD_MISSING, INVALID_FIELD and FIELD_INTEGRITY_EXCEPTION are
 * permanent and name the field; LICENSE_LIMIT_EXCEEDED is permanent and says no licences are
 * left; REQUEST_LIMIT_EXCEEDED is throttling (`retryAfterMs`: when the connector looks again,
 * since Salesforce sends no Retry-After); INVALID_SESSION_ID is unauthorized.
 */
export const salesforceError = (context: string, status: number, body: unknown, retryAfterMs?: number): ConnectorError => {
  const items = errorItemsOf(body);
  const first = items[0] ?? { errorCode: `HTTP_${status}`, message: '' };
  const kind = kindOf(status, first.errorCode);
  const text = items.length > 0 ? items.map(describe).join('; ') : `answered ${status}`;
  return new ConnectorError(kind, `${context}: ${text}`, { status, ...(kind === 'throttled' && retryAfterMs !== undefined ? { retryAfterMs } : {}) });
};

/** Whether every error of a failed record means "the record is already as wanted". */
export const onlyCodes = (errors: readonly SaveResultError[] | undefined, codes: ReadonlySet<string>): boolean =>
  (errors ?? []).length > 0 && (errors ?? []).every((error) => codes.has(error.statusCode));
