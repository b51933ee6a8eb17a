import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach } from 'vitest';
import { epochNow } from '../src/observability/clock.ts';
import { IDEMPOTENCY_LIFETIMES, type IdempotencyLifetimes } from '../src/store/idempotency.ts';
import { closeRedis, connectRedis, type RedisKeys, redisKeys } from '../src/store/redis.ts';
import { redisIdempotencyStore } from '../src/store/redisIdempotency.ts';
import { redisTaskStore } from '../src/store/redisTasks.ts';
import { openSqliteDatabase, openSqliteStore } from '../src/store/sqlite.ts';
import { sqliteIdempotencyStore } from '../src/store/sqliteIdempotency.ts';
import type { IdempotencyStore, TaskStore } from '../src/store/types.ts';
import { createWriteBatch } from '../src/store/writeBatch.ts';
import { tempDataDir } from './harness.ts';

/**
 * The stores' implementations, for the contract suites (server/src/store/*.contract.test.ts) that run
 * the same tests against each: `describe.each(STORE_DRIVERS)`.
 *
 * Redis is required, never skipped silently: the Redis driver uses REDIS_URL, else
 * redis://127.0.0.1:6379. When nothing answers there, its tests FAIL, saying so; outside CI (no `CI`
 * in the environment), SKIP_REDIS_TESTS=1 skips them instead, each saying why. `.ci/run` starts a
 * Redis when none answers (.ci/with-redis).
 */
export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export type RedisForTests =
  | { available: true }
  | { available: false; skip: false; error: string }
  | { available: false; skip: true; reason: string };

async function probeRedis(): Promise<RedisForTests> {
  try {
    const redis = await connectRedis(TEST_REDIS_URL, () => {}, 2_000);
    await redis.quit();
    return { available: true };
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    const why = `No Redis answered at ${TEST_REDIS_URL} (${cause}).`;
    if (process.env.SKIP_REDIS_TESTS === '1' && !process.env.CI) {
      return { available: false, skip: true, reason: `SKIP_REDIS_TESTS=1. ${why}` };
    }
    const howToSkip = process.env.CI
      ? 'CI is set: the Redis tests never skip there (.ci/run starts a Redis when none answers).'
      : "Start one (Debian: redis-server --port 6379 --save ''), set REDIS_URL, or set SKIP_REDIS_TESTS=1 to skip these tests on this machine.";
    return { available: false, skip: false, error: `The Redis tests need a Redis. ${why} ${howToSkip}` };
  }
}

/** Probed once per test file that imports this module. */
export const redisForTests: RedisForTests = await probeRedis();
if (!redisForTests.available && redisForTests.skip)
  console.warn(`skipping the Redis tests: ${redisForTests.reason}`);

/** First thing in a test (or its beforeEach) that needs Redis: skips it, saying why, with
 *  SKIP_REDIS_TESTS=1 outside CI; else fails it when no Redis answers. */
export function requireRedis(context: { skip(note?: string): void }): void {
  if (redisForTests.available) return;
  if (redisForTests.skip) context.skip(redisForTests.reason);
  else throw new Error(redisForTests.error);
}

/**
 * One store's data, empty at first (a SQLite file in a temporary folder, or a random prefix on Redis),
 * on which any number of stores open: each is an instance of the server's (its own connection), and
 * all see the same data. `close()` closes them all and deletes the data.
 */
export interface StoreWorld {
  tasks(options?: { retentionMs?: number }): Promise<TaskStore>;
  idempotency(lifetimes?: IdempotencyLifetimes): Promise<IdempotencyStore>;
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
      async close() {
        for (const close of closers.splice(0).reverse()) await close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Deletes every key under the prefix, on a connection of its own (SCAN, never FLUSHALL: others
 *  use this Redis). */
export async function deleteTestKeys(prefix: string): Promise<void> {
  const redis = await connectRedis(TEST_REDIS_URL);
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    if (found.length > 0) await redis.unlink(...found);
  } while (cursor !== '0');
  await redis.quit();
}

/** A fresh prefix for one test's keys. */
export function testRedisKeys(): RedisKeys {
  return redisKeys(`transport-lab-test:${randomUUID()}:`);
}

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
      async close() {
        for (const close of closers.splice(0).reverse()) await close();
        await deleteTestKeys(keys.prefix);
      },
    };
  },
};

export const STORE_DRIVERS: readonly StoreDriver[] = [sqliteDriver, redisDriver];

/** First thing in a driver's test (or its beforeEach): a Redis driver's test needs Redis. */
export function requireDriver(driver: StoreDriver, context: { skip(note?: string): void }): void {
  if (driver.kind === 'redis') requireRedis(context);
}

/** For a describe block: a fresh world of `driver`'s before each test (the test skipped or failed
 *  first if it needs a Redis that is not there), closed after it. */
export function useStoreWorld(driver: StoreDriver): () => StoreWorld {
  let world: StoreWorld | undefined;
  beforeEach(async (context) => {
    requireDriver(driver, context);
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
