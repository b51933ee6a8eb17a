import type Database from 'better-sqlite3';
import type { Config } from '../config.ts';
import { openSqliteDatabase, sqliteTaskStore } from './sqlite.ts';
import { sqliteIdempotencyStore } from './sqliteIdempotency.ts';
import type { IdempotencyStore, TaskStore } from './types.ts';

export type { IdempotencyStore, TaskStore };

export interface Stores {
  /** The one SQLite database the stores share; other modules add their tables to it. */
  db: Database.Database;
  tasks: TaskStore;
  idempotency: IdempotencyStore;
  close(): Promise<void>;
}

/** The embedded stores in one SQLite file; a Redis implementation will be chosen here when
 *  REDIS_URL is set. */
export function openStores(config: Config): Stores {
  const db = openSqliteDatabase(config.DATA_DIR);
  return {
    db,
    tasks: sqliteTaskStore(db),
    idempotency: sqliteIdempotencyStore(db),
    async close() {
      db.close();
    },
  };
}
