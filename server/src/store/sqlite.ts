import { statSync } from 'node:fs';
import { join } from 'node:path';
import { TaskEvent, TaskState, TERMINAL_STATUSES } from '@transport-lab/shared';
import Database from 'better-sqlite3';
import { type DataDirReport, preparePrivateFiles } from './files.ts';
import { type MigrationReport, migrate } from './migrations.ts';
import type { TaskStore } from './types.ts';
import { createWriteBatch, type WriteBatch } from './writeBatch.ts';

export const SQLITE_FILE_NAME = 'transport-lab.sqlite';

/** What opening the database did, for the start-up log. */
export interface OpenReport {
  file: string;
  dataDir: DataDirReport;
  migration: MigrationReport;
  /** An older file rebuilt once with incremental auto-vacuum (its size before and after). */
  vacuum?: { ms: number; bytesBefore: number; bytesAfter: number };
}

/**
 * Tasks and their event logs in one SQLite file under DATA_DIR. WAL with synchronous=NORMAL: a commit
 * appends to the WAL without waiting for the disk (fsync happens at checkpoints), so a committed
 * transaction survives a crash of the process (what a restart is here: the OS still holds the pages);
 * only an OS crash or power loss may undo the last few, which a demo tool can accept for ~10× cheaper
 * commits. Writes are also grouped, one transaction per turn of the event loop (writeBatch.ts), and
 * the server checkpoints on a worker thread (checkpointer.ts), not in a commit on the event loop.
 *
 * Opening makes the folder and files private (files.ts), brings the schema to this release's version
 * (migrations.ts; a newer file is refused) and makes freed pages returnable to the file system
 * (auto_vacuum = INCREMENTAL, which the retention sweep uses: retention.ts).
 */
export function openDatabase(dataDir: string): { db: Database.Database; report: OpenReport } {
  const dataDirReport = preparePrivateFiles(dataDir, SQLITE_FILE_NAME);
  const file = join(dataDir, SQLITE_FILE_NAME);
  const db = new Database(file);
  try {
    // Only a file with no page yet can take an auto_vacuum mode (before WAL mode writes its header);
    // an older one is rebuilt once below.
    if (db.pragma('page_count', { simple: true }) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const migration = migrate(db);
    const vacuum = useIncrementalVacuum(db);
    // Start with an empty WAL: one left by a crash, or by the VACUUM above, would otherwise keep its
    // size for good (SQLite reuses a WAL file, it does not shrink it), counted in MAX_DATA_BYTES.
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { db, report: { file, dataDir: dataDirReport, migration, ...(vacuum ? { vacuum } : {}) } };
  } catch (error) {
    db.close();
    throw error;
  }
}

export function openSqliteDatabase(dataDir: string): Database.Database {
  return openDatabase(dataDir).db;
}

/** auto_vacuum: 2 is INCREMENTAL (SQLite's numbering: 0 none, 1 full). */
const INCREMENTAL = 2;

/**
 * A file made before this release has auto_vacuum off: deleted rows' pages are reused but never given
 * back, so a file already past MAX_DATA_BYTES could not shrink. VACUUM rebuilds it with the new mode,
 * once (it cannot run inside the migrations' transaction, and the mode itself says whether it is
 * done, so a crash midway means it runs again at the next start). It takes about a second per
 * hundred MB, before the server listens.
 */
function useIncrementalVacuum(db: Database.Database): OpenReport['vacuum'] {
  if (db.pragma('auto_vacuum', { simple: true }) === INCREMENTAL) return undefined;
  const started = performance.now();
  const bytesBefore = statSync(db.name).size;
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
  // The rebuilt pages are in the WAL until checkpointed: the file's size is measured after that.
  db.pragma('wal_checkpoint(TRUNCATE)');
  return { ms: performance.now() - started, bytesBefore, bytesAfter: statSync(db.name).size };
}

/** Opens its own database: for tests and tools that need only the tasks. */
export function openSqliteStore(dataDir: string): TaskStore {
  const db = openSqliteDatabase(dataDir);
  const batch = createWriteBatch(db);
  const store = sqliteTaskStore(db, batch);
  return {
    ...store,
    async close() {
      batch.close();
      db.close();
    },
  };
}

/** The task store on an open database; closing the database (and flushing `batch` before it) is its
 *  owner's job. `batch`: shared with the other stores' writes (openStores), else one of its own. */
export function sqliteTaskStore(db: Database.Database, batch: WriteBatch = createWriteBatch(db)): TaskStore {
  const insertTask = db.prepare('INSERT INTO tasks (id, status, created_at, state) VALUES (?, ?, ?, ?)');
  // finished_at: when the task ended (null while it runs), the retention sweep's order (retention.ts).
  const updateTask = db.prepare('UPDATE tasks SET status = ?, state = ?, finished_at = ? WHERE id = ?');
  const insertEvent = db.prepare('INSERT INTO task_events (task_id, seq, event) VALUES (?, ?, ?)');
  const selectTask = db.prepare<[string], { state: string }>('SELECT state FROM tasks WHERE id = ?');
  const selectEvents = db.prepare<[string, number], { event: string }>(
    'SELECT event FROM task_events WHERE task_id = ? AND seq > ? ORDER BY seq',
  );
  const selectUnfinished = db.prepare<[], { state: string }>(
    "SELECT state FROM tasks WHERE status IN ('queued', 'running') ORDER BY created_at",
  );

  // Rows are parsed with the shared schemas on the way out: a corrupt row fails loudly, here.
  const readTask = (json: string) => TaskState.parse(JSON.parse(json));

  return {
    kind: 'sqlite',
    createTask(task, first) {
      const taskJson = JSON.stringify(task);
      const eventJson = JSON.stringify(first);
      return batch.enqueue(() => {
        insertTask.run(task.id, task.status, task.createdAt, taskJson);
        insertEvent.run(first.taskId, first.seq, eventJson);
      }, task.id);
    },
    appendEvent(event, next) {
      const eventJson = JSON.stringify(event);
      // A progress event leaves the status as it was: the log holds it, and the row (with the index
      // of unfinished tasks) is rewritten only when the status changes. Rewriting it for every step
      // doubled the pages each event dirtied (the hall profile, docs/benchmarks.md).
      const stateJson = event.type === 'progress' ? undefined : JSON.stringify(next);
      const finishedAt = TERMINAL_STATUSES.has(next.status) ? (next.finishedAt ?? event.at) : null;
      return batch.enqueue(() => {
        // The primary key (task_id, seq) refuses a second event with the same seq: no duplicates.
        insertEvent.run(event.taskId, event.seq, eventJson);
        if (stateJson !== undefined) updateTask.run(next.status, stateJson, finishedAt, next.id);
      }, next.id);
    },
    async getTask(id) {
      const row = selectTask.get(id);
      return row ? readTask(row.state) : undefined;
    },
    async eventsAfter(id, afterSeq) {
      return selectEvents.all(id, afterSeq).map((row) => TaskEvent.parse(JSON.parse(row.event)));
    },
    async unfinishedTasks() {
      return selectUnfinished.all().map((row) => readTask(row.state));
    },
    async close() {},
  };
}

/**
 * Tasks on Redis (REDIS_URL), with a row here for each task this instance creates or moves: SQLite
 * still holds what hangs from a task and is not on Redis yet (its run tag, its webhook subscriber and
 * deliveries), and the retention sweep deletes those with the task's row, by its `finished_at`
 * (retention.ts), and keeps a webhook subscriber whose task has a row. The row is the state as of the
 * task's last change of status, as the SQLite store writes it, without the events; the engine reads
 * only `shared`. Each write settles once both stores have it (the SQLite row commits with the turn's
 * batch, before Redis answers as a rule).
 */
export function withLocalTaskRows(shared: TaskStore, db: Database.Database, batch: WriteBatch): TaskStore {
  const upsert = db.prepare(
    `INSERT INTO tasks (id, status, created_at, state, finished_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, state = excluded.state,
     finished_at = excluded.finished_at`,
  );
  const writeRow = (task: TaskState, at: number) => {
    const finishedAt = TERMINAL_STATUSES.has(task.status) ? (task.finishedAt ?? at) : null;
    const json = JSON.stringify(task);
    return batch.enqueue(() => upsert.run(task.id, task.status, task.createdAt, json, finishedAt));
  };
  return {
    ...shared,
    async createTask(task, first) {
      await Promise.all([shared.createTask(task, first), writeRow(task, first.at)]);
    },
    async appendEvent(event, next) {
      if (event.type === 'progress') return shared.appendEvent(event, next);
      await Promise.all([shared.appendEvent(event, next), writeRow(next, event.at)]);
    },
  };
}
