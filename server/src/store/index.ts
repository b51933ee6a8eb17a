import type Database from 'better-sqlite3';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { CHECKPOINT_INTERVAL_MS, startCheckpointer } from './checkpointer.ts';
import { type Retention, startRetention, walSharePages } from './retention.ts';
import { openDatabase, sqliteTaskStore } from './sqlite.ts';
import { sqliteIdempotencyStore } from './sqliteIdempotency.ts';
import type { IdempotencyStore, TaskStore } from './types.ts';
import { createWriteBatch, type WriteBatch } from './writeBatch.ts';

export { StoreVersionError } from './migrations.ts';
export type { IdempotencyStore, Retention, TaskStore, WriteBatch };

export interface Stores {
  /** The one SQLite database the stores share; its tables, every module's, are in migrations.ts. */
  db: Database.Database;
  /** Writes committed together once per turn of the event loop (the task events, the run tags). */
  batch: WriteBatch;
  tasks: TaskStore;
  idempotency: IdempotencyStore;
  /** The retention sweep and size bound (RETENTION_HOURS, MAX_DATA_BYTES), on its timer. */
  retention: Retention;
  close(): Promise<void>;
}

/** The embedded stores in one SQLite file; a Redis implementation will be chosen here when
 *  REDIS_URL is set. Throws StoreVersionError for a file written by a newer release. */
export function openStores(
  config: Pick<Config, 'DATA_DIR' | 'RETENTION_HOURS' | 'MAX_DATA_BYTES'>,
  logger: Logger,
): Stores {
  const { db, report } = openDatabase(config.DATA_DIR);
  if (report.migration.applied.length > 0 || report.vacuum || report.dataDir.madePrivate) {
    logger.info(report, 'database opened: schema migrated, or files made private');
  }
  if (report.dataDir.leftShared) {
    logger.warn(
      { dataDir: config.DATA_DIR, reason: report.dataDir.leftShared },
      'DATA_DIR is readable by other users and was left so; the database files in it are private (0600)',
    );
  }
  const batch = createWriteBatch(db);
  // The WAL's share of MAX_DATA_BYTES is where the writer checkpoints by itself (retention.ts).
  const walPages = walSharePages(config.MAX_DATA_BYTES, db.pragma('page_size', { simple: true }) as number);
  const checkpointer = startCheckpointer(
    db,
    (message) => logger.error(message),
    CHECKPOINT_INTERVAL_MS,
    walPages,
  );
  const retention = startRetention(
    db,
    { retentionMs: config.RETENTION_HOURS * 3_600_000, maxDataBytes: config.MAX_DATA_BYTES },
    logger,
  );
  return {
    db,
    batch,
    tasks: sqliteTaskStore(db, batch),
    idempotency: sqliteIdempotencyStore(db, batch),
    retention,
    async close() {
      // Before the batch's last flush: a sweep stops between two of its transactions.
      await retention.close();
      batch.close();
      await checkpointer.close();
      db.close();
    },
  };
}
