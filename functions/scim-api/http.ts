import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { SCIM_CONTENT_TYPE } from '#shared/topology/gateway-responses.ts';
import { ScimError, scimErrors } from '#shared/scim/errors.ts';
import { jsonDepth } from '#shared/scim/json.ts';

/** RFC 7644 section 3.1: responses are `application/scim+json`. */
const CONTENT_TYPE = `${SCIM_CONTENT_TYPE}; charset=utf-8`;

export const header = (event: APIGatewayProxyEvent, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted) return value ?? undefined;
  return undefined;
};

export const query = (event: APIGatewayProxyEvent, name: string): string | undefined => {
  const params = event.queryStringParameters ?? {};
  // Parameter names are case-insensitive in practice: Entra ID sends `excludedAttributes`, some tools `excludedattributes`.
  const key = Object.keys(params).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (params[key] ?? undefined);
};

export const listParam = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');

export const integerParam = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number)) throw scimErrors.invalidValue(`${name} must be an integer, not "${value}"`);
  return number;
};

/**
 * The request body as JSON. SCIM clients send `application/scim+json`, `application/json`, or
 * (Okta's 2016 tests) no Content-Type at all: all of them are parsed. Bodies larger than the
 * advertised maxPayloadSize are refused with 413 before parsing.
 */
/**
 * SCIM resources nest a few levels (extension, complex attribute, sub-attribute); a PatchOp or a
 * Bulk request adds a few more. Anything deeper is refused before any recursive code sees it.
 */
export const MAX_JSON_DEPTH = 32;

export const jsonBody = (event: APIGatewayProxyEvent, maxBytes: number, options: { maxDepth?: number } = {}): unknown => {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw scimErrors.payloadTooLarge(`The request body is larger than the maximum of ${maxBytes} bytes`);
  }
  if (text.trim() === '') throw scimErrors.invalidSyntax('The request has no body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new ScimError(400, 'invalidSyntax', `The request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  if (jsonDepth(parsed, maxDepth) > maxDepth) throw scimErrors.invalidSyntax(`The request body nests deeper than ${maxDepth} levels`);
  return parsed;
};

export const scimResponse = (statusCode: number, body?: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
  statusCode,
  headers: { ...(body === undefined ? {} : { 'Content-Type': CONTENT_TYPE }), ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});

export const errorResponse = (error: ScimError): APIGatewayProxyResult => scimResponse(error.status, error.toBody());
