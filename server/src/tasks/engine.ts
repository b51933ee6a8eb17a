import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  isTerminalEvent,
  newTraceId,
  type TaskEvent,
  type TaskSpec,
  type TaskState,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import { AppError } from '../errors.ts';
import { epochNow } from '../observability/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { RemoteEvents, TaskStore } from '../store/types.ts';
import { WorkerPool } from './pool.ts';
import { applyEvent, TaskRun } from './run.ts';

export type EventListener = (event: TaskEvent, state: TaskState) => void;
export type Unsubscribe = () => void;

/** How a run here ended for `runUntilSettled`: `halted`, before the task's end because a write failed
 *  (on Redis: another instance took its next seq); `stopping`, this process stops (a restart). */
export type RunOutcome = 'ended' | 'halted' | 'stopping';

/** `stopping`: this process is shutting down (a restart): the task goes on at the next start. */
export type WaitOutcome =
  | { ended: true; task: TaskState }
  | { ended: false; reason: 'timeout' | 'aborted' | 'stopping' };

export interface EngineDeps {
  store: TaskStore;
  logger: Logger;
  now?: () => number;
  /** Tasks other instances run, live (REDIS_URL); absent when every task runs in this process. */
  remote?: RemoteEvents;
  /** Tasks this process runs at once (`WORKERS`); the others wait, first in, first out. Unbounded
   *  when absent. */
  workers?: number;
}

/** A task this process listens to, as far as its listeners have heard (whichever process runs it). */
interface Followed {
  /** Stops reading the task's log; undefined while this process runs the task (its own publications
   *  reach the listeners) or once it has ended. */
  stop: (() => void) | undefined;
  /** The highest seq handed to the task's listeners, from either path: neither hands one twice. */
  lastSeq: number;
  /** The task as of `lastSeq`, folded from its stored snapshot; undefined until that is read. */
  state: TaskState | undefined;
  snapshotRead: boolean;
  /** Events read from the log before the snapshot was. */
  early: TaskEvent[];
  ended: boolean;
}

/** How long a cancel of a task another instance runs waits for its end, ms: the runner cancels as
 *  soon as it hears the request (a Redis round trip), the end comes back through its log. */
const REMOTE_CANCEL_WAIT_MS = 5_000;
/** … asking again this often meanwhile, ms (a request is heard by the instances running then). */
const REMOTE_CANCEL_REPEAT_MS = 500;

/** A new task's state: all of it is in its `queued` event. */
function queuedState(event: Extract<TaskEvent, { type: 'queued' }>): TaskState {
  return {
    id: event.taskId,
    spec: event.spec,
    status: 'queued',
    step: 0,
    steps: event.spec.steps,
    percent: 0,
    lastSeq: event.seq,
    createdAt: event.at,
    updatedAt: event.at,
    latenessMs: 0,
    ...(event.position !== undefined ? { queuePosition: event.position } : {}),
  };
}

/**
 * Runs tasks in real time, numbers their events and stores them before anyone hears of them.
 * It knows no transport: lanes create, cancel, wait and subscribe through this class alone.
 *
 * With `remote` (several instances on one Redis), a task another instance runs is heard too: while
 * something here listens to it (`onTaskEvent`, hence `subscribe` and `waitForEnd`), one follow reads
 * its log and hands each new event to its listeners, with the task's state folded from the stored
 * snapshot (`applyEvent`). Tasks run here never take that path: their events go to the listeners from
 * memory as they are published, as on SQLite. `onEvent` hears this process's tasks only.
 */
export class TaskEngine {
  private readonly runs = new Map<string, TaskRun>();
  private readonly taskListeners = new Map<string, Set<EventListener>>();
  private readonly allListeners = new Set<EventListener>();
  private readonly store: TaskStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly remote: RemoteEvents | undefined;
  /** Tasks with listeners here, when on `remote`: how far their listeners have heard. */
  private readonly followed = new Map<string, Followed>();
  private stopped = false;
  /** The process's workers (`WORKERS`): a task created without a pool of its own waits for one. */
  private readonly pool: WorkerPool;
  /** Each task this process runs or queues, and the pool whose worker it holds or waits for. */
  private readonly poolOf = new Map<string, WorkerPool>();
  /** Pools with a task (the process's always): the queue-full refusal counts their queues. */
  private readonly activePools = new Set<WorkerPool>();
  /** Tasks handed a worker before `create` had tracked them (their store write still in flight),
   *  with when the worker freed: `create` starts them once tracked. */
  private readonly promotedEarly = new Map<string, number>();
  /** Tasks this process took over from an instance that stopped or died, until they settle here. */
  private readonly takenOver = new Set<string>();
  /** Who waits for a run here to settle (`runUntilSettled`: the lease of tasks/leases.ts). */
  private readonly settleWaiters = new Map<string, Set<(outcome: RunOutcome) => void>>();
  /** Aborted by stop(): every blocking wait ends at once, so that its caller can answer before the
   *  connections are cut (a blocking call then learns where its task lives). */
  private readonly stopping = new AbortController();

  constructor(deps: EngineDeps) {
    this.store = deps.store;
    this.logger = deps.logger;
    this.now = deps.now ?? epochNow;
    this.remote = deps.remote;
    this.pool = new WorkerPool(deps.workers ?? Number.POSITIVE_INFINITY);
    this.activePools.add(this.pool);
    // Every blocking wait listens on it (one per request held by the request/response or hybrid
    // lane): hundreds at once in a hall are by design, not the leak Node warns of past 10.
    setMaxListeners(0, this.stopping.signal);
    // Another instance asks to cancel a task: this one acts if it runs it.
    this.remote?.onCancelRequest((id) => {
      const run = this.runs.get(id);
      if (run && !run.isEnded && !this.stopped) void run.cancel();
    });
  }

  /** A fresh task id; a lane that must subscribe before the first event takes one and passes it in. */
  newTaskId(): string {
    return randomUUID();
  }

  /**
   * Accepts a task: stores it with its `queued` event, then starts it on the next turn of the loop if
   * a worker of its pool is free, else when one frees (first in, first out; its `queued` event and
   * state then carry its place). `traceId`: its correlation id (the creating request's `traceparent`
   * trace-id), else a new one. `pool`: the workers it waits for, the process's (`WORKERS`) unless a
   * pool of its own is given (a run's, `newPool`).
   */
  async create(
    spec: TaskSpec,
    id = this.newTaskId(),
    traceId = newTraceId(),
    pool: WorkerPool = this.pool,
  ): Promise<TaskState> {
    if (this.stopped) throw new AppError('UNAVAILABLE', 'The server is shutting down; try again shortly.');
    const createdAt = this.now();
    // Its place is taken now, before the store's write: tasks created in one turn queue in call order.
    const position = pool.enter(id);
    this.poolOf.set(id, pool);
    this.activePools.add(pool);
    const queued = {
      type: 'queued',
      taskId: id,
      seq: 1,
      at: createdAt,
      dueAt: createdAt,
      spec,
      ...(position !== undefined ? { position } : {}),
    } as const;
    const state: TaskState = { ...queuedState(queued), traceId };
    try {
      await this.store.createTask(state, queued);
    } catch (error) {
      this.release(id);
      this.promotedEarly.delete(id);
      throw error;
    }
    const run = this.track(state, 0);
    this.publish(queued, state);
    // Due when accepted with a worker free; when the worker freed, if it queued (its wait for the
    // worker is its queue time, not the server running late).
    const freedAt = this.promotedEarly.get(id);
    this.promotedEarly.delete(id);
    if (position === undefined) setImmediate(() => run.start(createdAt));
    else if (freedAt !== undefined) setImmediate(() => run.start(freedAt));
    return state;
  }

  /** A pool of `workers` for some tasks alone (a run's, the busy-backend fault): they wait for its
   *  workers, not the process's, and keep no other task waiting. */
  newPool(workers: number): WorkerPool {
    return new WorkerPool(workers);
  }

  /** Tasks waiting for a worker now, in every pool. */
  get queuedCount(): number {
    let queued = 0;
    for (const pool of this.activePools) queued += pool.queued;
    return queued;
  }

  /** The task's worker, or its place, is freed: the next ones in its pool's queue start. */
  private release(id: string): void {
    const pool = this.poolOf.get(id);
    if (!pool) return;
    this.poolOf.delete(id);
    const freedAt = this.now();
    for (const next of pool.leave(id)) {
      const run = this.runs.get(next);
      if (run) setImmediate(() => run.start(freedAt));
      else this.promotedEarly.set(next, freedAt);
    }
    if (pool !== this.pool && pool.running + pool.queued === 0) this.activePools.delete(pool);
  }

  /** The state as read now: a queued task's place is its live one (undefined once a worker took it). */
  private withPlace(state: TaskState): TaskState {
    if (state.status !== 'queued') return state;
    const { queuePosition: _stale, ...rest } = state;
    const position = this.poolOf.get(state.id)?.position(state.id);
    return position === undefined ? rest : { ...rest, queuePosition: position };
  }

  async get(id: string): Promise<TaskState | undefined> {
    const run = this.runs.get(id);
    // As far as it is stored and published: a poll never shows a step, or an end, a restart would undo.
    if (run) return this.withPlace(run.publishedState);
    const stored = await this.store.getTask(id);
    // Running on another instance: the snapshot is as of its last change of status, its progress
    // since is in the log (a short poll through this instance then sees every step).
    if (!stored || !this.remote || TERMINAL_STATUSES.has(stored.status)) return stored;
    let state = stored;
    for (const event of await this.store.eventsAfter(id, stored.lastSeq)) state = applyEvent(state, event);
    return state;
  }

  /** Whether this process runs the task because it took it over from an instance that stopped or
   *  died (`runUntilSettled`): sockets recovered from there are in its room, and no one here knew. */
  takenOverHere(id: string): boolean {
    return this.takenOver.has(id);
  }

  /** Whether this process runs the task (else another instance does, or none now). */
  runsHere(id: string): boolean {
    return this.runs.has(id);
  }

  async getOrThrow(id: string): Promise<TaskState> {
    const task = await this.get(id);
    if (!task) throw new AppError('NOT_FOUND', `No task with id ${id}.`);
    return task;
  }

  /** Stored events with seq > afterSeq, in order: a running task's recent ones from memory (all of
   *  them published, hence stored), older ones and other tasks' from the store. */
  async eventsAfter(id: string, afterSeq: number): Promise<TaskEvent[]> {
    return this.runs.get(id)?.publishedAfter(afterSeq) ?? this.store.eventsAfter(id, afterSeq);
  }

  async cancel(id: string): Promise<TaskState> {
    // While stopping, a connection cut by the shutdown looks like a client that left: cancelling
    // then would turn a restart into a lost task. The task resumes at the next start instead.
    if (this.stopped) throw new AppError('UNAVAILABLE', 'The server is shutting down; try again shortly.');
    const run = this.runs.get(id);
    if (run && !run.isEnded) {
      await run.cancel();
      return run.publishedState;
    }
    const task = await this.getOrThrow(id);
    const finished = (status: string) =>
      new AppError('TASK_FINISHED', `Task ${id} has already ${status}.`, { status });
    if (TERMINAL_STATUSES.has(task.status)) throw finished(task.status);
    if (this.remote) {
      // Another instance runs it: asked through Redis, its end heard from the log (listening first).
      const ended = this.waitForEnd(id, REMOTE_CANCEL_WAIT_MS);
      await this.remote.requestCancel(id);
      // Asked again meanwhile: an instance taking the task over (its instance died) hears a later one.
      const again = setInterval(() => {
        this.remote?.requestCancel(id).catch(() => {});
      }, REMOTE_CANCEL_REPEAT_MS);
      const outcome = await ended.finally(() => clearInterval(again));
      if (outcome.ended && outcome.task.status === 'cancelled') return outcome.task;
      if (outcome.ended) throw finished(outcome.task.status);
    }
    // No instance acted in time (one being taken over after its instance died hears nothing).
    throw new AppError('UNAVAILABLE', `Task ${id} is not running on this server.`);
  }

  /** Every event of every task, after it is stored. */
  onEvent(listener: EventListener): Unsubscribe {
    this.allListeners.add(listener);
    return () => this.allListeners.delete(listener);
  }

  /** Live events of one task, from now on, whichever instance runs it: an event is either in a store
   *  read made after this call or heard here (with `remote`, its follow starts in this call). */
  onTaskEvent(id: string, listener: EventListener): Unsubscribe {
    let set = this.taskListeners.get(id);
    if (!set) {
      set = new Set();
      this.taskListeners.set(id, set);
      if (this.remote && !this.followed.has(id)) this.follow(id);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.taskListeners.get(id) === set) {
        this.taskListeners.delete(id);
        this.followed.get(id)?.stop?.();
        this.followed.delete(id);
      }
    };
  }

  /**
   * Every event after `afterSeq`, stored ones first, then live ones: in order, none twice, none
   * missed. Listening starts before the store is read; what arrives meanwhile waits in a buffer.
   */
  async subscribe(id: string, afterSeq: number, listener: EventListener): Promise<Unsubscribe> {
    let lastSeq = afterSeq;
    let replaying = true;
    const buffered: Array<[TaskEvent, TaskState]> = [];
    const deliver = (event: TaskEvent, state: TaskState) => {
      if (event.seq <= lastSeq) return;
      lastSeq = event.seq;
      listener(event, state);
    };
    const off = this.onTaskEvent(id, (event, state) => {
      if (replaying) buffered.push([event, state]);
      else deliver(event, state);
    });
    try {
      const task = await this.getOrThrow(id);
      for (const event of await this.eventsAfter(id, afterSeq)) deliver(event, task);
    } catch (error) {
      off();
      throw error;
    }
    replaying = false;
    for (const [event, state] of buffered) deliver(event, state);
    return off;
  }

  /** Resolves when the task has ended, or with `ended: false` after `timeoutMs` or on abort. */
  waitForEnd(id: string, timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (outcome: WaitOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', onAbort);
        this.stopping.signal.removeEventListener('abort', onStopping);
        resolve(outcome);
      };
      const onAbort = () => finish({ ended: false, reason: 'aborted' });
      const onStopping = () => finish({ ended: false, reason: 'stopping' });
      if (this.stopping.signal.aborted) {
        queueMicrotask(onStopping);
      } else this.stopping.signal.addEventListener('abort', onStopping, { once: true });
      const timer = setTimeout(() => finish({ ended: false, reason: 'timeout' }), timeoutMs);
      const off = this.onTaskEvent(id, (event, state) => {
        if (isTerminalEvent(event)) finish({ ended: true, task: state });
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      // Listening began first, so an end that happened before this read is seen here instead.
      this.getOrThrow(id).then(
        (task) => {
          if (TERMINAL_STATUSES.has(task.status)) finish({ ended: true, task });
        },
        (error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          off();
          this.stopping.signal.removeEventListener('abort', onStopping);
          reject(error);
        },
      );
    });
  }

  /**
   * After a restart: every task that was accepted and had not ended goes on. Nothing accepted is
   * lost. Running ones go on from their last stored step and take their workers back first; queued
   * ones then wait for the process's workers in the order they were accepted (`createdAt`), and each
   * keeps its `createdAt`, so that its queue time counts the downtime it waited through. A run's own
   * pool (the busy-backend fault) lives in memory: its queued tasks wait in the process's after a
   * restart. Returns how many were resumed.
   */
  async recover(): Promise<number> {
    const unfinished = await this.store.unfinishedTasks();
    const states: TaskState[] = [];
    for (const stored of unfinished) {
      if (this.runs.has(stored.id)) continue;
      // The stored state is as of the task's last change of status; its steps since are in the log.
      let state = stored;
      for (const event of await this.store.eventsAfter(stored.id, stored.lastSeq)) {
        state = applyEvent(state, event);
      }
      states.push(state);
    }
    const waits = (state: TaskState) => (state.status === 'queued' ? 1 : 0);
    states.sort(
      (a, b) => waits(a) - waits(b) || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    for (const state of states) this.resumeHere(state, 'task resumed after restart');
    return unfinished.length;
  }

  /**
   * Runs the task here until it settles, taking it on from the store when this process does not run
   * it (on Redis, its lease came here from an instance that stopped or died: tasks/leases.ts): a
   * running task goes on from its last stored step, a queued one waits for this process's workers.
   * Resolves `ended` once its end is stored and published (at once when it had ended already, or is
   * unknown), `halted` when its run stopped before its end because a write failed (another instance
   * took its next seq), `stopping` when this process stops. Whoever listens here hears each seq once:
   * what the log holds beyond what they heard is handed to them before the run's next event.
   */
  async runUntilSettled(id: string): Promise<RunOutcome> {
    if (this.stopped) return 'stopping';
    if (!this.runs.has(id)) {
      const stored = await this.store.getTask(id);
      if (!stored || TERMINAL_STATUSES.has(stored.status)) return 'ended';
      // The whole log (a task's is ≤ 1 003 events, read once per takeover): its steps since the
      // snapshot, and what listeners here have not heard yet.
      const log = await this.store.eventsAfter(id, 0);
      if (this.stopped) return 'stopping';
      if (!this.runs.has(id)) {
        let state = stored;
        for (const event of log) if (event.seq > state.lastSeq) state = applyEvent(state, event);
        if (TERMINAL_STATUSES.has(state.status)) return 'ended';
        const followed = this.followed.get(id);
        if (followed) {
          followed.snapshotRead = true;
          followed.state ??= stored;
          for (const event of log) this.hearRemote(followed, event);
        }
        this.takenOver.add(id);
        this.resumeHere(state, 'task taken over from an instance that stopped');
      }
    }
    return new Promise((resolve) => {
      let waiters = this.settleWaiters.get(id);
      if (!waiters) {
        waiters = new Set();
        this.settleWaiters.set(id, waiters);
      }
      waiters.add(resolve);
    });
  }

  /** The run of a task that was accepted and had not ended: from its last stored step, or queued. */
  private resumeHere(state: TaskState, why: string): void {
    const run = this.track(state, state.lastSeq);
    this.poolOf.set(state.id, this.pool);
    if (state.status === 'queued') {
      if (this.pool.enter(state.id) === undefined) run.start(this.now());
    } else {
      this.pool.resumeRunning(state.id);
      run.resume();
    }
    this.logger.info(
      { taskId: state.id, traceId: state.traceId, step: state.step, status: state.status },
      why,
    );
  }

  private settled(id: string, outcome: RunOutcome): void {
    this.takenOver.delete(id);
    const waiters = this.settleWaiters.get(id);
    if (!waiters) return;
    this.settleWaiters.delete(id);
    for (const resolve of waiters) resolve(outcome);
  }

  /** Stops every clock; running tasks stay unfinished in the store, to be resumed at next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    for (const followed of this.followed.values()) followed.stop?.();
    this.followed.clear();
    await Promise.all([...this.runs.values()].map((run) => run.halt()));
    for (const id of [...this.settleWaiters.keys()]) this.settled(id, 'stopping');
  }

  /**
   * The task's downstream stalls: its next step comes no sooner than `ms` from now, and the steps
   * after it keep their pace from there (the stall adds to the task's duration). Lane-agnostic: every
   * lane sees the same silence. False when the task is not running in this process (queued tasks
   * have not started; ended ones have nothing left to hold).
   */
  stall(id: string, ms: number): boolean {
    const run = this.runs.get(id);
    if (!run || run.isEnded || run.state.status !== 'running') return false;
    return run.stall(ms);
  }

  get runningCount(): number {
    return this.runs.size;
  }

  /** `publishedSeq`: how far its events were published before (0 for a new task). */
  private track(state: TaskState, publishedSeq: number): TaskRun {
    const run = new TaskRun(
      state,
      {
        store: this.store,
        now: this.now,
        logger: this.logger,
        publish: (event, next) => this.publish(event, next),
        onSettled: (id) => {
          this.runs.delete(id);
          this.release(id);
          // Halted before its end (a restart, or another instance won its next seq): whoever listens
          // here hears the rest from the log, if another instance runs it.
          const followed = this.followed.get(id);
          if (followed && !followed.ended && !followed.stop && !this.stopped) this.readRemote(id, followed);
          this.settled(id, 'ended');
        },
        onBroken: (id) => {
          // On Redis the task is not lost with this run: another instance runs it (it took the seq
          // this one was refused), and whoever listens here hears it from the log from now on. On
          // SQLite the run keeps its worker until the next start, which resumes it.
          if (!this.remote || this.stopped) return;
          this.runs.delete(id);
          this.release(id);
          const followed = this.followed.get(id);
          if (followed && !followed.ended && !followed.stop) this.readRemote(id, followed, true);
          this.settled(id, 'halted');
        },
      },
      publishedSeq,
    );
    this.runs.set(state.id, run);
    // Run here from now on: its listeners hear it from memory.
    const followed = this.followed.get(state.id);
    followed?.stop?.();
    if (followed) followed.stop = undefined;
    return run;
  }

  /** Starts hearing a task for its listeners here; its log is read only while another process runs it. */
  private follow(id: string): void {
    const followed: Followed = {
      stop: undefined,
      lastSeq: 0,
      state: undefined,
      snapshotRead: false,
      early: [],
      ended: false,
    };
    this.followed.set(id, followed);
    if (!this.runs.has(id)) this.readRemote(id, followed);
  }

  /** `catchUp`: the log holds events past what the listeners heard (a run here halted because another
   *  instance wrote its next seq first): they are read after the follow begins, and handed over before
   *  anything the follow brings. */
  private readRemote(id: string, followed: Followed, catchUp = false): void {
    if (!this.remote) return;
    if (catchUp) followed.snapshotRead = false;
    followed.stop = this.remote.follow(id, (event) => {
      if (this.followed.get(id) !== followed || this.runs.has(id)) return;
      if (followed.snapshotRead) this.hearRemote(followed, event);
      else followed.early.push(event);
    });
    if (followed.snapshotRead) return;
    // After the follow began (the store reads in order): the state its events are folded onto, or
    // the events the follow will not bring.
    const read = catchUp
      ? this.store.eventsAfter(id, followed.lastSeq).then((events) => {
          for (const event of events) this.hearRemote(followed, event);
        })
      : this.store.getTask(id).then((stored) => {
          followed.state ??= stored;
        });
    read.then(
      () => {
        followed.snapshotRead = true;
        for (const event of followed.early.splice(0)) this.hearRemote(followed, event);
      },
      (error) => {
        this.logger.error({ err: error, taskId: id }, 'could not read the snapshot of a task followed');
        followed.snapshotRead = true;
        for (const event of followed.early.splice(0)) this.hearRemote(followed, event);
      },
    );
  }

  /** An event another instance stored, for this process's listeners of its task. */
  private hearRemote(followed: Followed, event: TaskEvent): void {
    if (event.seq <= followed.lastSeq || followed.ended) return;
    const known = followed.state;
    const state = known
      ? event.seq > known.lastSeq
        ? applyEvent(known, event)
        : known
      : event.type === 'queued'
        ? queuedState(event)
        : undefined;
    // Neither a snapshot nor the task's first event: a task unknown here (expired), nothing to fold.
    if (!state) return;
    followed.lastSeq = event.seq;
    followed.state = state;
    if (isTerminalEvent(event)) {
      followed.ended = true;
      followed.stop?.();
      followed.stop = undefined;
    }
    this.tell([...(this.taskListeners.get(event.taskId) ?? [])], event, state);
  }

  private publish(event: TaskEvent, state: TaskState): void {
    // Before any listener: one that reads the task's events from here on finds this one too.
    this.runs.get(event.taskId)?.published(event, state);
    const followed = this.remote && this.followed.get(event.taskId);
    let taskListeners = this.taskListeners.get(event.taskId);
    if (followed) {
      // Heard from the log already (before this process took the task on): not twice.
      if (event.seq <= followed.lastSeq) taskListeners = undefined;
      else {
        followed.lastSeq = event.seq;
        followed.state = state;
        if (isTerminalEvent(event)) followed.ended = true;
      }
    }
    this.tell([...this.allListeners, ...(taskListeners ?? [])], event, state);
  }

  private tell(listeners: EventListener[], event: TaskEvent, state: TaskState): void {
    for (const listener of listeners) {
      try {
        listener(event, state);
      } catch (error) {
        // One broken listener must not keep the event from the others.
        this.logger.error(
          { err: error, taskId: event.taskId, traceId: state.traceId, seq: event.seq },
          'event listener threw',
        );
      }
    }
  }
}
