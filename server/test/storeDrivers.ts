import { rmSync } from 'node:fs';
import { afterEach, beforeEach } from 'vitest';
import { epochNow } from '../src/observability/clock.ts';
import { IDEMPOTENCY_LIFETIMES, type IdempotencyLifetimes } from '../src/store/idempotency.ts';
import { closeRedis, connectRedis } from '../src/store/redis.ts';
import { redisFaultStore } from '../src/store/redisFaults.ts';
import { redisIdempotencyStore } from '../src/store/redisIdempotency.ts';
import { redisTaskStore } from '../src/store/redisTasks.ts';
import { openSqliteDatabase, openSqliteStore } from '../src/store/sqlite.ts';
import { type FaultStore, sqliteFaultStore } from '../src/store/sqliteFaults.ts';
import { sqliteIdempotencyStore } from '../src/store/sqliteIdempotency.ts';
import type { IdempotencyStore, TaskStore } from '../src/store/types.ts';
import { createWriteBatch } from '../src/store/writeBatch.ts';
import { tempDataDir } from './harness.ts';
import { deleteTestKeys, requireRedis, TEST_REDIS_URL, testRedisKeys } from './redisForTests.ts';

/**
 * The stores' implementations, for the contract suites (server/src/store/*.contract.test.ts) that run
 * the same tests against each: `describe.each(STORE_DRIVERS)`. The Redis driver needs a Redis, and
 * its tests fail without one (redisForTests.ts).
 */

/**
 * One store's data, empty at first (a SQLite file in a temporary folder, or a random prefix on Redis),
 * on which any number of stores open: each is an instance of the server's (its own connection), and
 * all see the same data. `close()` closes them all and deletes the data.
 */
export interface StoreWorld {
  tasks(options?: { retentionMs?: number }): Promise<TaskStore>;
  idempotency(lifetimes?: IdempotencyLifetimes): Promise<IdempotencyStore>;
  /** The fault records and run tags. */
  faults(): Promise<FaultStore>;
  close(): Promise<void>;
}

export interface StoreDriver {
  kind: 'sqlite' | 'redis';
  /** Instances on one data see each other's writes at once (several servers on one Redis). */
  shared: boolean;
  world(): Promise<StoreWorld>;
}

const sqliteDriver: StoreDriver = {
  kind: 'sqlite',
  shared: false,
  async world() {
    const dir = tempDataDir();
    const closers: Array<() => Promise<void> | void> = [];
    return {
      async tasks() {
        // The embedded store as `openSqliteStore` makes it for tools: its close() flushes its batch.
        const store = openSqliteStore(dir);
        let closed: Promise<void> | undefined;
        const close = () => (closed ??= store.close());
        closers.push(close);
        return { ...store, close };
      },
      async idempotency(lifetimes = IDEMPOTENCY_LIFETIMES) {
        const db = openSqliteDatabase(dir);
        const batch = createWriteBatch(db);
        closers.push(() => {
          batch.close();
          db.close();
        });
        return sqliteIdempotencyStore(db, batch, epochNow, lifetimes);
      },
      async faults() {
        const db = openSqliteDatabase(dir);
        const batch = createWriteBatch(db);
        closers.push(() => {
          batch.close();
          db.close();
        });
        return sqliteFaultStore(db, batch);
      },
      async close() {
        for (const close of closers.splice(0).reverse()) await close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const redisDriver: StoreDriver = {
  kind: 'redis',
  shared: true,
  async world() {
    const keys = testRedisKeys();
    const closers: Array<() => Promise<void>> = [];
    const connect = async () => {
      const redis = await connectRedis(TEST_REDIS_URL);
      closers.push(() => closeRedis(redis));
      return redis;
    };
    return {
      async tasks({ retentionMs = 3_600_000 } = {}) {
        const store = redisTaskStore(await connect(), { keys, retentionMs });
        // Before its connection's quit (closers run in reverse).
        closers.push(() => store.close());
        return store;
      },
      async idempotency(lifetimes = IDEMPOTENCY_LIFETIMES) {
        return redisIdempotencyStore(await connect(), keys, lifetimes);
      },
      async faults() {
        return redisFaultStore(await connect(), keys, 3_600_000);
      },
      async close() {
        for (const close of closers.splice(0).reverse()) await close();
        await deleteTestKeys(keys.prefix);
      },
    };
  },
};

export const STORE_DRIVERS: readonly StoreDriver[] = [sqliteDriver, redisDriver];

/** First thing in a driver's test (or its beforeEach): a Redis driver's test needs Redis. */
export async function requireDriver(
  driver: StoreDriver,
  context: { skip(note?: string): void },
): Promise<void> {
  if (driver.kind === 'redis') await requireRedis(context);
}

/** For a describe block: a fresh world of `driver`'s before each test (the test skipped or failed
 *  first if it needs a Redis that is not there), closed after it. */
export function useStoreWorld(driver: StoreDriver): () => StoreWorld {
  let world: StoreWorld | undefined;
  beforeEach(async (context) => {
    await requireDriver(driver, context);
    world = await driver.world();
  });
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });
  return () => {
    if (!world) throw new Error('no store world outside a test');
    return world;
  };
}
