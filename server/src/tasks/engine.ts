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
import type { TaskStore } from '../store/types.ts';
import { applyEvent, TaskRun } from './run.ts';

export type EventListener = (event: TaskEvent, state: TaskState) => void;
export type Unsubscribe = () => void;

/** `stopping`: this process is shutting down (a restart): the task goes on at the next start. */
export type WaitOutcome =
  | { ended: true; task: TaskState }
  | { ended: false; reason: 'timeout' | 'aborted' | 'stopping' };

export interface EngineDeps {
  store: TaskStore;
  logger: Logger;
  now?: () => number;
}

/**
 * Runs tasks in real time, numbers their events and stores them before anyone hears of them.
 * It knows no transport: lanes create, cancel, wait and subscribe through this class alone.
 */
export class TaskEngine {
  private readonly runs = new Map<string, TaskRun>();
  private readonly taskListeners = new Map<string, Set<EventListener>>();
  private readonly allListeners = new Set<EventListener>();
  private readonly store: TaskStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private stopped = false;
  /** Aborted by stop(): every blocking wait ends at once, so that its caller can answer before the
   *  connections are cut (a blocking call then learns where its task lives). */
  private readonly stopping = new AbortController();

  constructor(deps: EngineDeps) {
    this.store = deps.store;
    this.logger = deps.logger;
    this.now = deps.now ?? epochNow;
    // Every blocking wait listens on it (one per request held by the request/response or hybrid
    // lane): hundreds at once in a hall are by design, not the leak Node warns of past 10.
    setMaxListeners(0, this.stopping.signal);
  }

  /** A fresh task id; a lane that must subscribe before the first event takes one and passes it in. */
  newTaskId(): string {
    return randomUUID();
  }

  /**
   * Accepts a task: stores it with its `queued` event, then starts it on the next turn of the loop.
   * `traceId`: its correlation id (the creating request's `traceparent` trace-id), else a new one.
   */
  async create(spec: TaskSpec, id = this.newTaskId(), traceId = newTraceId()): Promise<TaskState> {
    if (this.stopped) throw new AppError('UNAVAILABLE', 'The server is shutting down; try again shortly.');
    const createdAt = this.now();
    const state: TaskState = {
      id,
      spec,
      status: 'queued',
      step: 0,
      steps: spec.steps,
      percent: 0,
      lastSeq: 1,
      createdAt,
      updatedAt: createdAt,
      latenessMs: 0,
      traceId,
    };
    const queued: TaskEvent = { type: 'queued', taskId: id, seq: 1, at: createdAt, dueAt: createdAt, spec };
    await this.store.createTask(state, queued);
    const run = this.track(state, 0);
    this.publish(queued, state);
    setImmediate(() => run.start());
    return state;
  }

  async get(id: string): Promise<TaskState | undefined> {
    // A running task as of its last published event: never a state whose event is not yet stored.
    return this.runs.get(id)?.publishedState ?? (await this.store.getTask(id));
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
    if (TERMINAL_STATUSES.has(task.status)) {
      throw new AppError('TASK_FINISHED', `Task ${id} has already ${task.status}.`, { status: task.status });
    }
    throw new AppError('UNAVAILABLE', `Task ${id} is not running on this server.`);
  }

  /** Every event of every task, after it is stored. */
  onEvent(listener: EventListener): Unsubscribe {
    this.allListeners.add(listener);
    return () => this.allListeners.delete(listener);
  }

  /** Live events of one task, from now on. */
  onTaskEvent(id: string, listener: EventListener): Unsubscribe {
    let set = this.taskListeners.get(id);
    if (!set) {
      set = new Set();
      this.taskListeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.taskListeners.get(id) === set) this.taskListeners.delete(id);
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
   * After a restart: every task that was accepted and had not ended goes on from its last stored
   * step (a queued one starts). Nothing accepted is lost. Returns how many were resumed.
   */
  async recover(): Promise<number> {
    const unfinished = await this.store.unfinishedTasks();
    for (const stored of unfinished) {
      if (this.runs.has(stored.id)) continue;
      // The stored state is as of the task's last change of status; its steps since are in the log.
      let state = stored;
      for (const event of await this.store.eventsAfter(stored.id, stored.lastSeq)) {
        state = applyEvent(state, event);
      }
      const run = this.track(state, state.lastSeq);
      run.resume();
      this.logger.info(
        { taskId: state.id, traceId: state.traceId, step: state.step, status: state.status },
        'task resumed after restart',
      );
    }
    return unfinished.length;
  }

  /** Stops every clock; running tasks stay unfinished in the store, to be resumed at next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await Promise.all([...this.runs.values()].map((run) => run.halt()));
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
        onSettled: (id) => this.runs.delete(id),
      },
      publishedSeq,
    );
    this.runs.set(state.id, run);
    return run;
  }

  private publish(event: TaskEvent, state: TaskState): void {
    // Before any listener: one that reads the task's events from here on finds this one too.
    this.runs.get(event.taskId)?.published(event, state);
    const listeners = [...this.allListeners, ...(this.taskListeners.get(event.taskId) ?? [])];
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
