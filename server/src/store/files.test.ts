import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { openDatabase, SQLITE_FILE_NAME } from './sqlite.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function scratch(): string {
  const dir = tempDataDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Permission bits of a path, as `ls -l` shows them. */
const mode = (path: string) => statSync(path).mode & 0o777;
const sqliteFiles = (dir: string) =>
  ['', '-wal', '-shm'].map((suffix) => join(dir, SQLITE_FILE_NAME + suffix));

/** Opens, writes once (so that the WAL and its index exist), and closes nothing: the caller does. */
function openAndWrite(dir: string): Database.Database {
  const { db } = openDatabase(dir);
  cleanups.push(() => db.close());
  db.exec("INSERT INTO idempotency_keys (key, fingerprint, created_at) VALUES ('k', 'f', 1)");
  return db;
}

// Issue 11: "webhook secrets not readable by other users of the machine". They live in the database.
describe.skipIf(process.platform === 'win32')('the data folder and the database files', () => {
  it('are created private: the folder 0700, the database, its WAL and shared memory 0600', () => {
    const dir = join(scratch(), 'nested', 'data');
    openAndWrite(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, '..'))).toBe(0o700);
    for (const file of sqliteFiles(dir)) expect({ file, mode: mode(file) }).toEqual({ file, mode: 0o600 });
  });

  it('of an older release (0755 and 0644) are made private when the folder holds only the database', () => {
    const dir = scratch();
    const [file, wal, shm] = sqliteFiles(dir) as [string, string, string];
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE notes (x)');
    old.close();
    // A WAL and its index left beside the file, as after a crash (empty ones are valid).
    writeFileSync(wal, '');
    writeFileSync(shm, '');
    chmodSync(dir, 0o755);
    for (const path of [file, wal, shm]) chmodSync(path, 0o644);

    openAndWrite(dir);
    expect(mode(dir)).toBe(0o700);
    for (const path of [file, wal, shm]) expect({ path, mode: mode(path) }).toEqual({ path, mode: 0o600 });
  });

  it('in a folder that holds other things too (DATA_DIR=$HOME, say) keep the folder as it is, and the files private', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'projects'));
    chmodSync(dir, 0o755);
    const { db, report } = openDatabase(dir);
    cleanups.push(() => db.close());
    expect(report.dataDir).toMatchObject({ created: false, madePrivate: false });
    expect(report.dataDir.leftShared).toContain('projects');
    expect(mode(dir)).toBe(0o755);
    expect(mode(join(dir, SQLITE_FILE_NAME))).toBe(0o600);
  });
});
