import type { TaskEvent, TaskState } from '@transport-lab/shared';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteTestKeys, requireRedis, TEST_REDIS_URL, testRedisKeys } from '../../test/redisForTests.ts';
import { closeRedis, connectRedis, type RedisKeys } from './redis.ts';
import { REMOTE_BLOCK_MS, redisRemoteEvents, remoteReaderName } from './redisRemoteEvents.ts';
import { redisTaskStore } from './redisTasks.ts';
import type { RemoteEvents, TaskStore } from './types.ts';

/** Other instances' task events read from the logs (redisRemoteEvents.ts): here the "other instance"
 *  is a task store on a connection of its own, writing as an engine would. */

const spec = { durationMs: 10, steps: 3 };
const state = (id: string, lastSeq: number): TaskState => ({
  id,
  spec,
  status: lastSeq === 1 ? 'queued' : 'running',
  step: 0,
  steps: 3,
  percent: 0,
  lastSeq,
  createdAt: 1,
});
const queued = (id: string): TaskEvent => ({ type: 'queued', taskId: id, seq: 1, at: 1, spec });
const progress = (id: string, seq: number): TaskEvent =>
  seq === 2
    ? { type: 'started', taskId: id, seq, at: seq }
    : { type: 'progress', taskId: id, seq, at: seq, step: seq - 2, steps: 3, percent: 0 };

describe('the events of tasks another instance runs, on Redis', () => {
  let redis: Redis;
  let writer: Redis;
  let keys: RedisKeys;
  let store: TaskStore;
  let remote: RemoteEvents;
  beforeEach(async (context) => {
    await requireRedis(context);
    keys = testRedisKeys();
    redis = await connectRedis(TEST_REDIS_URL);
    writer = await connectRedis(TEST_REDIS_URL);
    store = redisTaskStore(writer, { keys, retentionMs: 60_000 });
    remote = redisRemoteEvents(redis, keys);
  });
  afterEach(async () => {
    if (!redis) return;
    await remote.close();
    await store.close();
    await closeRedis(redis);
    await closeRedis(writer);
    await deleteTestKeys(keys.prefix);
  });

  /** Appends seqs from..to of a task, as the instance running it would. */
  const write = async (id: string, from: number, to: number) => {
    for (let seq = from; seq <= to; seq++) {
      if (seq === 1) await store.createTask(state(id, 1), queued(id));
      else await store.appendEvent(progress(id, seq), state(id, seq));
    }
  };
  const heard = (id: string) => {
    const seqs: number[] = [];
    let wake: (() => void) | undefined;
    const stop = remote.follow(id, (event) => {
      seqs.push(event.seq);
      wake?.();
    });
    const until = (seq: number) =>
      new Promise<void>((resolve) => {
        wake = () => {
          if (seqs.includes(seq)) resolve();
        };
        wake();
      });
    return { seqs, stop, until };
  };

  it('delivers each task’s events after the log’s end at follow time, in order, once each', async () => {
    await write('task-aaaa', 1, 2);
    const a = heard('task-aaaa');
    const b = heard('task-bbbb');
    // The follow begins at the end as read on the shared connection: a read made after it (here a
    // PING on the same connection) is answered after the start was read.
    await redis.ping();
    await write('task-aaaa', 3, 5);
    await write('task-bbbb', 1, 4);
    await Promise.all([a.until(5), b.until(4)]);
    expect(a.seqs).toEqual([3, 4, 5]);
    expect(b.seqs).toEqual([1, 2, 3, 4]);
  });

  it('stops delivering a task once unfollowed, and goes on with the others', async () => {
    const a = heard('task-aaaa');
    const b = heard('task-bbbb');
    await redis.ping();
    await write('task-aaaa', 1, 2);
    await a.until(2);
    a.stop();
    await write('task-aaaa', 3, 4);
    await write('task-bbbb', 1, 2);
    await b.until(2);
    expect(a.seqs).toEqual([1, 2]);
  });

  it('hears a task followed while the read blocks at once, not after the block (the wake stream)', async () => {
    const first = heard('task-first');
    await redis.ping();
    await write('task-first', 1, 1);
    await first.until(1);
    // The reader now blocks on `first` alone for up to REMOTE_BLOCK_MS.
    const began = performance.now();
    const later = heard('task-later');
    await redis.ping();
    await write('task-later', 1, 1);
    await later.until(1);
    expect(performance.now() - began).toBeLessThan(REMOTE_BLOCK_MS / 2);
  });

  it('reads every task followed on one connection of its own', async () => {
    const followed = Array.from({ length: 40 }, (_, index) => heard(`task-id-${index}`));
    await redis.ping();
    await Promise.all(followed.map((_, index) => write(`task-id-${index}`, 1, 2)));
    await Promise.all(followed.map((one) => one.until(2)));
    const clients = (await redis.client('LIST')) as string;
    const readers = clients.split('\n').filter((line) => line.includes(` name=${remoteReaderName(keys)} `));
    expect(readers).toHaveLength(1);
    expect(followed.every((one) => one.seqs.join() === '1,2')).toBe(true);
  });
});
