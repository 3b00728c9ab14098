import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SCIM bearer tokens. A token is `scim_<id>_<secret>`; only its SHA-256 is stored, so a leaked
 * table does not leak usable tokens. The id part lets operators name a token without its secret.
 */
export interface IssuedToken {
  id: string;
  token: string;
  hash: string;
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const issueToken = (): IssuedToken => {
  const id = `tok${randomBytes(6).toString('hex')}`;
  const token = `scim_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
};

/** The token from an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750). */
export const bearerTokenFrom = (header: string | undefined): string | undefined => {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
};

/** Constant-time comparison of a presented token with an expected one. */
export const sameToken = (presented: string, expected: string): boolean => {
  const a = Buffer.from(hashToken(presented), 'hex');
  const b = Buffer.from(hashToken(expected), 'hex');
  return timingSafeEqual(a, b);
};

/** What a token allows, as the authorizer passes it to the SCIM handler. */
export interface TokenGrant {
  tokenId: string;
  /** Reject unknown attributes with 400 instead of ignoring and logging them. */
  strictUnknownAttributes: boolean;
}
