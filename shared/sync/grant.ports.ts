/**
 * Temporary access: an operator gives one hub user access to one connector until a time, even
 * outside the connector's scope (`ops provision --until 2h`). The grant is an item with a TTL;
 * when it goes (expired and swept, TTL-deleted, or revoked) the table's stream carries the
 * removal to the connector's lane and the user's next sync deprovisions them.
 *
 * Expiry is decided by `expiresAt`, never by the item's presence: DynamoDB deletes expired
 * items only within days, so the planner treats a grant past its time as absent, and the
 * `grant-expiry` function sweeps expired grants every minute so the removal reaches the target
 * on time.
 */
export interface AccessGrant {
  connectorId: string;
  userId: string;
  /** The user's userName when granted, for people reading the list. */
  userName?: string;
  /** ISO time the access ends. */
  expiresAt: string;
  grantedAt: string;
}

export interface GrantReader {
  get(connectorId: string, userId: string): Promise<AccessGrant | undefined>;
}

export interface GrantStore extends GrantReader {
  /** Writes (or extends) the grant. */
  put(grant: AccessGrant): Promise<void>;
  /** Removes the grant; no error when there is none. */
  delete(connectorId: string, userId: string): Promise<void>;
  /** Grants of one connector, or of all, soonest to expire first, expired ones included. */
  list(connectorId?: string): Promise<AccessGrant[]>;
  /** Up to `limit` grants whose `expiresAt` is at or before `now`. */
  expiredAt(now: Date, limit: number): Promise<AccessGrant[]>;
  /**
   * Deletes the grant only if it still ends at `expiresAt` (an operator may have extended it
   * meanwhile); returns whether it was deleted.
   */
  deleteIfUnchanged(grant: AccessGrant): Promise<boolean>;
}
