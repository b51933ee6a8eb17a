import { createHash } from 'node:crypto';

/** How long an answered key is remembered: the draft suggests at least 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1_000;
/** A claim still pending after this long belongs to a request that died with its process. */
export const IDEMPOTENCY_PENDING_STALE_MS = 5 * 60 * 1_000;

/** The two lifetimes above, as a store is given them (tests shorten them to wait them out). */
export interface IdempotencyLifetimes {
  /** An answered key is forgotten this long after its claim (SQLite) or its answer (Redis). */
  ttlMs: number;
  /** A claim never answered may be claimed again after this long. */
  pendingStaleMs: number;
}

export const IDEMPOTENCY_LIFETIMES: IdempotencyLifetimes = {
  ttlMs: IDEMPOTENCY_TTL_MS,
  pendingStaleMs: IDEMPOTENCY_PENDING_STALE_MS,
};

/** One record per client and key: SHA-256 of both (a NUL cannot occur in either: the scope is a run
 *  id or an address, and a key is printable ASCII), base64url. Stores keep this digest, not the
 *  client's key: a record is found only from the scope (the client) that made it, and a run id, a
 *  capability, is not kept in the clear. */
export function scopedKey(scope: string, key: string): string {
  return createHash('sha256').update(`${scope}\u0000${key}`).digest('base64url');
}
