import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TaskEvent, TaskState } from '@transport-lab/shared';
import Database from 'better-sqlite3';
import type { TaskStore } from './types.ts';

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
 * Tasks and their event logs in one SQLite file under DATA_DIR. WAL with synchronous=NORMAL:
 * a committed transaction survives a crash of the process (what a restart is here); only a power
 * loss may undo the last few, which a demo tool can accept for ~10× cheaper commits.
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
  const store = sqliteTaskStore(db);
  return {
    ...store,
    async close() {
      db.close();
    },
  };
}

/** The task store on an open database; closing the database is its owner's job. */
export function sqliteTaskStore(db: Database.Database): TaskStore {
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

  const create = db.transaction((task: TaskState, first: TaskEvent) => {
    insertTask.run(task.id, task.status, task.createdAt, JSON.stringify(task));
    insertEvent.run(first.taskId, first.seq, JSON.stringify(first));
  });
  const append = db.transaction((event: TaskEvent, next: TaskState) => {
    // The primary key (task_id, seq) refuses a second event with the same seq: no duplicates.
    insertEvent.run(event.taskId, event.seq, JSON.stringify(event));
    updateTask.run(next.status, JSON.stringify(next), next.id);
  });

  // Rows are parsed with the shared schemas on the way out: a corrupt row fails loudly, here.
  const readTask = (json: string) => TaskState.parse(JSON.parse(json));

  return {
    kind: 'sqlite',
    async createTask(task, first) {
      create(task, first);
    },
    async appendEvent(event, next) {
      append(event, next);
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
