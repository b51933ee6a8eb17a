import { it } from 'vitest';
import { testServersOnRedis } from './harness.ts';
import { redisForTests } from './redisForTests.ts';

/**
 * The lane contract (laneContract.test.ts) again, its server's tasks and Idempotency-Keys on Redis:
 * every lane's catch-up and resume then read what Redis stored, and the store's timing differs (a
 * create resolves when Redis answers). Run again rather than written again: the same tests, imported.
 */
const redis = await redisForTests();
if (redis.available) {
  testServersOnRedis();
  await import('./laneContract.test.ts');
} else if (redis.skip) {
  it('runs the lane contract on Redis', (context) => context.skip(redis.reason));
} else {
  it('runs the lane contract on Redis', () => {
    throw new Error(redis.error);
  });
}
