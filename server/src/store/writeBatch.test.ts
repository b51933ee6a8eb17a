import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { openSqliteDatabase, SQLITE_FILE_NAME } from './sqlite.ts';
import { createWriteBatch, MAX_BATCH_WRITES, type WriteBatchOptions } from './writeBatch.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A database with one table, a write batch on it, and a second connection that sees only commits. */
function setup(options?: WriteBatchOptions) {
  const dir = tempDataDir();
  const db = openSqliteDatabase(dir);
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, chain TEXT)');
  const reader = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
  const batch = createWriteBatch(db, options);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => db.close());
  cleanups.push(() => reader.close());
  const insert = db.prepare('INSERT INTO rows (id, chain) VALUES (?, ?)');
  const committed = () =>
    reader
      .prepare<[], { id: number }>('SELECT id FROM rows ORDER BY id')
      .all()
      .map((row) => row.id);
  /** When each write ran, inside its commit's transaction (performance.now(), ms). */
  const ranAt = new Map<number, number>();
  const write = (id: number, chain?: string) =>
    batch.enqueue(() => {
      ranAt.set(id, performance.now());
      insert.run(id, chain ?? null);
    }, chain);
  return { db, batch, committed, write, ranAt };
}

describe('the write batch', () => {
  it('commits every write queued in one turn in one transaction, and settles each after the commit', async () => {
    const { batch, committed, write } = setup();
    const seenDuringSecondWrite: number[][] = [];
    const first = write(1);
    const second = batch.enqueue(() => {
      // Inside the batch: the first write is made but not committed, so another connection sees nothing.
      seenDuringSecondWrite.push(committed());
    });
    const third = write(3);
    expect(committed()).toEqual([]); // nothing is written before the turn ends
    const seenWhenSettled = await Promise.all([
      first.then(committed),
      second.then(committed),
      third.then(committed),
    ]);
    expect(seenDuringSecondWrite).toEqual([[]]);
    expect(seenWhenSettled).toEqual([
      [1, 3],
      [1, 3],
      [1, 3],
    ]);
  });

  it('commits a full batch at once, without waiting for the end of the turn, and the rest at its end', async () => {
    const { committed, write } = setup();
    const writes = Array.from({ length: MAX_BATCH_WRITES + 1 }, (_, n) => write(n + 1));
    expect(committed()).toHaveLength(MAX_BATCH_WRITES); // the 65th waits for the turn's end
    await Promise.all(writes);
    expect(committed()).toHaveLength(MAX_BATCH_WRITES + 1);
    // Queued afterwards, in a later turn: committed at that turn's end, as usual.
    await write(MAX_BATCH_WRITES + 2);
    expect(committed()).toHaveLength(MAX_BATCH_WRITES + 2);
  });

  it('spaces commits: a write queued soon after a commit waits for the rest of the interval', async () => {
    const { committed, write, ranAt } = setup({ minCommitIntervalMs: 40 });
    await write(1); // the first commit waits for nothing but the end of its turn
    const second = write(2);
    await nextTurn();
    await nextTurn();
    expect(committed()).toEqual([1]); // two turns later, still inside the 40 ms
    await second;
    expect(committed()).toEqual([1, 2]);
    // From commit to commit (each write runs first thing in its transaction, a few µs after the
    // commit's start is stamped): the batch re-arms a timer that fired early (libuv's whole ms).
    expect((ranAt.get(2) ?? 0) - (ranAt.get(1) ?? 0)).toBeGreaterThanOrEqual(39.9);
  });

  it('commits at the end of every turn that wrote when the interval is 0', async () => {
    const { committed, write } = setup({ minCommitIntervalMs: 0 });
    await write(1);
    const second = write(2);
    await nextTurn();
    expect(committed()).toEqual([1, 2]);
    await second;
  });

  it('fails a bad write alone: the others of its batch still commit', async () => {
    const { committed, write } = setup();
    await write(1);
    const results = await Promise.allSettled([write(2), write(1), write(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE|PRIMARY KEY/);
    expect(committed()).toEqual([1, 2, 3]);
  });

  it("writes none of a chain's later writes once one has failed, in that batch or after it", async () => {
    const { committed, write } = setup();
    await write(1, 'task-a');
    // task-a's second write fails (duplicate id); its third, queued before that was known, must not land.
    const results = await Promise.allSettled([write(1, 'task-a'), write(5, 'task-a'), write(6, 'task-b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    await expect(write(7, 'task-a')).rejects.toThrow(/earlier write of task-a failed/);
    expect(committed()).toEqual([1, 6]);
  });

  it('commits what is queued when closed, and refuses writes after', async () => {
    const { batch, committed, write } = setup();
    const pending = write(1);
    batch.close();
    expect(committed()).toEqual([1]);
    await pending;
    await expect(write(2)).rejects.toThrow(/closed/);
  });
});
