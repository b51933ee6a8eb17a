import { randomUUID } from 'node:crypto';
import { connectRedis, type RedisKeys, redisKeys } from '../src/store/redis.ts';

/**
 * The Redis the tests use: REDIS_URL, else redis://127.0.0.1:6379, each test under a prefix of its
 * own, deleted afterwards (never FLUSHALL: others use this Redis).
 *
 * Required, never skipped silently: when nothing answers, a test that needs it FAILS, saying so;
 * outside CI (no `CI` in the environment), SKIP_REDIS_TESTS=1 skips it instead, saying why. `.ci/run`
 * starts a Redis when none answers (.ci/with-redis).
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
      console.warn(`skipping the Redis tests: SKIP_REDIS_TESTS=1. ${why}`);
      return { available: false, skip: true, reason: `SKIP_REDIS_TESTS=1. ${why}` };
    }
    const howToSkip = process.env.CI
      ? 'CI is set: the Redis tests never skip there (.ci/run starts a Redis when none answers).'
      : "Start one (Debian: redis-server --port 6379 --save ''), set REDIS_URL, or set SKIP_REDIS_TESTS=1 to skip these tests on this machine.";
    return { available: false, skip: false, error: `The Redis tests need a Redis. ${why} ${howToSkip}` };
  }
}

let probed: Promise<RedisForTests> | undefined;
/** Whether a Redis answers, asked once per test file (by the first test that needs it). */
export function redisForTests(): Promise<RedisForTests> {
  probed ??= probeRedis();
  return probed;
}

/** First thing in a test (or its beforeEach) that needs Redis: skips it, saying why, with
 *  SKIP_REDIS_TESTS=1 outside CI; else fails it when no Redis answers. */
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
