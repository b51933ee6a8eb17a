import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteTestKeys, requireRedis, TEST_REDIS_URL, testRedisKeys } from '../../test/redisForTests.ts';
import { closeRedis, connectRedis } from '../store/redis.ts';
import { redisWebhookHandover } from './handover.ts';

/**
 * What an instance that takes a task over reads of its webhooks (handover.ts): the subscriber as
 * subscribed, the highest settled seq (never lowered by a late write of an earlier one), a 410's
 * disabling, and nothing for a task without a webhook. On the Redis that CI starts; fails without one.
 */
describe('the webhook handover on Redis', () => {
  const keys = testRedisKeys();
  const closers: Array<() => Promise<void>> = [];
  beforeEach(async (context) => {
    await requireRedis(context);
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await deleteTestKeys(keys.prefix);
  });

  async function handover() {
    const redis = await connectRedis(TEST_REDIS_URL);
    closers.push(() => closeRedis(redis));
    return { redis, handover: redisWebhookHandover(redis, keys) };
  }

  it('keeps the subscriber and the highest settled seq, and expires with the task', async () => {
    const { redis, handover: kept } = await handover();
    expect(await kept.read('task-a')).toBeUndefined();
    const subscriber = {
      url: 'https://example.com/hooks',
      secret: 'whsec_abc',
      builtin: false,
      createdAt: 1_000,
    };
    await kept.subscribed('task-a', subscriber);
    expect(await kept.read('task-a')).toEqual({ ...subscriber, settledSeq: 0 });
    await kept.settled('task-a', 3);
    await kept.settled('task-a', 2); // a late write of an earlier seq
    expect((await kept.read('task-a'))?.settledSeq).toBe(3);
    const ttl = await redis.ttl(keys.webhookHandover('task-a'));
    expect(ttl).toBeGreaterThan(6 * 24 * 3_600);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 3_600);
    await kept.disabled('task-a', 5_000);
    expect(await kept.read('task-a')).toMatchObject({ disabledAt: 5_000, settledSeq: 3 });
    // Another task's record is its own.
    expect(await kept.read('task-b')).toBeUndefined();
  });
});
