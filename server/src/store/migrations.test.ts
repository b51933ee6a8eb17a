import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { createLogger } from '../observability/logger.ts';
import { PREVIOUS_RELEASE, writePreviousReleaseDatabase } from './fixtures/previousRelease.ts';
import { openStores } from './index.ts';
import { MIGRATIONS, migrate, SCHEMA_VERSION, StoreVersionError } from './migrations.ts';
import { openDatabase, SQLITE_FILE_NAME, sqliteTaskStore } from './sqlite.ts';
import { sqliteDeliveryStore } from './sqliteDeliveries.ts';
import { sqliteFaultStore } from './sqliteFaults.ts';
import { sqliteIdempotencyStore } from './sqliteIdempotency.ts';
import { createWriteBatch } from './writeBatch.ts';

/** Tables of version 1, the previous release's. */
const V1_TABLES = [
  'tasks',
  'task_events',
  'task_runs',
  'faults',
  'webhook_subscribers',
  'webhook_deliveries',
  'webhook_attempts',
  'idempotency_keys',
];
const {
  run: RUN,
  runningTask: RUNNING_TASK,
  dueTask: DUE_TASK,
  deliveredTask: DELIVERED_TASK,
} = PREVIOUS_RELEASE;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function freshDir(): string {
  const dir = tempDataDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function previousReleaseDir(): string {
  const dir = freshDir();
  writePreviousReleaseDatabase(dir);
  return dir;
}

function rowsOfEveryTable(db: Database.Database, columns = '*'): Record<string, unknown[]> {
  return Object.fromEntries(
    V1_TABLES.map((table) => {
      // Only the columns version 1 had, so that a file before and after compare.
      const names = db
        .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
        .all()
        .map((column) => column.name)
        .filter((name) => columns === '*' || name !== 'finished_at');
      return [table, db.prepare(`SELECT ${names.join(', ')} FROM ${table} ORDER BY 1, 2`).all()];
    }),
  );
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('schema migrations', () => {
  it('are numbered 1, 2, … in order, so that user_version names the last one applied', () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(
      Array.from({ length: MIGRATIONS.length }, (_, index) => index + 1),
    );
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('bring a database made by the previous release to the current version in place, keeping every row', async () => {
    const dir = previousReleaseDir();
    const file = join(dir, SQLITE_FILE_NAME);
    const old = new Database(file, { readonly: true });
    const before = rowsOfEveryTable(old);
    expect(old.pragma('user_version', { simple: true })).toBe(0);
    old.close();
    // What the fixture holds, so that "every row kept" is not said of empty tables.
    expect(Object.fromEntries(Object.entries(before).map(([table, rows]) => [table, rows.length]))).toEqual({
      tasks: 10,
      task_events: 39,
      task_runs: 6,
      faults: 2,
      webhook_subscribers: 2,
      webhook_deliveries: 9,
      webhook_attempts: 6,
      idempotency_keys: 1,
    });

    const { db, report } = openDatabase(dir);
    cleanups.push(() => void db.close());
    expect(report.migration).toMatchObject({ from: 0, to: SCHEMA_VERSION });
    expect(report.migration.applied).toHaveLength(SCHEMA_VERSION);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(rowsOfEveryTable(db, 'v1')).toEqual(before);
    // Rebuilt once so that the retention sweep can give pages back; private from now on.
    expect(report.vacuum).toBeDefined();
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(mode(dir)).toBe(0o700);
    expect(mode(file)).toBe(0o600);

    // Each ended task got its end time from its state; the running one has none.
    const ends = db
      .prepare<[], { status: string; finished_at: number | null; finishedAt: number | null }>(
        "SELECT status, finished_at, json_extract(state, '$.finishedAt') AS finishedAt FROM tasks",
      )
      .all();
    for (const task of ends) {
      expect(task.finished_at).toBe(task.status === 'running' ? null : task.finishedAt);
    }

    // And this release's stores read the old rows.
    const batch = createWriteBatch(db);
    cleanups.push(() => batch.close());
    const tasks = sqliteTaskStore(db, batch);
    expect((await tasks.unfinishedTasks()).map((task) => task.id)).toEqual([RUNNING_TASK]);
    for (const { id } of before.tasks as Array<{ id: string }>) {
      expect(await tasks.getTask(id)).toMatchObject({ id });
    }
    expect((await tasks.eventsAfter(RUNNING_TASK, 0)).map((event) => event.type)).toEqual([
      'queued',
      'started',
    ]);
    const deliveries = sqliteDeliveryStore(db);
    expect(deliveries.pendingHeads().map((head) => [head.taskId, head.eventSeq])).toEqual([[DUE_TASK, 1]]);
    expect(deliveries.subscriber(DELIVERED_TASK)?.secret).toMatch(/^whsec_/);
    expect(deliveries.deliveriesOf(DELIVERED_TASK).map((delivery) => delivery.state)).toEqual(
      Array(5).fill('delivered'),
    );
    const faults = sqliteFaultStore(db, batch);
    expect((await faults.ofRun(RUN)).map((record) => record.fault.kind)).toEqual([
      'drop-connections',
      'receiver',
    ]);
    expect((await faults.tasksOfRun(RUN)).length).toBe(6);
    // The key is found from its client's scope, the run (access/clientScope.ts), at the time it was
    // fresh: another body is the draft's 422.
    const keys = sqliteIdempotencyStore(db, batch, () => PREVIOUS_RELEASE.keyAt + 1_000);
    expect(await keys.claim(`run:${RUN}`, PREVIOUS_RELEASE.key, 'another body')).toEqual({
      kind: 'mismatch',
    });
  });

  it('open a new database at the current version, with incremental auto-vacuum, and run nothing at the next open', () => {
    const dir = freshDir();
    const first = openDatabase(dir);
    expect(first.report.migration).toMatchObject({ from: 0, to: SCHEMA_VERSION });
    expect(first.report.vacuum).toBeUndefined();
    expect(first.db.pragma('auto_vacuum', { simple: true })).toBe(2);
    first.db.close();

    const second = openDatabase(dir);
    expect(second.report.migration).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });
    expect(second.report.vacuum).toBeUndefined();
    second.db.close();
  });

  it('refuse a database of a newer release, naming both versions, and leave it untouched', () => {
    const dir = freshDir();
    const file = join(dir, SQLITE_FILE_NAME);
    const newer = new Database(file);
    newer.pragma('journal_mode = WAL');
    newer.exec('CREATE TABLE from_the_future (x)');
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();

    const opening = () => openDatabase(dir);
    expect(opening).toThrow(StoreVersionError);
    expect(opening).toThrow(
      `The database ${file} has schema version ${SCHEMA_VERSION + 1}, newer than this release knows (${SCHEMA_VERSION})`,
    );
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(after.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual([
      'from_the_future',
    ]);
    after.close();
  });

  it('the server refuses it at start, before anything else opens the file', async () => {
    const dir = freshDir();
    const newer = new Database(join(dir, SQLITE_FILE_NAME));
    newer.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    newer.close();
    const open = () =>
      openStores(
        { DATA_DIR: dir, RETENTION_HOURS: 24, MAX_DATA_BYTES: 256 * 1_048_576, REDIS_PREFIX: 'unused:' },
        createLogger('silent'),
      );
    await expect(open()).rejects.toThrow(StoreVersionError);
  });

  it('apply none of a list whose last migration fails: the file stays at its version', () => {
    const dir = freshDir();
    const { db } = openDatabase(dir);
    cleanups.push(() => void db.close());
    const failing = [
      ...MIGRATIONS,
      {
        version: SCHEMA_VERSION + 1,
        description: 'adds a table, then fails',
        up(target: Database.Database) {
          target.exec('CREATE TABLE half_done (x)');
          throw new Error('migration failed midway');
        },
      },
    ];
    expect(() => migrate(db, failing)).toThrow('migration failed midway');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'half_done'").pluck().get()).toBe(0);
  });
});
