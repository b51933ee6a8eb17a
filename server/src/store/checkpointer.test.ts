import { rmSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer } from './checkpointer.ts';
import { openSqliteDatabase } from './sqlite.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the WAL checkpointer', () => {
  it('moves committed pages into the database file from its worker, and the writer no longer checkpoints at 1 000 pages', async () => {
    const dir = tempDataDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = openSqliteDatabase(dir);
    cleanups.push(() => void db.close());
    const errors: string[] = [];
    const checkpointer = startCheckpointer(db, (message) => errors.push(message), 20);
    cleanups.push(() => checkpointer.close());
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(FALLBACK_AUTOCHECKPOINT_PAGES);

    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT)');
    const sizeBefore = statSync(db.name).size;
    const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
    db.transaction(() => {
      for (let n = 0; n < 200; n++) insert.run('x'.repeat(1_000));
    })();
    // A checkpoint reported now may have run before the commit: wait for the one that moved the rows.
    const moved = () => statSync(db.name).size > sizeBefore + 200 * 1_000;
    for (let checkpoints = 0; checkpoints < 50 && !moved(); checkpoints++) {
      expect(await checkpointer.nextCheckpoint()).toBeGreaterThan(0);
    }
    expect(moved()).toBe(true);
    expect(errors).toEqual([]);
  });
});
