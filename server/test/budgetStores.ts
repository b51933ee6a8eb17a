import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect } from 'vitest';
import { memoryBudgets, type RateBudgets, redisBudgets } from '../src/access/index.ts';
import { AppError } from '../src/errors.ts';
import { closeRedis, connectRedis, type RedisKeys } from '../src/store/redis.ts';
import { deleteTestKeys, requireRedis, TEST_REDIS_URL, testRedisKeys } from './redisForTests.ts';

/** The stores the rate budgets count in (access/rateBudgets.ts), for `describe.each`. */
export const BUDGET_STORES = ['memory', 'redis'] as const;
export type BudgetStore = (typeof BUDGET_STORES)[number];

export interface Instance {
  budgets: RateBudgets;
  /** The instance's own Redis connection (undefined in memory), to break it mid-test. */
  redis: Redis | undefined;
}

/**
 * Registers, in the calling `describe`, what each test needs to make "instances" of the budgets on
 * `store`: in memory each is its own; on Redis each has a connection of its own, and all of one test
 * share a key prefix of the test's own (Redis required: `requireRedis`), deleted afterwards.
 */
export function budgetInstances(store: BudgetStore) {
  let keys: RedisKeys | undefined;
  const connections: Redis[] = [];
  beforeEach(async (context) => {
    if (store === 'memory') return;
    await requireRedis(context);
    keys = testRedisKeys();
  });
  afterEach(async () => {
    for (const redis of connections.splice(0)) await closeRedis(redis);
    if (keys) await deleteTestKeys(keys.prefix);
    keys = undefined;
  });
  const testKeys = (): RedisKeys => {
    if (!keys) throw new Error('no Redis keys: the budgets are in memory');
    return keys;
  };
  return {
    /** The test's key prefix on Redis. */
    keys: testKeys,
    /** One more instance: its own limiters, on the test's Redis prefix when on Redis. */
    async instance(): Promise<Instance> {
      if (store === 'memory') return { budgets: memoryBudgets, redis: undefined };
      const redis = await connectRedis(TEST_REDIS_URL);
      connections.push(redis);
      return { budgets: redisBudgets(redis, testKeys().rateBudget), redis };
    },
  };
}

/** Runs `act` and returns the RATE_LIMITED refusal it throws (anything else fails the test). */
export async function refusal(act: () => Promise<unknown>): Promise<AppError> {
  const error = await act().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AppError)) throw new Error(`expected a RATE_LIMITED refusal, got ${String(error)}`);
  expect(error.code).toBe('RATE_LIMITED');
  expect(error.status).toBe(429);
  return error;
}
