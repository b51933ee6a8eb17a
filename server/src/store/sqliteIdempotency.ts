import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { epochNow } from '../observability/clock.ts';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from './types.ts';

/** How long an answered key is remembered: the draft suggests at least 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1_000;
/** A claim still pending after this long belongs to a request that died with its process. */
export const IDEMPOTENCY_PENDING_STALE_MS = 5 * 60 * 1_000;

// Table `idempotency_keys` (migrations.ts). Its `key` is the scoped key's digest (scopedKey below),
// not the client's key: a record is found only from the scope (the client) that made it, and a run
// id, a capability, is not kept in the clear.

/** One record per client and key: SHA-256 of both (a NUL cannot occur in either: the scope is a run
 *  id or an address, and a key is printable ASCII), base64url. */
export function scopedKey(scope: string, key: string): string {
  return createHash('sha256').update(`${scope}\u0000${key}`).digest('base64url');
}

export function sqliteIdempotencyStore(
  db: Database.Database,
  now: () => number = epochNow,
): IdempotencyStore {
  const select = db.prepare<[string], { fingerprint: string; created_at: number; response: string | null }>(
    'SELECT fingerprint, created_at, response FROM idempotency_keys WHERE key = ?',
  );
  const insert = db.prepare('INSERT INTO idempotency_keys (key, fingerprint, created_at) VALUES (?, ?, ?)');
  const remove = db.prepare('DELETE FROM idempotency_keys WHERE key = ?');
  const finish = db.prepare('UPDATE idempotency_keys SET response = ? WHERE key = ?');

  // One transaction: two requests with the same key cannot both be told 'claimed'.
  const claim = db.transaction((key: string, fingerprint: string): IdempotencyClaim => {
    const at = now();
    const row = select.get(key);
    if (row) {
      const expired = at - row.created_at > IDEMPOTENCY_TTL_MS;
      const abandoned = row.response === null && at - row.created_at > IDEMPOTENCY_PENDING_STALE_MS;
      if (!expired && !abandoned) {
        if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
        if (row.response === null) return { kind: 'in-progress' };
        return { kind: 'replay', response: JSON.parse(row.response) as StoredResponse };
      }
      remove.run(key);
    }
    insert.run(key, fingerprint, at);
    return { kind: 'claimed' };
  });

  return {
    async claim(scope, key, fingerprint) {
      return claim(scopedKey(scope, key), fingerprint);
    },
    async complete(scope, key, response) {
      finish.run(JSON.stringify(response), scopedKey(scope, key));
    },
    async release(scope, key) {
      remove.run(scopedKey(scope, key));
    },
  };
}
