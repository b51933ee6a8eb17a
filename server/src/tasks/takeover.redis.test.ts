import type { TaskEvent } from '@transport-lab/shared';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamBreaches } from '../../test/harness.ts';
import { deleteTestKeys, requireRedis, TEST_REDIS_URL, testRedisKeys } from '../../test/redisForTests.ts';
import { closeRedis, connectRedis } from '../store/redis.ts';
import { redisRemoteEvents } from '../store/redisRemoteEvents.ts';
import { redisTaskStore } from '../store/redisTasks.ts';
import { TaskEngine } from './engine.ts';

const logger = pino({ level: 'silent' });

/**
 * Two engines on one Redis, each with its own connection, store and reader of the other's logs, as two
 * instances have. What the leases (leases.ts) must be able to count on from the engine when a task is
 * taken over, even by mistake while its instance still runs it (one that froze past its lock and came
 * back): the store's seq check lets one run write each seq, the other halts, and whoever listens hears
 * each seq once, to the end.
 */
describe('a task taken over on Redis (engine.runUntilSettled)', () => {
  const keys = testRedisKeys();
  const cleanups: Array<() => Promise<void>> = [];
  beforeEach(async (context) => {
    await requireRedis(context);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await deleteTestKeys(keys.prefix);
  });

  async function instance() {
    const redis = await connectRedis(TEST_REDIS_URL);
    const store = redisTaskStore(redis, { keys, retentionMs: 60_000 });
    const remote = redisRemoteEvents(redis, keys);
    const engine = new TaskEngine({ store, logger, remote });
    cleanups.push(async () => {
      await engine.stop();
      await remote.close();
      await store.close();
      await closeRedis(redis);
    });
    return { engine, store };
  }

  /** A task of `steps` steps, 100 ms apart, run by A and heard on B from its start, once A has
   *  published step `step`. */
  async function runOnAHeardOnB(steps: number, step: number) {
    const a = await instance();
    const b = await instance();
    const task = await a.engine.create({ durationMs: steps * 100, steps });
    const heard: TaskEvent[] = [];
    const off = await b.engine.subscribe(task.id, 0, (event) => heard.push(event));
    cleanups.push(async () => off());
    await new Promise<void>((resolve) => {
      a.engine.onTaskEvent(task.id, (event) => {
        if (event.type === 'progress' && event.step === step) resolve();
      });
    });
    return { a, b, task, heard };
  }

  it('while its instance still runs it: one run wins each seq, the other halts, and the listeners here hear each seq once to the end', async () => {
    const { a, b, task, heard } = await runOnAHeardOnB(12, 2);
    const outcome = await b.engine.runUntilSettled(task.id);
    // B ran it to its end, or lost a seq to A and halted (then it follows A's writes again).
    expect(['ended', 'halted']).toContain(outcome);
    const ended = await b.engine.waitForEnd(task.id, 10_000);
    expect(ended).toMatchObject({ ended: true, task: { status: 'succeeded', step: 12 } });
    expect(streamBreaches(heard, 12)).toEqual([]);
    expect(heard).toHaveLength(12 + 3);
    // One log: each seq written once, whichever run wrote it.
    expect(streamBreaches(await b.store.eventsAfter(task.id, 0), 12)).toEqual([]);
  });

  it('after its instance stopped: taken on from the last stored step, heard once here', async () => {
    const { a, b, task, heard } = await runOnAHeardOnB(8, 3);
    await a.engine.stop();
    const storedSeq = (await b.store.eventsAfter(task.id, 0)).at(-1)?.seq ?? 0;
    expect(await b.engine.runUntilSettled(task.id)).toBe('ended');
    expect(streamBreaches(heard, 8)).toEqual([]);
    const log = await b.store.eventsAfter(task.id, 0);
    expect(streamBreaches(log, 8)).toEqual([]);
    // Went on from the step after the last stored one.
    const firstAfter = log.find((event) => event.seq === storedSeq + 1);
    expect(firstAfter?.type === 'progress' && firstAfter.step).toBe(storedSeq - 2 + 1);
  });
});
