import type Database from 'better-sqlite3';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { startCheckpointer } from './checkpointer.ts';
import { openSqliteDatabase, sqliteTaskStore } from './sqlite.ts';
import { sqliteIdempotencyStore } from './sqliteIdempotency.ts';
import type { IdempotencyStore, TaskStore } from './types.ts';
import { createWriteBatch, type WriteBatch } from './writeBatch.ts';

export type { IdempotencyStore, TaskStore, WriteBatch };

export interface Stores {
  /** The one SQLite database the stores share; other modules add their tables to it. */
  db: Database.Database;
  /** Writes committed together once per turn of the event loop (the task events, the run tags). */
  batch: WriteBatch;
  tasks: TaskStore;
  idempotency: IdempotencyStore;
  close(): Promise<void>;
}

/** The embedded stores in one SQLite file; a Redis implementation will be chosen here when
 *  REDIS_URL is set. */
export function openStores(config: Config, logger: Logger): Stores {
  const db = openSqliteDatabase(config.DATA_DIR);
  const batch = createWriteBatch(db);
  const checkpointer = startCheckpointer(db, (message) => logger.error(message));
  return {
    db,
    batch,
    tasks: sqliteTaskStore(db, batch),
    idempotency: sqliteIdempotencyStore(db, batch),
    async close() {
      batch.close();
      await checkpointer.close();
      db.close();
    },
  };
}
