import type { TaskEvent } from '@transport-lab/shared';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteTestKeys,
  redisForTests,
  requireRedis,
  TEST_REDIS_URL,
  testRedisKeys,
} from '../../test/redisForTests.ts';
import { connectRedis } from '../store/redis.ts';
import type { EventListener, RunOutcome } from './engine.ts';
import { bullPrefix, type LeaseEngine, startTaskLeases, type TaskLeases, taskQueuesKey } from './leases.ts';

const logger = pino({ level: 'silent' });

/** An engine that runs nothing: it records which tasks it was asked to run, and each run settles
 *  when the test says, or with `stopping` when its instance stops. */
function fakeEngine() {
  const listeners = new Set<EventListener>();
  const runs = new Map<string, (outcome: RunOutcome) => void>();
  const asked: string[] = [];
  const watchers = new Set<() => void>();
  const engine: LeaseEngine = {
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    runUntilSettled(id) {
      asked.push(id);
      for (const watcher of [...watchers]) watcher();
      return new Promise((resolve) => runs.set(id, resolve));
    },
    waitForEnd: async () => ({ ended: false, reason: 'stopping' }),
  };
  return {
    engine,
    asked,
    /** A task accepted here: its `queued` event, as the engine publishes it. */
    accept(taskId: string) {
      const event = { type: 'queued', taskId, seq: 1, at: 0, dueAt: 0, spec: { durationMs: 1, steps: 1 } };
      for (const listener of listeners) listener(event as TaskEvent, {} as never);
    },
    settle(id: string, outcome: RunOutcome) {
      runs.get(id)?.(outcome);
      runs.delete(id);
    },
    stopAll() {
      for (const id of [...runs.keys()]) this.settle(id, 'stopping');
    },
    /** Resolves once the engine was asked to run `id`. */
    askedFor(id: string) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (!asked.includes(id)) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      });
    },
  };
}

describe('task leases (BullMQ, on Redis)', () => {
  const keys = testRedisKeys();
  const open: TaskLeases[] = [];
  beforeEach(async (context) => {
    await requireRedis(context);
  });
  afterEach(async () => {
    for (const leases of open.splice(0).reverse()) await leases.close();
    if ((await redisForTests()).available) await deleteTestKeys(keys.prefix);
  });

  async function instance(lockMs = 1_000) {
    const fake = fakeEngine();
    const leases = await startTaskLeases({
      redisUrl: TEST_REDIS_URL,
      prefix: keys.prefix,
      lockMs,
      engine: fake.engine,
      logger,
    });
    open.push(leases);
    return { ...fake, leases };
  }

  it('holds a task where it was accepted, and completes its job once it ended there', async () => {
    const a = await instance();
    a.accept('task-1');
    await a.askedFor('task-1');
    const redis = await connectRedis(TEST_REDIS_URL);
    const job = `${bullPrefix(keys.prefix)}:${a.leases.queueName}:task-1`;
    expect(await redis.exists(job)).toBe(1);
    a.settle('task-1', 'ended');
    // removeOnComplete: the job's hash goes once BullMQ has completed it (polled, up to 10 s: BullMQ
    // tells its own Worker only).
    for (let polls = 0; (await redis.exists(job)) === 1 && polls < 1_000; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await redis.exists(job)).toBe(0);
    await redis.quit();
  });

  it('hands the tasks of an instance that stops to another at once, and deletes its queue', async () => {
    // A lock far longer than the test: the handover cannot be the lock lapsing.
    const a = await instance(60_000);
    const b = await instance(60_000);
    a.accept('task-2');
    await a.askedFor('task-2');
    expect(b.asked).toEqual([]);
    const stoppedAt = performance.now();
    a.stopAll();
    await a.leases.close();
    open.splice(open.indexOf(a.leases), 1);
    // B looks at the registry every quarter of its lock (15 s here): a third instance starting now
    // looks at once, as a restarted server does.
    const c = await instance(60_000);
    await c.askedFor('task-2');
    expect(performance.now() - stoppedAt).toBeLessThan(5_000);
    const redis = await connectRedis(TEST_REDIS_URL);
    // The stopped instance's queue is deleted once empty, and its entry with it.
    for (
      let polls = 0;
      (await redis.zscore(taskQueuesKey(keys.prefix), a.leases.queueName)) !== null && polls < 1_000;
      polls++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await redis.zscore(taskQueuesKey(keys.prefix), a.leases.queueName)).toBeNull();
    const left = await redis.keys(`${bullPrefix(keys.prefix)}:${a.leases.queueName}:*`);
    expect(left).toEqual([]);
    await redis.quit();
  });
});
