import { rmSync } from 'node:fs';
import { isTerminalEvent, serverLatenessMs, type TaskEvent, type TaskState } from '@transport-lab/shared';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { streamBreaches, tempDataDir } from '../../test/harness.ts';
import { epochNow } from '../observability/clock.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import type { RemoteEvents, TaskStore } from '../store/types.ts';
import { TaskEngine } from './engine.ts';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(dir = tempDataDir()) {
  const store = openSqliteStore(dir);
  const engine = new TaskEngine({ store, logger });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(async () => {
    await engine.stop();
    await store.close().catch(() => undefined);
  });
  return { dir, store, engine };
}

function record(engine: TaskEngine, id: string) {
  const events: TaskEvent[] = [];
  engine.onTaskEvent(id, (event) => events.push(event));
  return events;
}

describe('TaskEngine', () => {
  it("stamps each event with when it was due, so a blocked event loop shows as the server's own lateness", async () => {
    const { engine } = setup();
    // 10 steps of 50 ms: step k is due 50·k ms after the task started.
    const task = await engine.create({ durationMs: 500, steps: 10 });
    const events = record(engine, task.id);
    // Hold the event loop for 150 ms once step 1 is published, so that the next step due fires late.
    // (Published, not emitted: an event reaches listeners once stored, which on a loaded machine can
    // be after step 2 has fired; with 10 steps a step is due within the block's first 50 ms however
    // late the block starts.)
    const blocked = new Promise<number>((resolve) => {
      const off = engine.onTaskEvent(task.id, (event) => {
        if (event.type !== 'progress' || event.step !== 1) return;
        off();
        const startedAt = epochNow(); // the engine's clock
        const until = performance.now() + 150;
        while (performance.now() < until) {
          // busy: the step timers cannot fire
        }
        resolve(startedAt);
      });
    });
    await blocked;
    await engine.waitForEnd(task.id, 10_000);
    for (const event of events) {
      expect(event.dueAt, `seq ${event.seq}`).toBeTypeOf('number');
      expect(event.at, `seq ${event.seq}`).toBeGreaterThanOrEqual(event.dueAt as number);
    }
    const started = events.find((e) => e.type === 'started') as TaskEvent;
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Due times keep the schedule's 50 ms pace whatever the timers did.
    for (let i = 1; i < progress.length; i++) {
      expect((progress[i]?.dueAt ?? 0) - (progress[i - 1]?.dueAt ?? 0)).toBeCloseTo(50, 3);
    }
    // Step 1 is due one interval after the task started.
    expect((progress[0]?.dueAt ?? 0) - started.at).toBeCloseTo(50, 3);
    // The step due first in the block could only fire after it: 100 ms late or more.
    const blockedAt = await blocked;
    const firstDueInBlock = progress.find((e) => (e.dueAt ?? 0) >= blockedAt) as TaskEvent;
    expect(serverLatenessMs(firstDueInBlock)).toBeGreaterThanOrEqual(90);
    // The task's state carries the most it ran behind, for lanes that read states (polling).
    const state = await engine.get(task.id);
    expect(state?.latenessMs).toBe(Math.max(...events.map((e) => serverLatenessMs(e))));
    expect(state?.latenessMs).toBeGreaterThanOrEqual(90);
    // The stored log keeps the due times too (a resumed stream shows the same lateness).
    const stored = await engine.eventsAfter(task.id, 0);
    expect(stored.slice(1).map((e) => e.dueAt)).toEqual(events.map((e) => e.dueAt));
    expect(stored[0]?.dueAt).toBe(stored[0]?.at);
  });

  it('yields to the event loop while a 0 ms task of 1 000 steps catches up', async () => {
    const { engine } = setup();
    const task = await engine.create({ durationMs: 0, steps: 1_000 });
    const events = record(engine, task.id);
    // A callback queued now must run before the task has emitted all of its steps.
    const stepsWhenOthersRan = await new Promise<number>((resolve) => {
      const poll = () => {
        if (events.length > 0) resolve(events.filter((e) => e.type === 'progress').length);
        else setImmediate(poll);
      };
      setImmediate(poll);
    });
    expect(stepsWhenOthersRan).toBeLessThan(1_000);
    await engine.waitForEnd(task.id, 10_000);
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(1_000);
  });

  it('runs many tasks at once, each with its own gapless seq', async () => {
    const { engine } = setup();
    const tasks = await Promise.all(
      Array.from({ length: 100 }, () => engine.create({ durationMs: 200, steps: 10 })),
    );
    const logs = new Map(tasks.map((t) => [t.id, [] as TaskEvent[]]));
    engine.onEvent((event) => logs.get(event.taskId)?.push(event));
    await Promise.all(tasks.map((t) => engine.waitForEnd(t.id, 20_000)));
    for (const task of tasks) {
      const events = await engine.eventsAfter(task.id, 0);
      expect(streamBreaches(events, 10)).toEqual([]);
      expect(logs.get(task.id)?.map((e) => e.seq)).toEqual(events.slice(1).map((e) => e.seq));
    }
  });

  it('subscribes mid-run from afterSeq with every later event once, in order', async () => {
    const { engine } = setup();
    const task = await engine.create({ durationMs: 300, steps: 10 });
    await new Promise<void>((resolve) => {
      const off = engine.onTaskEvent(task.id, (event) => {
        if (event.type === 'progress' && event.step === 4) {
          off();
          resolve();
        }
      });
    });
    const seen: TaskEvent[] = [];
    const done = new Promise<void>((resolve) => {
      void engine.subscribe(task.id, 3, (event) => {
        seen.push(event);
        if (isTerminalEvent(event)) resolve();
      });
    });
    await done;
    expect(seen.map((e) => e.seq)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it("answers a running task's latest events from memory and older ones from the store, the same either way", async () => {
    const { store } = setup();
    const reads: number[] = [];
    const counting: TaskStore = {
      ...store,
      eventsAfter(id, afterSeq) {
        reads.push(afterSeq);
        return store.eventsAfter(id, afterSeq);
      },
    };
    const engine = new TaskEngine({ store: counting, logger });
    cleanups.push(() => engine.stop());
    // 100 steps of 20 ms: RECENT_EVENTS (64) are kept once step 80 is out, and the task runs on.
    const task = await engine.create({ durationMs: 2_000, steps: 100 });
    const lastSeq = 82; // queued, started, 80 progress
    // Read as step 80 is published (the reads take what is there when called), before step 81 is.
    const [recentRead, nothingRead, allRead] = await new Promise<Array<Promise<TaskEvent[]>>>((resolve) => {
      engine.onTaskEvent(task.id, (event) => {
        if (event.type !== 'progress' || event.step !== 80) return;
        resolve([
          engine.eventsAfter(task.id, lastSeq - 10),
          engine.eventsAfter(task.id, lastSeq),
          engine.eventsAfter(task.id, 0),
        ]);
      });
    });
    const recent = await (recentRead as Promise<TaskEvent[]>);
    expect(recent.map((e) => e.seq)).toEqual([73, 74, 75, 76, 77, 78, 79, 80, 81, 82]);
    expect(await nothingRead).toEqual([]);
    const all = await (allRead as Promise<TaskEvent[]>);
    expect(reads).toEqual([0]); // the first two from memory; seq 1… are no longer all kept: the store
    // The store may hold an event committed but not yet published (a later step of the same batch).
    expect(all.slice(0, lastSeq).map((e) => e.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(all.slice(lastSeq - 10, lastSeq)).toEqual(recent);
  });

  it('refuses to cancel an ended task with TASK_FINISHED and an unknown one with NOT_FOUND', async () => {
    const { engine } = setup();
    const task = await engine.create({ durationMs: 0, steps: 1 });
    await engine.waitForEnd(task.id, 5_000);
    await expect(engine.cancel(task.id)).rejects.toMatchObject({ code: 'TASK_FINISHED', status: 409 });
    await expect(engine.cancel('no-such-task')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('after a stop, a new engine on the same store resumes the task from its last step', async () => {
    const first = setup();
    const task = await first.engine.create({ durationMs: 400, steps: 8 });
    await new Promise<void>((resolve) => {
      first.engine.onTaskEvent(task.id, (event) => {
        if (event.type === 'progress' && event.step === 3) resolve();
      });
    });
    await first.engine.stop();
    await first.store.close();
    const reopened = openSqliteStore(first.dir);
    const stored = await reopened.getTask(task.id);
    expect(stored?.status).toBe('running');
    // The last stored step is in the log (the state row is rewritten only when the status changes).
    const storedStep = (await reopened.eventsAfter(task.id, 0)).filter((e) => e.type === 'progress').length;
    expect(storedStep).toBeGreaterThanOrEqual(3);
    await reopened.close();

    const second = setup(first.dir);
    const resumedEvents = record(second.engine, task.id);
    expect(await second.engine.recover()).toBe(1);
    const outcome = await second.engine.waitForEnd(task.id, 10_000);
    expect(outcome).toMatchObject({ ended: true, task: { status: 'succeeded', step: 8 } });
    expect(streamBreaches(await second.engine.eventsAfter(task.id, 0), 8)).toEqual([]);
    // It went on from step (stored step + 1), not from the beginning.
    const firstResumed = resumedEvents.find((e) => e.type === 'progress');
    expect(firstResumed?.type === 'progress' && firstResumed.step).toBe(storedStep + 1);
  });

  it('halts a run whose event cannot be stored, publishing nothing past the last stored event', async () => {
    const { store } = setup();
    let appends = 0;
    const failing: TaskStore = {
      ...store,
      // The disk fills at the third append and stays full: as the real stores, nothing after a
      // failed write lands (failing the third alone let a fifth, made in the same tick as the
      // fourth on a loaded machine, reach the file).
      async appendEvent(event, next) {
        if (++appends >= 3) throw new Error('disk full');
        return store.appendEvent(event, next);
      },
    };
    const engine = new TaskEngine({ store: failing, logger });
    const task = await engine.create({ durationMs: 100, steps: 5 });
    const published = record(engine, task.id);
    const outcome = await engine.waitForEnd(task.id, 400);
    expect(outcome).toEqual({ ended: false, reason: 'timeout' });
    // queued (create) + started + progress 1 stored; the third append failed and nothing followed.
    expect(published.map((e) => e.seq)).toEqual([2, 3]);
    expect((await store.eventsAfter(task.id, 0)).map((e) => e.seq)).toEqual([1, 2, 3]);
    await engine.stop();
  });

  it('shows a running task as of its last stored event, never ahead of its log', async () => {
    const { store } = setup();
    // Each append's commit waits until the test lets it land.
    const pending: Array<() => void> = [];
    const slow: TaskStore = {
      ...store,
      appendEvent: (event, next) =>
        new Promise((resolve, reject) => {
          pending.push(() => store.appendEvent(event, next).then(resolve, reject));
        }),
    };
    const engine = new TaskEngine({ store: slow, logger });
    const task = await engine.create({ durationMs: 0, steps: 1 });
    const published = record(engine, task.id);
    // The run starts on the next turn and makes its events, every one waiting for its commit.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pending.length).toBeGreaterThan(0);
    const shown = await engine.get(task.id);
    expect(shown?.status).toBe('queued');
    expect(shown?.lastSeq).toBe(1);
    expect((await store.eventsAfter(task.id, 0)).map((e) => e.seq)).toEqual([1]);
    // Let the commits land: the state shown follows the log, to its end.
    while (pending.length > 0) {
      pending.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const outcome = await engine.waitForEnd(task.id, 2_000);
    expect(outcome).toMatchObject({ ended: true, task: { status: 'succeeded' } });
    expect((await engine.get(task.id))?.lastSeq).toBe(published.at(-1)?.seq);
    await engine.stop();
  });
});

describe('TaskEngine with another instance (remote events)', () => {
  /** Instance A runs tasks; B shares its store and hears A's events through a fake `RemoteEvents` that
   *  hands B each event A stored, twice (a read repeated after a reconnection does that). */
  function twoInstances() {
    const { store, engine: a } = setup();
    const follows: string[] = [];
    const remote: RemoteEvents = {
      follow(taskId, onEvent) {
        follows.push(taskId);
        return a.onEvent((event) => {
          if (event.taskId !== taskId) return;
          onEvent(event);
          onEvent(event);
        });
      },
      requestCancel: async () => {},
      onCancelRequest: () => () => {},
      async close() {},
    };
    const b = new TaskEngine({ store, logger, remote });
    cleanups.push(() => b.stop());
    return { a, b, follows };
  }

  it('hands a task run elsewhere to its listeners here once each, in order, with its state folded', async () => {
    const { a, b, follows } = twoInstances();
    const task = await a.create({ durationMs: 100, steps: 5 });
    expect(b.runsHere(task.id)).toBe(false);
    const heard: Array<[TaskEvent, TaskState]> = [];
    const everything: TaskEvent[] = [];
    b.onEvent((event) => everything.push(event));
    const off = await b.subscribe(task.id, 0, (event, state) => heard.push([event, state]));
    const progressHere = new Promise<TaskState | undefined>((resolve) => {
      const stop = b.onTaskEvent(task.id, (event) => {
        if (event.type !== 'progress' || event.step !== 2) return;
        stop();
        resolve(b.get(task.id));
      });
    });
    const outcome = await b.waitForEnd(task.id, 10_000);
    off();
    expect(follows).toEqual([task.id]);
    expect(
      streamBreaches(
        heard.map(([event]) => event),
        5,
      ),
    ).toEqual([]);
    // Each live event's state is the task as of that event.
    for (const [event, state] of heard.slice(1)) expect(state.lastSeq, `seq ${event.seq}`).toBe(event.seq);
    expect(heard.at(-1)?.[1]).toMatchObject({ status: 'succeeded', step: 5, percent: 100 });
    expect(outcome).toMatchObject({ ended: true, task: { status: 'succeeded', step: 5, lastSeq: 8 } });
    // `get` of a task running elsewhere: the snapshot plus its log since (not the `started` snapshot).
    expect((await progressHere)?.step).toBeGreaterThanOrEqual(2);
    // onEvent is this process's own tasks: a webhook or a metric counts each event once, where it runs.
    expect(everything).toEqual([]);
  });

  it('takes over a task whose instance stopped, its listeners here hearing each seq once, the ones its follow had not brought included', async () => {
    const { store, engine: a } = setup();
    // A's events reach B while `hearing`; then the follow falls behind the log (a read in flight when
    // A died), and A stops.
    let hearing = true;
    const remote: RemoteEvents = {
      follow(taskId, onEvent) {
        return a.onEvent((event) => {
          if (event.taskId === taskId && hearing) onEvent(event);
        });
      },
      requestCancel: async () => {},
      onCancelRequest: () => () => {},
      async close() {},
    };
    const b = new TaskEngine({ store, logger, remote });
    cleanups.push(() => b.stop());
    const task = await a.create({ durationMs: 400, steps: 8 });
    const heard: TaskEvent[] = [];
    const off = await b.subscribe(task.id, 0, (event) => heard.push(event));
    cleanups.push(off);
    await new Promise<void>((resolve) => {
      a.onTaskEvent(task.id, (event) => {
        if (event.type === 'progress' && event.step === 2) hearing = false;
        if (event.type === 'progress' && event.step === 4) resolve();
      });
    });
    await a.stop();
    const storedSeq = (await store.eventsAfter(task.id, 0)).at(-1)?.seq ?? 0;
    expect(heard.at(-1)?.seq).toBeLessThan(storedSeq);

    expect(await b.runUntilSettled(task.id)).toBe('ended');
    expect(streamBreaches(heard, 8)).toEqual([]);
    expect(heard.at(-1)).toMatchObject({ type: 'succeeded', seq: 8 + 3 });
    // Taken over from the last stored step, not from the beginning: one log, no seq twice.
    expect(streamBreaches(await store.eventsAfter(task.id, 0), 8)).toEqual([]);
    // Ended already: nothing more to run.
    expect(await b.runUntilSettled(task.id)).toBe('ended');
  });

  it('never reads the log of a task it runs itself', async () => {
    const { b, follows } = twoInstances();
    const task = await b.create({ durationMs: 30, steps: 3 });
    const events = record(b, task.id);
    await b.waitForEnd(task.id, 10_000);
    // From memory, once each: `queued` was published before this listener came.
    expect(events.map((event) => event.seq)).toEqual([2, 3, 4, 5, 6]);
    expect(follows).toEqual([]);
  });
});
