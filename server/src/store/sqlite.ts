import { statSync } from 'node:fs';
import { join } from 'node:path';
import { TaskEvent, TaskState, TERMINAL_STATUSES } from '@transport-lab/shared';
import Database from 'better-sqlite3';
import { type DataDirReport, preparePrivateFiles } from './files.ts';
import { type MigrationReport, migrate } from './migrations.ts';
import { DEFAULT_MAX_DATA_BYTES } from './retention.ts';
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

/**
 * The event journal. Every event of a task that has not ended is appended to `event_journal`, whose
 * rowid order is the append order, so the few dozen events of one commit share its last page or two.
 * When the task ends, its whole log goes into `task_events` (keyed by task and seq: what reads walk)
 * in the transaction of its last event, one task's rows side by side. Why: written one by one into
 * `task_events`, each of a hall's thousand interleaved tasks dirtied a page of its own per event (a
 * WAL frame of 4 KB and its checkpoint: ≈ 2 pages per event, 64 000 `pwrite`s for 11 500 events at
 * 100 phones), the largest part of the store's cost in the hall profile (docs/benchmarks.md).
 *
 * The store keeps the journalled events of its running tasks in memory, for reads (`eventsAfter`)
 * and for the move at the end. Journal rows below the oldest running task's first row belong to
 * ended tasks, already moved: every COMPACT_EVERY_ROWS journalled events they are deleted in a
 * range. A task whose first row is more than `journalRows` behind the newest (a long task, one
 * halted by a failed write) has its committed events moved early, so the journal stays within its
 * share of MAX_DATA_BYTES. Opening the store folds what a previous process left in the journal into
 * `task_events`, so that a restart reads every task there.
 */
interface JournalledTask {
  /** The seq of the task's first event in memory; earlier ones are in task_events. */
  base: number;
  /** Slot `seq − base`: the write that journalled that event and its row. Its identity refuses a
   *  second write of the same seq; the same write run again after a rolled-back batch finds itself. */
  slots: Array<JournalSlot | undefined>;
  /** The last seq whose commit has resolved: reads see nothing past it. */
  committedSeq: number;
}
interface JournalSlot {
  json: string;
  /** Its journal row id, 0 until written (or for the last event, which goes to task_events). */
  row: number;
}

/** Journalled events between two compactions of the journal. */
const COMPACT_EVERY_ROWS = 256;
/** The journal's share of MAX_DATA_BYTES, and the size of a row assumed to turn it into rows (a
 *  progress event is ≈ 150 B of JSON; `queued` carries its spec). */
const JOURNAL_SHARE = 0.05;
const JOURNAL_ROW_BYTES = 256;
/** Journal rows kept at most for MAX_DATA_BYTES (openStores passes it; see above). */
export function journalRowsFor(maxDataBytes: number): number {
  return Math.max(COMPACT_EVERY_ROWS, Math.floor((maxDataBytes * JOURNAL_SHARE) / JOURNAL_ROW_BYTES));
}

export interface SqliteTaskStoreOptions {
  /** How far (in rows) a running task's first journal row may fall behind before it is moved. */
  journalRows?: number;
}

/** The task store on an open database; closing the database (and flushing `batch` before it) is its
 *  owner's job. `batch`: shared with the other stores' writes (openStores), else one of its own. */
export function sqliteTaskStore(
  db: Database.Database,
  batch: WriteBatch = createWriteBatch(db),
  options: SqliteTaskStoreOptions = {},
): TaskStore {
  const journalRows = options.journalRows ?? journalRowsFor(DEFAULT_MAX_DATA_BYTES);
  const insertTask = db.prepare('INSERT INTO tasks (id, status, created_at, state) VALUES (?, ?, ?, ?)');
  // finished_at: when the task ended (null while it runs), the retention sweep's order (retention.ts).
  const updateTask = db.prepare('UPDATE tasks SET status = ?, state = ?, finished_at = ? WHERE id = ?');
  // Duplicates are refused before (a slot's identity, or `storedEvent`); OR IGNORE lets a move and
  // an early move of the same events, or another process's fold, meet without failing.
  const moveEvent = db.prepare('INSERT OR IGNORE INTO task_events (task_id, seq, event) VALUES (?, ?, ?)');
  const insertJournal = db.prepare('INSERT INTO event_journal (task_id, seq, event) VALUES (?, ?, ?)');
  const storedEvent = db.prepare<[string, number], { one: number }>(
    'SELECT 1 AS one FROM task_events WHERE task_id = ? AND seq = ?',
  );
  const deleteJournalBelow = db.prepare<[number]>('DELETE FROM event_journal WHERE id < ?');
  const selectTask = db.prepare<[string], { state: string }>('SELECT state FROM tasks WHERE id = ?');
  const selectEvents = db.prepare<[string, number, number], { event: string }>(
    'SELECT event FROM task_events WHERE task_id = ? AND seq > ? AND seq < ? ORDER BY seq',
  );
  const selectUnfinished = db.prepare<[], { state: string }>(
    "SELECT state FROM tasks WHERE status IN ('queued', 'running') ORDER BY created_at",
  );
  // What a stopped process left in the journal: every task's log whole in task_events again. A task
  // that had ended was moved already (its rows are ignored here as duplicates).
  db.transaction(() => {
    db.exec(`INSERT OR IGNORE INTO task_events (task_id, seq, event)
             SELECT task_id, seq, event FROM event_journal ORDER BY id;
             DELETE FROM event_journal;`);
  })();

  /** Running tasks with events in memory, by id. */
  const journalled = new Map<string, JournalledTask>();
  /** The newest journal row written, and the bound of the last compaction (no row below it). */
  let lastRow = 0;
  let compactedBelow = 0;
  let rowsSinceCompaction = 0;
  let compacting = false;

  // Rows are parsed with the shared schemas on the way out: a corrupt row fails loudly, here.
  const readTask = (json: string) => TaskState.parse(JSON.parse(json));

  /** Inside a write's transaction: refuses a seq stored or held before by another write. */
  function refuseDuplicate(taskId: string, seq: number, slot: JournalSlot): void {
    const task = journalled.get(taskId);
    if (task === undefined || seq < task.base) {
      if (storedEvent.get(taskId, seq)) throw duplicateSeq(taskId, seq);
      return;
    }
    const held = task.slots[seq - task.base];
    if (held !== undefined && held !== slot) throw duplicateSeq(taskId, seq);
  }

  /** Inside a write's transaction: holds the event in memory (and in the journal, unless `last`). */
  function hold(taskId: string, seq: number, slot: JournalSlot, last: boolean): void {
    refuseDuplicate(taskId, seq, slot);
    let task = journalled.get(taskId);
    if (task === undefined) {
      task = { base: seq, slots: [], committedSeq: seq - 1 };
      journalled.set(taskId, task);
    }
    if (!last) {
      // Run again after a rolled-back batch, the same write may get another row id: it is rewritten.
      slot.row = Number(insertJournal.run(taskId, seq, slot.json).lastInsertRowid);
      lastRow = Math.max(lastRow, slot.row);
    }
    task.slots[seq - task.base] = slot;
  }

  /** Inside the last event's transaction: the task's log in memory, that event included, into
   *  task_events, side by side. */
  function moveToLog(taskId: string): void {
    const task = journalled.get(taskId);
    if (task === undefined) return;
    task.slots.forEach((slot, index) => {
      if (slot !== undefined) moveEvent.run(taskId, task.base + index, slot.json);
    });
  }

  function firstRowOf(task: JournalledTask, fromIndex = 0): number {
    for (let index = fromIndex; index < task.slots.length; index++) {
      const row = task.slots[index]?.row;
      if (row) return row;
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Deletes the journal's rows no running task needs, moving first the committed events of tasks
   *  whose first row is older than `journalRows`. One write, shared with the turn's commit. */
  function compact(): void {
    if (compacting) return;
    const oldest = lastRow - journalRows;
    const moves: Array<{ taskId: string; task: JournalledTask; count: number }> = [];
    let bound = lastRow + 1;
    for (const [taskId, task] of journalled) {
      let keepFrom = 0;
      if (firstRowOf(task) < oldest) {
        keepFrom = task.committedSeq - task.base + 1;
        if (keepFrom > 0) moves.push({ taskId, task, count: keepFrom });
      }
      bound = Math.min(bound, firstRowOf(task, keepFrom));
    }
    if (bound <= compactedBelow && moves.length === 0) return;
    compacting = true;
    void batch
      .enqueue(() => {
        for (const { taskId, task, count } of moves) {
          for (let index = 0; index < count; index++) {
            const slot = task.slots[index];
            if (slot !== undefined) moveEvent.run(taskId, task.base + index, slot.json);
          }
        }
        deleteJournalBelow.run(bound);
      })
      .then(
        () => {
          compactedBelow = Math.max(compactedBelow, bound);
          for (const { taskId, task, count } of moves) {
            // Unless the task ended meanwhile (its entry is gone, or another one).
            if (journalled.get(taskId) !== task) continue;
            task.slots = task.slots.slice(count);
            task.base += count;
          }
        },
        () => undefined, // the rows stay: the next compaction tries again
      )
      .finally(() => {
        compacting = false;
      });
  }

  /** After a commit: reads may now see `seq`; a compaction is due every COMPACT_EVERY_ROWS events. */
  function committed(taskId: string, seq: number): void {
    const task = journalled.get(taskId);
    if (task !== undefined && seq > task.committedSeq) task.committedSeq = seq;
    rowsSinceCompaction += 1;
    if (rowsSinceCompaction < COMPACT_EVERY_ROWS) return;
    rowsSinceCompaction = 0;
    compact();
  }

  /** After a failed write: its slot holds nothing (no row of it was committed). */
  function failed(taskId: string, seq: number, slot: JournalSlot): void {
    const task = journalled.get(taskId);
    if (task !== undefined && seq >= task.base && task.slots[seq - task.base] === slot) {
      task.slots[seq - task.base] = undefined;
    }
  }

  return {
    kind: 'sqlite',
    createTask(task, first) {
      const taskJson = JSON.stringify(task);
      const slot: JournalSlot = { json: JSON.stringify(first), row: 0 };
      return batch
        .enqueue(() => {
          // First: a task created twice fails here, before the first one's log is touched.
          insertTask.run(task.id, task.status, task.createdAt, taskJson);
          hold(first.taskId, first.seq, slot, false);
        }, task.id)
        .then(
          () => committed(first.taskId, first.seq),
          (error: unknown) => {
            failed(first.taskId, first.seq, slot);
            throw error;
          },
        );
    },
    appendEvent(event, next) {
      const slot: JournalSlot = { json: JSON.stringify(event), row: 0 };
      // A progress event leaves the status as it was: the log holds it, and the row (with the index
      // of unfinished tasks) is rewritten only when the status changes.
      const stateJson = event.type === 'progress' ? undefined : JSON.stringify(next);
      const last = TERMINAL_STATUSES.has(next.status);
      const finishedAt = last ? (next.finishedAt ?? event.at) : null;
      return batch
        .enqueue(() => {
          hold(event.taskId, event.seq, slot, last);
          if (last) moveToLog(event.taskId);
          if (stateJson !== undefined) updateTask.run(next.status, stateJson, finishedAt, next.id);
        }, next.id)
        .then(
          () => {
            if (last) journalled.delete(event.taskId);
            else committed(event.taskId, event.seq);
          },
          (error: unknown) => {
            failed(event.taskId, event.seq, slot);
            throw error;
          },
        );
    },
    async getTask(id) {
      const row = selectTask.get(id);
      return row ? readTask(row.state) : undefined;
    },
    async eventsAfter(id, afterSeq) {
      const task = journalled.get(id);
      const before = task?.base ?? Number.MAX_SAFE_INTEGER;
      const events = selectEvents
        .all(id, afterSeq, before)
        .map((row) => TaskEvent.parse(JSON.parse(row.event)));
      if (task === undefined) return events;
      for (let seq = Math.max(afterSeq + 1, task.base); seq <= task.committedSeq; seq++) {
        const slot = task.slots[seq - task.base];
        if (slot !== undefined) events.push(TaskEvent.parse(JSON.parse(slot.json)));
      }
      return events;
    },
    async unfinishedTasks() {
      return selectUnfinished.all().map((row) => readTask(row.state));
    },
    async close() {},
  };
}

/** The error a second event with the same seq gets, as SQLite's own primary key would give it. */
function duplicateSeq(taskId: string, seq: number): Error {
  return new Error(`task ${taskId} already has an event with seq ${seq}`);
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
