import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { IDEMPOTENCY_TTL_MS, scopedKey } from './idempotency.ts';
import { openSqliteDatabase, SQLITE_FILE_NAME } from './sqlite.ts';
import { sqliteIdempotencyStore } from './sqliteIdempotency.ts';
import type { StoredResponse } from './types.ts';
import { createWriteBatch } from './writeBatch.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** The store on a batch, a clock the test moves, and a second connection that sees only commits. */
function setup() {
  const dir = tempDataDir();
  const db = openSqliteDatabase(dir);
  let now = 1_000;
  const batch = createWriteBatch(db);
  const store = sqliteIdempotencyStore(db, batch, () => now);
  const reader = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => db.close());
  cleanups.push(() => reader.close());
  const committed = (scope: string, key: string) =>
    reader
      .prepare<[string], { response: string | null }>('SELECT response FROM idempotency_keys WHERE key = ?')
      .get(scopedKey(scope, key));
  return { store, batch, committed, advance: (ms: number) => (now += ms) };
}

const answer: StoredResponse = { status: 202, headers: { location: '/api/tasks/t1' }, body: { task: 't1' } };

describe('idempotency keys in the write batch', () => {
  it('holds a claim from the moment it is made, before its batch commits: a second request in the same turn is told in-progress', async () => {
    const { store, committed, batch } = setup();
    expect(await store.claim('client', 'k', 'f')).toEqual({ kind: 'claimed' });
    expect(committed('client', 'k')).toBeUndefined();
    expect(await store.claim('client', 'k', 'f')).toEqual({ kind: 'in-progress' });
    expect(await store.claim('client', 'k', 'other')).toEqual({ kind: 'mismatch' });
    batch.flush();
    expect(committed('client', 'k')).toEqual({ response: null });
  });

  it('commits the answer before complete resolves, and replays it afterwards', async () => {
    const { store, committed } = setup();
    await store.claim('client', 'k', 'f');
    await store.complete('client', 'k', answer);
    expect(JSON.parse(committed('client', 'k')?.response ?? 'null')).toEqual(answer);
    expect(await store.claim('client', 'k', 'f')).toEqual({ kind: 'replay', response: answer });
    // Another client's same key is its own.
    expect(await store.claim('other client', 'k', 'f')).toEqual({ kind: 'claimed' });
  });

  it('a released key may be claimed again, at once and after its deletion commits', async () => {
    const { store, committed } = setup();
    await store.claim('client', 'k', 'f');
    const released = store.release('client', 'k');
    expect(await store.claim('client', 'k', 'f2')).toEqual({ kind: 'claimed' });
    await released;
    await store.complete('client', 'k', answer);
    expect(committed('client', 'k')).toBeDefined();
    expect(await store.claim('client', 'k', 'f2')).toEqual({ kind: 'replay', response: answer });
  });

  it('an expired record is claimed afresh in place', async () => {
    const { store, committed, advance } = setup();
    await store.claim('client', 'k', 'f');
    await store.complete('client', 'k', answer);
    advance(IDEMPOTENCY_TTL_MS + 1);
    expect(await store.claim('client', 'k', 'new body')).toEqual({ kind: 'claimed' });
    await store.complete('client', 'k', { ...answer, status: 200 });
    expect(JSON.parse(committed('client', 'k')?.response ?? 'null').status).toBe(200);
  });
});
