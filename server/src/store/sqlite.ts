import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TaskEvent, TaskState } from '@transport-lab/shared';
import Database from 'better-sqlite3';
import type { TaskStore } from './types.ts';
import { createWriteBatch, type WriteBatch } from './writeBatch.ts';

export const SQLITE_FILE_NAME = 'transport-lab.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at REAL NOT NULL,
  state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_unfinished ON tasks (status, created_at);
CREATE TABLE IF NOT EXISTS task_events (
  task_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;
`;

/**
 * Tasks and their event logs in one SQLite file under DATA_DIR. WAL with synchronous=NORMAL: a commit
 * appends to the WAL without waiting for the disk (fsync happens at checkpoints), so a committed
 * transaction survives a crash of the process (what a restart is here: the OS still holds the pages);
 * only an OS crash or power loss may undo the last few, which a demo tool can accept for ~10× cheaper
 * commits. Writes are also grouped, one transaction per turn of the event loop (writeBatch.ts), and
 * the server checkpoints on a worker thread (checkpointer.ts), not in a commit on the event loop.
 */
export function openSqliteDatabase(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, SQLITE_FILE_NAME));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
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
  db.exec(SCHEMA);

  const insertTask = db.prepare('INSERT INTO tasks (id, status, created_at, state) VALUES (?, ?, ?, ?)');
  const updateTask = db.prepare('UPDATE tasks SET status = ?, state = ? WHERE id = ?');
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
      return batch.enqueue(() => {
        // The primary key (task_id, seq) refuses a second event with the same seq: no duplicates.
        insertEvent.run(event.taskId, event.seq, eventJson);
        if (stateJson !== undefined) updateTask.run(next.status, stateJson, next.id);
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
