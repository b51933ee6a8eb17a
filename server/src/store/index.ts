import type Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { CHECKPOINT_INTERVAL_MS, startCheckpointer } from './checkpointer.ts';
import { closeRedis, connectRedis, type RedisKeys, redactedRedisUrl, redisKeys } from './redis.ts';
import { redisIdempotencyStore } from './redisIdempotency.ts';
import { redisRemoteEvents } from './redisRemoteEvents.ts';
import { redisTaskStore } from './redisTasks.ts';
import { type Retention, startRetention, walSharePages } from './retention.ts';
import { journalRowsFor, openDatabase, sqliteTaskStore, withLocalTaskRows } from './sqlite.ts';
import { sqliteIdempotencyStore } from './sqliteIdempotency.ts';
import type { IdempotencyStore, RemoteEvents, TaskStore } from './types.ts';
import { createWriteBatch, type WriteBatch } from './writeBatch.ts';

export { StoreVersionError } from './migrations.ts';
export { RedisUnavailableError } from './redis.ts';
export type { IdempotencyStore, RemoteEvents, Retention, TaskStore, WriteBatch };

export interface Stores {
  /** The one SQLite database the stores share; its tables, every module's, are in migrations.ts. */
  db: Database.Database;
  /** Writes committed together once per turn of the event loop (the task events, the run tags). */
  batch: WriteBatch;
  /** The tasks and their logs: on Redis when REDIS_URL is set, else in the SQLite file. */
  tasks: TaskStore;
  /** On Redis when REDIS_URL is set, else in the SQLite file. */
  idempotency: IdempotencyStore;
  /** With REDIS_URL: the live events of tasks other instances run (the engine's `remote`). */
  remoteEvents: RemoteEvents | undefined;
  /** With REDIS_URL: the connection the stores use, and its keys, for socket.io's adapter (app.ts). */
  redis: { connection: Redis; keys: RedisKeys } | undefined;
  /** The retention sweep and size bound (RETENTION_HOURS, MAX_DATA_BYTES), on its timer. */
  retention: Retention;
  close(): Promise<void>;
}

/**
 * The embedded stores in one SQLite file; with REDIS_URL, the tasks (with their event logs) and the
 * Idempotency-Keys on Redis instead, shared by every instance on it, and the rest still in the file
 * (the webhook queue, the fault records and run tags: server/src/store/README.md). Rejects
 * with StoreVersionError for a file written by a newer release, RedisUnavailableError when Redis
 * does not answer.
 */
export async function openStores(
  config: Pick<Config, 'DATA_DIR' | 'RETENTION_HOURS' | 'MAX_DATA_BYTES' | 'REDIS_URL' | 'REDIS_PREFIX'> &
    Partial<Pick<Config, 'STORE_COMMIT_INTERVAL_MS'>>,
  logger: Logger,
): Promise<Stores> {
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
  const batch = createWriteBatch(db, { minCommitIntervalMs: config.STORE_COMMIT_INTERVAL_MS });
  const retentionMs = config.RETENTION_HOURS * 3_600_000;
  const keys = redisKeys(config.REDIS_PREFIX);
  let redis: Redis | undefined;
  if (config.REDIS_URL) {
    try {
      redis = await connectRedis(config.REDIS_URL, (error) =>
        logger.error({ err: error }, 'Redis connection error; ioredis reconnects'),
      );
    } catch (error) {
      batch.close();
      db.close();
      throw error;
    }
    logger.info(
      { redis: redactedRedisUrl(config.REDIS_URL), prefix: config.REDIS_PREFIX },
      'tasks and Idempotency-Keys on Redis',
    );
  }
  const tasks = redis
    ? withLocalTaskRows(redisTaskStore(redis, { keys, retentionMs }), db, batch)
    : sqliteTaskStore(db, batch, { journalRows: journalRowsFor(config.MAX_DATA_BYTES) });
  const idempotency = redis ? redisIdempotencyStore(redis, keys) : sqliteIdempotencyStore(db, batch);
  const remoteEvents = redis
    ? redisRemoteEvents(redis, keys, (error) =>
        logger.error({ err: error }, 'reading other instances’ task events failed; retrying'),
      )
    : undefined;
  // The WAL's share of MAX_DATA_BYTES is where the writer checkpoints by itself (retention.ts).
  const walPages = walSharePages(config.MAX_DATA_BYTES, db.pragma('page_size', { simple: true }) as number);
  const checkpointer = startCheckpointer(
    db,
    (message) => logger.error(message),
    CHECKPOINT_INTERVAL_MS,
    walPages,
  );
  const retention = startRetention(db, { retentionMs, maxDataBytes: config.MAX_DATA_BYTES }, logger);
  return {
    db,
    batch,
    tasks,
    idempotency,
    remoteEvents,
    redis: redis && { connection: redis, keys },
    retention,
    async close() {
      // Before the batch's last flush: a sweep stops between two of its transactions.
      await retention.close();
      await remoteEvents?.close();
      // The Redis writes still queued land before the connection closes.
      await tasks.close();
      if (redis) await closeRedis(redis);
      batch.close();
      await checkpointer.close();
      db.close();
    },
  };
}
