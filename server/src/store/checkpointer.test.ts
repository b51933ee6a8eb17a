import { spawnSync } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

  it('closes in a process that has nothing else to do (its close is heard before the process ends)', () => {
    const dir = tempDataDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // A script whose only pending work is the close: before the fix the worker was unref'd, the
    // process ended first, and 'closed' was never printed.
    const script = `
      import { startCheckpointer } from ${JSON.stringify(fileURLToPath(new URL('./checkpointer.ts', import.meta.url)))};
      import { openSqliteDatabase } from ${JSON.stringify(fileURLToPath(new URL('./sqlite.ts', import.meta.url)))};
      const db = openSqliteDatabase(${JSON.stringify(dir)});
      const checkpointer = startCheckpointer(db, () => {}, 20);
      checkpointer.close().then(() => { db.close(); console.log('closed'); });
    `;
    // A file, not `-e` with --input-type=module: the worker inherits the flags and must stay CommonJS.
    const file = join(dir, 'close.mts');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
      encoding: 'utf8',
      timeout: 30_000,
      // tsx is the server package's own dependency.
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('closed');
  });
});
