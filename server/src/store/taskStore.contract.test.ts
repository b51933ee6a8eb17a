import type { TaskEvent, TaskState } from '@transport-lab/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { STORE_DRIVERS, useStoreWorld } from '../../test/storeDrivers.ts';
import type { TaskStore } from './types.ts';

/**
 * What every TaskStore promises (types.ts), checked against each implementation: SQLite (embedded)
 * and Redis (REDIS_URL). A store here is one instance's; a second one on the same data is another
 * instance, or the same server after a restart.
 */

const spec = { durationMs: 10, steps: 2 };
const queuedTask = (id: string, createdAt = 1): TaskState => ({
  id,
  spec,
  status: 'queued',
  step: 0,
  steps: 2,
  percent: 0,
  lastSeq: 1,
  createdAt,
});
const queued = (id: string, at = 1): TaskEvent => ({ type: 'queued', taskId: id, seq: 1, at, spec });
const started = (id: string): [TaskEvent, TaskState] => [
  { type: 'started', taskId: id, seq: 2, at: 2 },
  { ...queuedTask(id), status: 'running', lastSeq: 2, startedAt: 2 },
];
const progress = (id: string, step: number): [TaskEvent, TaskState] => [
  { type: 'progress', taskId: id, seq: 2 + step, at: 2 + step, step, steps: 2, percent: step * 50 },
  { ...queuedTask(id), status: 'running', startedAt: 2, step, percent: step * 50, lastSeq: 2 + step },
];
const succeeded = (id: string): [TaskEvent, TaskState] => [
  { type: 'succeeded', taskId: id, seq: 5, at: 5, result: { steps: 2, payload: '' } },
  {
    ...queuedTask(id),
    status: 'succeeded',
    startedAt: 2,
    step: 2,
    percent: 100,
    lastSeq: 5,
    finishedAt: 5,
    result: { steps: 2, payload: '' },
  },
];

/** Creates a task and takes it through `started` and its two steps: events 1–4. */
async function runningTask(store: TaskStore, id: string): Promise<void> {
  await store.createTask(queuedTask(id), queued(id));
  await Promise.all([started(id), progress(id, 1), progress(id, 2)].map(([e, s]) => store.appendEvent(e, s)));
}

const seqs = async (store: TaskStore, id: string, after = 0) =>
  (await store.eventsAfter(id, after)).map((event) => event.seq);

describe.each(STORE_DRIVERS)('the $kind task store', (driver) => {
  const world = useStoreWorld(driver);
  let store: TaskStore;
  beforeEach(async () => {
    store = await world().tasks();
  });

  it('stores a new task with its first event, and a second instance reads both once it resolves', async () => {
    await store.createTask(queuedTask('task-one'), queued('task-one'));
    const other = await world().tasks();
    expect(await other.getTask('task-one')).toEqual(queuedTask('task-one'));
    expect(await other.eventsAfter('task-one', 0)).toEqual([queued('task-one')]);
    expect((await other.unfinishedTasks()).map((task) => task.id)).toEqual(['task-one']);
  });

  it('refuses a task created twice and keeps the first', async () => {
    await store.createTask(queuedTask('task-one'), queued('task-one'));
    await expect(
      store.createTask({ ...queuedTask('task-one'), createdAt: 9 }, queued('task-one', 9)),
    ).rejects.toThrow();
    expect(await store.getTask('task-one')).toEqual(queuedTask('task-one'));
    expect(await store.eventsAfter('task-one', 0)).toEqual([queued('task-one')]);
  });

  it('appends events handed over in one turn, in seq order, and reads those after a seq', async () => {
    await runningTask(store, 'task-one');
    expect(await seqs(store, 'task-one')).toEqual([1, 2, 3, 4]);
    expect(await seqs(store, 'task-one', 2)).toEqual([3, 4]);
    expect(await store.eventsAfter('task-one', 4)).toEqual([]);
    expect(await store.eventsAfter('task-one', 3)).toEqual([progress('task-one', 2)[0]]);
  });

  it('refuses a duplicate seq and leaves the log and the state as they were', async () => {
    await store.createTask(queuedTask('task-one'), queued('task-one'));
    await store.appendEvent(...started('task-one'));
    const [duplicate] = started('task-one');
    await expect(
      store.appendEvent(
        { ...duplicate, at: 99 },
        { ...queuedTask('task-one'), status: 'cancelled', lastSeq: 2 },
      ),
    ).rejects.toThrow();
    expect(await store.getTask('task-one')).toMatchObject({ status: 'running', lastSeq: 2 });
    expect(await store.eventsAfter('task-one', 0)).toEqual([queued('task-one'), started('task-one')[0]]);
  });

  it('after a failed write, writes none of the task’s later events (no gap), and other tasks’ land', async () => {
    await store.createTask(queuedTask('task-one'), queued('task-one'));
    await store.createTask(queuedTask('task-two'), queued('task-two'));
    // One turn: t1's seq 2, a second seq 2 (refused), then seq 3, which must not land after it.
    const writes = [
      store.appendEvent(...started('task-one')),
      store.appendEvent(...started('task-one')),
      store.appendEvent(...progress('task-one', 1)),
      store.appendEvent(...started('task-two')),
    ].map((write) =>
      write.then(
        () => 'stored',
        () => 'refused',
      ),
    );
    expect(await Promise.all(writes)).toEqual(['stored', 'refused', 'refused', 'stored']);
    // And later, in another turn.
    await expect(store.appendEvent(...progress('task-one', 1))).rejects.toThrow();
    expect(await seqs(store, 'task-one')).toEqual([1, 2]);
    expect(await seqs(store, 'task-two')).toEqual([1, 2]);
  });

  it('rewrites the state only when the status changes: the progress since is in the log', async () => {
    await runningTask(store, 'task-one');
    // The snapshot of `started`; steps 1 and 2 are in the log after its lastSeq.
    expect(await store.getTask('task-one')).toEqual(started('task-one')[1]);
    expect((await store.eventsAfter('task-one', 2)).map((event) => event.type)).toEqual([
      'progress',
      'progress',
    ]);
    await store.appendEvent(...succeeded('task-one'));
    expect(await store.getTask('task-one')).toEqual(succeeded('task-one')[1]);
  });

  it('lists unfinished tasks (queued or running), oldest first, and not those that ended', async () => {
    await store.createTask(queuedTask('task-newer', 30), queued('task-newer', 30));
    await store.createTask(queuedTask('task-oldest', 10), queued('task-oldest', 10));
    await runningTask(store, 'task-ended');
    await store.appendEvent(...succeeded('task-ended'));
    await store.createTask(queuedTask('task-middle', 20), queued('task-middle', 20));
    await store.appendEvent(...started('task-middle'));
    const unfinished = await store.unfinishedTasks();
    expect(unfinished.map((task) => [task.id, task.status])).toEqual([
      ['task-oldest', 'queued'],
      ['task-middle', 'running'],
      ['task-newer', 'queued'],
    ]);
  });

  it('knows no unknown task: no state, no events', async () => {
    expect(await store.getTask('nobody')).toBeUndefined();
    expect(await store.eventsAfter('nobody', 0)).toEqual([]);
    expect(await store.unfinishedTasks()).toEqual([]);
  });

  it('lands the writes still queued when it closes: a restart resumes from them', async () => {
    await store.createTask(queuedTask('task-one'), queued('task-one'));
    const pending = [started('task-one'), progress('task-one', 1)].map(([e, s]) => store.appendEvent(e, s));
    await store.close();
    await Promise.all(pending);
    const restarted = await world().tasks();
    expect(await restarted.unfinishedTasks()).toEqual([started('task-one')[1]]);
    expect(await seqs(restarted, 'task-one', 2)).toEqual([3]);
  });

  it('refuses writes once closed', async () => {
    await store.close();
    await expect(store.createTask(queuedTask('task-one'), queued('task-one'))).rejects.toThrow(/closed/);
  });
});

describe.each(STORE_DRIVERS.filter((driver) => driver.shared))('two instances on one $kind', (driver) => {
  const world = useStoreWorld(driver);

  it('see each other’s tasks as soon as a write resolves, and store a seq both write only once', async () => {
    const [a, b] = [await world().tasks(), await world().tasks()];
    await a.createTask(queuedTask('task-one'), queued('task-one'));
    await expect(b.createTask(queuedTask('task-one'), queued('task-one'))).rejects.toThrow();
    // Both believe they run it (what a stalled worker's recovery could cause): one `started` lands.
    const [event, state] = started('task-one');
    const outcomes = await Promise.allSettled([a.appendEvent(event, state), b.appendEvent(event, state)]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await seqs(a, 'task-one')).toEqual([1, 2]);
    // The next seq from the other instance goes on from there, with no gap and no duplicate.
    const winner = outcomes[0]?.status === 'fulfilled' ? a : b;
    await winner.appendEvent(...progress('task-one', 1));
    expect(await seqs(winner === a ? b : a, 'task-one', 2)).toEqual([3]);
  });
});
