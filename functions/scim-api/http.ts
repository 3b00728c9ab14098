import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { SCIM_CONTENT_TYPE } from '#shared/topology/gateway-responses.ts';
import { ScimError, scimErrors } from '#shared/scim/errors.ts';

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
  value === undefined ? undefined : value.split(',').map((part) => part.trim()).filter((part) => part !== '');

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
export const jsonBody = (event: APIGatewayProxyEvent, maxBytes: number): unknown => {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw scimErrors.payloadTooLarge(`The request body is larger than the maximum of ${maxBytes} bytes`);
  }
  if (text.trim() === '') throw scimErrors.invalidSyntax('The request has no body');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ScimError(400, 'invalidSyntax', `The request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
};

export const scimResponse = (statusCode: number, body?: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
  statusCode,
  headers: { ...(body === undefined ? {} : { 'Content-Type': CONTENT_TYPE }), ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});

export const errorResponse = (error: ScimError): APIGatewayProxyResult => scimResponse(error.status, error.toBody());
