import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskEvent, TaskState } from '@transport-lab/shared';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { deleteTestKeys, requireRedis, TEST_REDIS_URL, testRedisKeys } from '../../test/redisForTests.ts';
import { createLogger } from '../observability/logger.ts';
import { openStores } from './index.ts';
import { closeRedis, connectRedis, type RedisKeys } from './redis.ts';
import { redisTaskStore } from './redisTasks.ts';
import { sqliteFaultStore } from './sqliteFaults.ts';

/** What the Redis task store does beyond the contract (taskStore.contract.test.ts): its keys' lives,
 *  its one call per turn, a lost connection, and the SQLite rows kept beside it (store/index.ts). */

const spec = { durationMs: 10, steps: 1 };
const task: TaskState = {
  id: 'task-one',
  spec,
  status: 'queued',
  step: 0,
  steps: 1,
  percent: 0,
  lastSeq: 1,
  createdAt: 1,
};
const queued: TaskEvent = { type: 'queued', taskId: 'task-one', seq: 1, at: 1, spec };
const started: [TaskEvent, TaskState] = [
  { type: 'started', taskId: 'task-one', seq: 2, at: 2 },
  { ...task, status: 'running', lastSeq: 2, startedAt: 2 },
];
const cancelled: [TaskEvent, TaskState] = [
  { type: 'cancelled', taskId: 'task-one', seq: 3, at: 3 },
  { ...task, status: 'cancelled', lastSeq: 3, startedAt: 2, finishedAt: 3 },
];

describe('the Redis task store', () => {
  let redis: Redis;
  let keys: RedisKeys;
  beforeEach(async (context) => {
    await requireRedis(context);
    redis = await connectRedis(TEST_REDIS_URL);
    keys = testRedisKeys();
  });
  afterEach(async () => {
    if (!redis) return;
    await closeRedis(redis);
    await deleteTestKeys(keys.prefix);
  });

  it('keeps an unfinished task for good, and an ended one (snapshot and log) for the retention', async () => {
    const store = redisTaskStore(redis, { keys, retentionMs: 300 });
    await store.createTask(task, queued);
    await store.appendEvent(...started);
    expect(await redis.pttl(keys.task('task-one'))).toBe(-1);
    expect(await redis.pttl(keys.events('task-one'))).toBe(-1);
    expect(await redis.zrange(keys.unfinished, 0, -1)).toEqual(['task-one']);

    await store.appendEvent(...cancelled);
    expect(await redis.zrange(keys.unfinished, 0, -1)).toEqual([]);
    expect(await redis.pttl(keys.task('task-one'))).toBeGreaterThan(0);
    await sleep(400);
    expect(await redis.exists(keys.task('task-one'), keys.events('task-one'))).toBe(0);
    expect(await store.getTask('task-one')).toBeUndefined();
  });

  it('keeps the log as a stream whose entry ids are the seqs', async () => {
    const store = redisTaskStore(redis, { keys, retentionMs: 60_000 });
    await store.createTask(task, queued);
    await store.appendEvent(...started);
    const entries = await redis.xrange(keys.events('task-one'), '-', '+');
    expect(entries.map(([id, fields]) => [id, JSON.parse(fields[1] ?? '').type])).toEqual([
      ['1-0', 'queued'],
      ['2-0', 'started'],
    ]);
  });

  it('sends the writes of one turn in one call, and the next turn’s in another', async () => {
    const store = redisTaskStore(redis, { keys, retentionMs: 60_000 });
    const calls = vi.spyOn(redis, 'transportLabWriteTasks');
    await Promise.all([
      store.createTask(task, queued),
      store.createTask({ ...task, id: 'task-two' }, { ...queued, taskId: 'task-two' }),
      store.appendEvent(...started),
    ]);
    expect(calls).toHaveBeenCalledTimes(1);
    await store.appendEvent(...cancelled);
    expect(calls).toHaveBeenCalledTimes(2);
  });

  it('fails the writes of a call Redis never answered, and the task’s later writes with them', async () => {
    const store = redisTaskStore(redis, { keys, retentionMs: 60_000 });
    await store.createTask(task, queued);
    redis.disconnect();
    await expect(store.appendEvent(...started)).rejects.toThrow();
    await expect(store.appendEvent(...cancelled)).rejects.toThrow(/earlier write/);
  });
});

describe('the stores on REDIS_URL', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keep a SQLite row per task, so that the retention sweep deletes what hangs from it there', async (context) => {
    await requireRedis(context);
    const dir = tempDataDir();
    const keys = testRedisKeys();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => deleteTestKeys(keys.prefix));
    const stores = await openStores(
      {
        DATA_DIR: dir,
        RETENTION_HOURS: 1,
        MAX_DATA_BYTES: 256 * 1_048_576,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: keys.prefix,
      },
      createLogger('silent'),
    );
    cleanups.push(() => stores.close());
    expect(stores.tasks.kind).toBe('redis');
    const faults = sqliteFaultStore(stores.db, stores.batch);
    await Promise.all([
      faults.tagTask('task-one', 'run-1', 'websocket'),
      stores.tasks.createTask(task, queued),
    ]);
    await stores.tasks.appendEvent(...started);
    const row = () => stores.db.prepare('SELECT status, finished_at FROM tasks WHERE id = ?').get('task-one');
    expect(row()).toEqual({ status: 'running', finished_at: null });

    // A sweep while it runs keeps its run tag; once it has ended, past the retention, both go.
    await stores.retention.sweep(Date.now() + 10 * 3_600_000);
    expect(await faults.runOfTask('task-one')).toBe('run-1');
    await stores.tasks.appendEvent(...cancelled);
    expect(row()).toEqual({ status: 'cancelled', finished_at: 3 });
    const report = await stores.retention.sweep(Date.now());
    expect(report.tasksByAge).toBe(1);
    expect(await faults.runOfTask('task-one')).toBeUndefined();
    // The task itself is Redis's to expire (an hour after its end), whatever SQLite did.
    expect(await stores.tasks.getTask('task-one')).toMatchObject({ status: 'cancelled' });
  });
});
