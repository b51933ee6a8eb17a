import { randomUUID } from 'node:crypto';
import { connectRedis, type RedisKeys, redisKeys } from '../src/store/redis.ts';

/**
 * The Redis the tests use: REDIS_URL, else redis://127.0.0.1:6379, each test under a prefix of its
 * own, deleted afterwards (never FLUSHALL: others use this Redis).
 *
 * Required in CI, never skipped silently: when nothing answers and `CI` is set, a test that needs it
 * FAILS, saying so; elsewhere (a newcomer's `npm test` with no Redis and no root to install one) it is
 * skipped with the reason, printed and counted in the summary. `npm test` starts a Redis when none
 * answers and it can (scripts/with-redis.sh).
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
    if (!process.env.CI) {
      const reason = `${why} Start one (Debian: redis-server --port 6379 --save '') or set REDIS_URL to run them.`;
      console.warn(`skipping the Redis tests: ${reason}`);
      return { available: false, skip: true, reason };
    }
    return {
      available: false,
      skip: false,
      error: `The Redis tests need a Redis. ${why} CI is set: they never skip there (npm test starts a Redis when none answers).`,
    };
  }
}

let probed: Promise<RedisForTests> | undefined;
/** Whether a Redis answers, asked once per test file (by the first test that needs it). */
export function redisForTests(): Promise<RedisForTests> {
  probed ??= probeRedis();
  return probed;
}

/** First thing in a test (or its beforeEach) that needs Redis: when no Redis answers, fails it in CI
 *  and skips it elsewhere, saying why. */
export async function requireRedis(context: { skip(note?: string): void }): Promise<void> {
  const redis = await redisForTests();
  if (redis.available) return;
  if (redis.skip) context.skip(redis.reason);
  else throw new Error(redis.error);
}

/** A fresh prefix for one test's keys. */
export function testRedisKeys(): RedisKeys {
  return redisKeys(`transport-lab-test:${randomUUID()}:`);
}

/** Deletes every key under the prefix, on a connection of its own (SCAN + UNLINK). */
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
