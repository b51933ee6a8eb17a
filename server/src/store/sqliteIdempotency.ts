import type Database from 'better-sqlite3';
import { epochNow } from '../observability/clock.ts';
import { IDEMPOTENCY_LIFETIMES, type IdempotencyLifetimes, scopedKey } from './idempotency.ts';
import type { IdempotencyStore, StoredResponse } from './types.ts';
import { createWriteBatch, type WriteBatch } from './writeBatch.ts';

// Table `idempotency_keys` (migrations.ts). Its `key` is the scoped key's digest (idempotency.ts).

/** A key's record as the store knows it: `response` null while its request is being handled. */
interface KeyRecord {
  fingerprint: string;
  created_at: number;
  response: string | null;
}

/**
 * Keys in the shared database, written with the task's own rows in the turn's one transaction
 * (writeBatch.ts). A claim and its answer used to be a transaction of their own each, two commits per
 * `POST /api/tasks` on the event loop: in a CPU profile of 4 000 creates the largest item after the
 * task's own write (docs/benchmarks.md, "Capacity"). A claim is still decided at once and atomically:
 * this process alone writes the file, and what it has queued but not yet committed is kept in
 * `unwritten`, read before the table, so a second request with the same key in the same turn sees the
 * first one's claim. The claim commits in the same batch as the task it creates, or an earlier one;
 * the answer is committed before it is sent (`complete` resolves after the commit).
 */
export function sqliteIdempotencyStore(
  db: Database.Database,
  batch: WriteBatch = createWriteBatch(db),
  now: () => number = epochNow,
  { ttlMs, pendingStaleMs }: IdempotencyLifetimes = IDEMPOTENCY_LIFETIMES,
): IdempotencyStore {
  const select = db.prepare<[string], KeyRecord>(
    'SELECT fingerprint, created_at, response FROM idempotency_keys WHERE key = ?',
  );
  // A key whose record has expired (or whose claim was abandoned) is claimed afresh in place.
  const upsert = db.prepare(
    `INSERT INTO idempotency_keys (key, fingerprint, created_at, response) VALUES (?, ?, ?, NULL)
     ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at,
     response = NULL`,
  );
  const remove = db.prepare('DELETE FROM idempotency_keys WHERE key = ?');
  const finish = db.prepare('UPDATE idempotency_keys SET response = ? WHERE key = ?');

  /** Queued, not yet committed: the latest record of each key (null: deleted). */
  const unwritten = new Map<string, KeyRecord | null>();
  const write = (key: string, record: KeyRecord | null, statement: () => void): Promise<void> => {
    unwritten.set(key, record);
    const settled = () => {
      // A later write of the same key keeps its own entry until it commits in turn.
      if (unwritten.get(key) === record) unwritten.delete(key);
    };
    return batch.enqueue(statement).finally(settled);
  };
  const recordOf = (key: string): KeyRecord | undefined => {
    const pending = unwritten.get(key);
    if (pending !== undefined) return pending ?? undefined;
    return select.get(key);
  };

  return {
    async claim(scope, clientKey, fingerprint) {
      const key = scopedKey(scope, clientKey);
      const at = now();
      const row = recordOf(key);
      if (row) {
        const expired = at - row.created_at > ttlMs;
        const abandoned = row.response === null && at - row.created_at > pendingStaleMs;
        if (!expired && !abandoned) {
          if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
          if (row.response === null) return { kind: 'in-progress' };
          return { kind: 'replay', response: JSON.parse(row.response) as StoredResponse };
        }
      }
      // Not awaited: the claim holds from now in `unwritten`, and it commits no later than the task.
      void write(key, { fingerprint, created_at: at, response: null }, () =>
        upsert.run(key, fingerprint, at),
      ).catch(() => {});
      return { kind: 'claimed' };
    },
    async complete(scope, clientKey, response) {
      const key = scopedKey(scope, clientKey);
      const claimed = recordOf(key);
      const json = JSON.stringify(response);
      const record = {
        fingerprint: claimed?.fingerprint ?? '',
        created_at: claimed?.created_at ?? now(),
        response: json,
      };
      await write(key, record, () => finish.run(json, key));
    },
    async release(scope, clientKey) {
      const key = scopedKey(scope, clientKey);
      await write(key, null, () => remove.run(key));
    },
  };
}
