import type Database from 'better-sqlite3';

/**
 * The schema of the one SQLite file, as an ordered list of migrations. `PRAGMA user_version` holds
 * the number of the last one applied. A database made before versions existed (the release of
 * commit 879648a and earlier) has user_version 0 and some or all of version 1's tables: version 1
 * creates what is missing (IF NOT EXISTS) and keeps every row. Never edit a migration that has been
 * released: add the next one.
 */
export interface Migration {
  version: number;
  /** What it changes and why, for the log and the reader. */
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'the tables of the release before versions: tasks, webhooks, faults, idempotency keys',
    up(db) {
      db.exec(`
        -- Tasks and their event logs (sqlite.ts).
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

        -- The durable webhook queue (sqliteDeliveries.ts).
        CREATE TABLE IF NOT EXISTS webhook_subscribers (
          task_id TEXT PRIMARY KEY,
          url TEXT NOT NULL,
          secret TEXT NOT NULL,
          builtin INTEGER NOT NULL,
          ended INTEGER NOT NULL DEFAULT 0,
          disabled_at REAL,
          disabled_reason TEXT,
          created_at REAL NOT NULL
        );
        CREATE TABLE IF NOT EXISTS webhook_deliveries (
          id TEXT PRIMARY KEY,
          task_id TEXT NOT NULL,
          event_seq INTEGER NOT NULL,
          event_type TEXT NOT NULL,
          body TEXT NOT NULL,
          state TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_at REAL,
          created_at REAL NOT NULL,
          UNIQUE (task_id, event_seq)
        );
        CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries (state, task_id, event_seq);
        CREATE TABLE IF NOT EXISTS webhook_attempts (
          delivery_id TEXT NOT NULL,
          attempt INTEGER NOT NULL,
          started_at REAL NOT NULL,
          duration_ms REAL NOT NULL,
          http_status INTEGER,
          outcome TEXT NOT NULL,
          error TEXT,
          PRIMARY KEY (delivery_id, attempt)
        ) WITHOUT ROWID;

        -- Applied faults, and the run each task belongs to (sqliteFaults.ts).
        CREATE TABLE IF NOT EXISTS faults (
          id TEXT PRIMARY KEY,
          run_id TEXT,
          kind TEXT NOT NULL,
          at REAL NOT NULL,
          record TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS faults_run ON faults (run_id, at);
        CREATE INDEX IF NOT EXISTS faults_kind ON faults (kind, at);
        CREATE TABLE IF NOT EXISTS task_runs (
          task_id TEXT PRIMARY KEY,
          run_id TEXT NOT NULL,
          lane TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS task_runs_run ON task_runs (run_id);

        -- Idempotency-Key records (sqliteIdempotency.ts): key is SHA-256 of the client's scope and key.
        CREATE TABLE IF NOT EXISTS idempotency_keys (
          key TEXT PRIMARY KEY,
          fingerprint TEXT NOT NULL,
          created_at REAL NOT NULL,
          response TEXT
        );
      `);
    },
  },
  {
    version: 2,
    description: "when each task ended, and indexes by age: what the retention sweep's queries walk",
    up(db) {
      // A task's end time was only inside its state JSON; the sweep needs it indexed (oldest first).
      // Ended tasks of an older file take it from their state (`finishedAt`; else their last change,
      // else their creation: a row from before either field existed).
      db.exec(`
        ALTER TABLE tasks ADD COLUMN finished_at REAL;
        UPDATE tasks
           SET finished_at = COALESCE(json_extract(state, '$.finishedAt'), json_extract(state, '$.updatedAt'), created_at)
         WHERE status IN ('succeeded', 'failed', 'cancelled');
        CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
        CREATE INDEX faults_at ON faults (at);
        CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
        CREATE INDEX webhook_subscribers_created ON webhook_subscribers (created_at);
      `);
    },
  },
  {
    version: 3,
    description: 'an append-only journal of the events of running tasks (sqlite.ts, "The event journal")',
    up(db) {
      // Rowid order is append order: a commit's events share the journal's last page or two, where
      // the by-task table (task_events, keyed by task) put each on a page of its own.
      db.exec(`
        CREATE TABLE event_journal (
          id INTEGER PRIMARY KEY,
          task_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          event TEXT NOT NULL
        );
      `);
    },
  },
];

/** The version this code writes and reads: the last migration's. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** The file was written by a newer release: opening it here could misread or damage its rows. */
export class StoreVersionError extends Error {
  override name = 'StoreVersionError';
  constructor(
    readonly file: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `The database ${file} has schema version ${found}, newer than this release knows (${known}): ` +
        'it was written by a newer Transport Lab. Run that release, or set DATA_DIR to another folder.',
    );
  }
}

export interface MigrationReport {
  from: number;
  to: number;
  /** Descriptions of the migrations applied now, in order. */
  applied: string[];
}

/**
 * Brings the database to SCHEMA_VERSION: every pending migration and the new user_version in one
 * transaction (a failure leaves the file as it was), taken IMMEDIATE so that a second process
 * opening the same file waits instead of migrating it twice. Refuses a newer file.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
): MigrationReport {
  const known = migrations.at(-1)?.version ?? 0;
  const run = db.transaction((): MigrationReport => {
    const from = db.pragma('user_version', { simple: true }) as number;
    if (from > known) throw new StoreVersionError(db.name, from, known);
    const pending = migrations.filter((migration) => migration.version > from);
    for (const migration of pending) {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    }
    return { from, to: Math.max(from, known), applied: pending.map((m) => `${m.version}: ${m.description}`) };
  });
  return run.immediate();
}
