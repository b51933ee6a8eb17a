import { rmSync } from 'node:fs';
import { queueTimeMs, type TaskEvent } from '@transport-lab/shared';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { epochNow } from '../observability/clock.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import { TaskEngine } from './engine.ts';
import { WorkerPool } from './pool.ts';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(workers: number, dir = tempDataDir()) {
  const store = openSqliteStore(dir);
  const engine = new TaskEngine({ store, logger, workers });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(async () => {
    await engine.stop();
    await store.close().catch(() => undefined);
  });
  return { dir, store, engine };
}

/** Every event of every task, as published. */
function recordAll(engine: TaskEngine): TaskEvent[] {
  const events: TaskEvent[] = [];
  engine.onEvent((event) => events.push(event));
  return events;
}

/** Resolves with the task's event of this type, when it is published. */
function eventOf(engine: TaskEngine, id: string, type: TaskEvent['type']): Promise<TaskEvent> {
  return new Promise((resolve) => {
    const off = engine.onTaskEvent(id, (event) => {
      if (event.type !== type) return;
      off();
      resolve(event);
    });
  });
}

/** The most tasks running at once, from the published events. */
function mostRunningAtOnce(events: TaskEvent[]): number {
  let running = 0;
  let most = 0;
  for (const event of events) {
    if (event.type === 'started') most = Math.max(most, ++running);
    else if (event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled') running--;
  }
  return most;
}

describe('WorkerPool', () => {
  it('hands free workers out first, then queues in order and starts the oldest as workers free', () => {
    const pool = new WorkerPool(2);
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => pool.enter(id))).toEqual([undefined, undefined, 1, 2, 3]);
    expect(pool.leave('d')).toEqual([]);
    expect(pool.position('e')).toBe(2);
    expect(pool.leave('a')).toEqual(['c']);
    expect(pool.position('e')).toBe(1);
    expect(pool.leave('b')).toEqual(['e']);
    expect([pool.running, pool.queued]).toEqual([2, 0]);
  });
});

describe('TaskEngine with a bounded worker pool', () => {
  it('runs at most WORKERS tasks at once and starts the queued ones first in, first out', async () => {
    const { engine } = setup(2);
    const events = recordAll(engine);
    const tasks = [];
    // Each task runs 1 s, longer than the six creations and the reads below can take on a loaded
    // machine: with 30 ms tasks, CI saw the first two end before the last read, the queue already
    // moved up (place 2 where 4 was asserted).
    for (let i = 0; i < 6; i++) tasks.push(await engine.create({ durationMs: 1_000, steps: 1 }));
    // The first two take the workers; the others wait, each told its place.
    expect(tasks.map((task) => task.queuePosition)).toEqual([undefined, undefined, 1, 2, 3, 4]);
    const queuedEvents = events.filter((event) => event.type === 'queued');
    expect(queuedEvents.map((event) => event.type === 'queued' && event.position)).toEqual([
      undefined,
      undefined,
      1,
      2,
      3,
      4,
    ]);
    // A read of a queued task gives its place now.
    expect((await engine.get(tasks[5]?.id as string))?.queuePosition).toBe(4);
    await Promise.all(tasks.map((task) => engine.waitForEnd(task.id, 20_000)));
    const started = events.filter((event) => event.type === 'started').map((event) => event.taskId);
    expect(started).toEqual(tasks.map((task) => task.id));
    expect(mostRunningAtOnce(events)).toBe(2);
    for (const task of tasks) {
      const state = await engine.get(task.id);
      expect(state?.status).toBe('succeeded');
      expect(state?.queuePosition).toBeUndefined();
    }
  });

  it("makes a queued task's wait its queue time, not the server's lateness", async () => {
    const { engine } = setup(1);
    const first = await engine.create({ durationMs: 60, steps: 1 });
    const second = await engine.create({ durationMs: 10, steps: 1 });
    const firstEnd = eventOf(engine, first.id, 'succeeded');
    const started = eventOf(engine, second.id, 'started');
    await engine.waitForEnd(second.id, 10_000);
    const [end, start] = await Promise.all([firstEnd, started]);
    const state = await engine.get(second.id);
    // It started once the first had ended: its queue time spans the first task's run.
    expect(start.at).toBeGreaterThanOrEqual(end.at);
    expect(queueTimeMs(state as NonNullable<typeof state>)).toBe((state?.startedAt ?? 0) - second.createdAt);
    expect(queueTimeMs(state as NonNullable<typeof state>)).toBeGreaterThanOrEqual(end.at - second.createdAt);
    // Its `started` was due when the worker freed, after the first's end was stored: the wait for
    // the worker is not counted as the server running late.
    expect(start.dueAt).toBeGreaterThanOrEqual(end.at);
  });

  it('lets a cancelled queued task leave the queue: the ones behind it move up', async () => {
    const { engine } = setup(1);
    const running = await engine.create({ durationMs: 10_000, steps: 1 });
    const leaving = await engine.create({ durationMs: 10, steps: 1 });
    const staying = await engine.create({ durationMs: 10, steps: 1 });
    expect((await engine.get(staying.id))?.queuePosition).toBe(2);
    expect((await engine.cancel(leaving.id)).status).toBe('cancelled');
    expect((await engine.get(staying.id))?.queuePosition).toBe(1);
    expect(engine.queuedCount).toBe(1);
    await engine.cancel(running.id);
    expect(await engine.waitForEnd(staying.id, 10_000)).toMatchObject({
      ended: true,
      task: { status: 'succeeded' },
    });
    expect(engine.queuedCount).toBe(0);
  });

  it("runs a pool of a run's own apart from the process's workers", async () => {
    const { engine } = setup(10);
    const own = engine.newPool(1);
    const a = await engine.create({ durationMs: 10_000, steps: 1 }, undefined, undefined, own);
    const b = await engine.create({ durationMs: 10, steps: 1 }, undefined, undefined, own);
    const other = await engine.create({ durationMs: 10, steps: 1 });
    expect([a.queuePosition, b.queuePosition, other.queuePosition]).toEqual([undefined, 1, undefined]);
    // The process's workers are free: a task outside the run's pool does not wait behind it.
    expect(await engine.waitForEnd(other.id, 10_000)).toMatchObject({ ended: true });
    expect((await engine.get(b.id))?.status).toBe('queued');
    expect(engine.queuedCount).toBe(1);
    await engine.cancel(a.id);
    expect(await engine.waitForEnd(b.id, 10_000)).toMatchObject({
      ended: true,
      task: { status: 'succeeded' },
    });
  });

  it('keeps queued tasks through a restart: they start after it in the order they were accepted, their queue time counting the downtime', async () => {
    const first = setup(1);
    const running = await first.engine.create({ durationMs: 10_000, steps: 2 });
    // Started on the next turn at the earliest: listened to before then.
    const started = eventOf(first.engine, running.id, 'started');
    const queued = [];
    for (let i = 0; i < 3; i++) queued.push(await first.engine.create({ durationMs: 20, steps: 1 }));
    await started;
    await first.engine.stop();
    await first.store.close();

    const second = setup(1, first.dir);
    const events = recordAll(second.engine);
    expect(await second.engine.recover()).toBe(4);
    // The running one took its worker back; the queued ones wait in their order.
    expect((await second.engine.get(running.id))?.status).toBe('running');
    for (const [index, task] of queued.entries()) {
      const state = await second.engine.get(task.id);
      expect(state?.status).toBe('queued');
      expect(state?.queuePosition).toBe(index + 1);
      expect(state?.createdAt).toBe(task.createdAt);
    }
    const restartedAt = epochNow();
    await second.engine.cancel(running.id);
    for (const task of queued) await second.engine.waitForEnd(task.id, 10_000);
    expect(events.filter((event) => event.type === 'started').map((event) => event.taskId)).toEqual(
      queued.map((task) => task.id),
    );
    for (const task of queued) {
      const state = await second.engine.get(task.id);
      expect(state?.status).toBe('succeeded');
      // Accepted before the restart, started after it: its queue time spans the restart.
      expect(state?.startedAt).toBeGreaterThanOrEqual(restartedAt);
      expect(queueTimeMs(state as NonNullable<typeof state>)).toBe((state?.startedAt ?? 0) - task.createdAt);
    }
  });
});
