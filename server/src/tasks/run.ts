import {
  isTerminalEvent,
  serverLatenessMs,
  TASK_FAILURE_CODES,
  TASK_LIMITS,
  type TaskEvent,
  type TaskResult,
  type TaskState,
} from '@transport-lab/shared';
import type { Logger } from '../observability/logger.ts';
import type { TaskStore } from '../store/types.ts';

/** An event before the run numbers and stamps it. Distributive, so each variant keeps its fields. */
type Unstamped<E> = E extends TaskEvent ? Omit<E, 'seq' | 'at' | 'dueAt' | 'taskId'> : never;
export type EventDraft = Unstamped<TaskEvent>;

/** At most this many overdue steps are emitted in one timer tick before yielding to the event loop,
 *  so that a 0 ms task of 1 000 steps does not starve other tasks and sockets. */
const MAX_STEPS_PER_TICK = 50;

/** How many of its latest published events a run keeps in memory for catch-up reads (a long poll, a
 *  stream resumed from its cursor, a socket re-subscribing): those read the store only further back.
 *  Each poll of the hall's long-polling lane read SQLite and parsed every row with zod before. At
 *  ≈ 200 bytes an event, 64 of them for each of a hall's 1 000 running tasks is ≈ 13 MB. */
export const RECENT_EVENTS = 64;

const FILLER = 'transport-lab ';

export function resultPayload(bytes: number): string {
  return FILLER.repeat(Math.ceil(bytes / FILLER.length)).slice(0, bytes);
}

export interface RunDeps {
  store: TaskStore;
  now: () => number;
  logger: Logger;
  /** Called with each event after it is durably stored, in seq order. */
  publish: (event: TaskEvent, state: TaskState) => void;
  /** Called once the run has ended and its last write is stored. */
  onSettled: (id: string) => void;
  /** Called once when a write of the run failed and it halted before its end (on Redis: another
   *  instance took its next seq, or Redis stayed away). */
  onBroken?: (id: string) => void;
}

/** Applies an event to the task state: the only place the state changes. */
export function applyEvent(state: TaskState, event: TaskEvent): TaskState {
  const next: TaskState = {
    ...state,
    lastSeq: event.seq,
    updatedAt: event.at,
    latenessMs: Math.max(state.latenessMs ?? 0, serverLatenessMs(event)),
  };
  switch (event.type) {
    case 'queued':
      return { ...next, status: 'queued' };
    case 'started': {
      // A place in the queue means nothing once a worker has the task.
      const { queuePosition: _place, ...started } = next;
      return { ...started, status: 'running', startedAt: event.at };
    }
    case 'progress':
      return { ...next, step: event.step, percent: event.percent };
    case 'succeeded':
      return { ...next, status: 'succeeded', finishedAt: event.at, result: event.result };
    case 'failed':
      return { ...next, status: 'failed', finishedAt: event.at, error: event.error };
    case 'cancelled':
      return { ...next, status: 'cancelled', finishedAt: event.at };
  }
}

/**
 * One task in real time. Steps are due at `paceOriginAt + step × durationMs / steps`, measured
 * against absolute time so that timer lateness never accumulates into drift.
 */
export class TaskRun {
  private timer: NodeJS.Timeout | undefined;
  /** Publications, in seq order: each waits for its own write and for the publication before. */
  private writes: Promise<void> = Promise.resolve();
  private ended = false;
  /** Set on shutdown: the clock stops, queued writes still land. */
  private halted = false;
  /** Set when a write failed (in seq order): later events would leave a gap in the log, so none is
   *  written or published. */
  private broken = false;
  private paceOriginAt = 0;

  /** The last RECENT_EVENTS events published, oldest first, ending at `publishedSeq`. */
  private recent: TaskEvent[] = [];
  /** The task as of its last published event: what a reader may be told (`state` runs ahead of
   *  the store by the writes in flight). */
  publishedState: TaskState;

  constructor(
    public state: TaskState,
    private readonly deps: RunDeps,
    /** The seq up to which this task's events were published before this run (0 for a new task;
     *  a resumed one's stored events were published by the process before). */
    private publishedSeq: number,
  ) {
    this.publishedState = state;
  }

  /** Keeps a just-published event for catch-up reads; the engine calls it before any listener. */
  published(event: TaskEvent, state: TaskState): void {
    this.publishedState = state;
    this.recent.push(event);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    this.publishedSeq = event.seq;
  }

  /** Published events with seq > afterSeq, or undefined when some of them are no longer kept. */
  publishedAfter(afterSeq: number): TaskEvent[] | undefined {
    if (afterSeq >= this.publishedSeq) return [];
    const firstKept = this.publishedSeq - this.recent.length + 1;
    if (afterSeq + 1 < firstKept) return undefined;
    return this.recent.slice(afterSeq + 1 - firstKept);
  }

  get id(): string {
    return this.state.id;
  }

  private get stepIntervalMs(): number {
    return this.state.spec.durationMs / this.state.spec.steps;
  }

  /**
   * Numbers, stamps and applies the event now; stores and publishes it in order. `dueAt`: when the
   * schedule wanted it (a step's due time); absent, the event is due the moment it is made (a cancel).
   *
   * The event goes to the store at once, before the previous one is durable, so that every event of
   * this turn of the event loop (this task's and every other's) is committed in one transaction; the
   * store writes a task's events in order and none after a failed one. Publication waits, in seq order,
   * for each event's own commit: still stored before published.
   */
  emit(draft: EventDraft, dueAt?: number): Promise<void> {
    const at = this.deps.now();
    const event = {
      ...draft,
      taskId: this.state.id,
      seq: this.state.lastSeq + 1,
      at,
      dueAt: dueAt === undefined ? at : Math.min(at, dueAt),
    } as TaskEvent;
    const next = applyEvent(this.state, event);
    this.state = next;
    if (isTerminalEvent(event)) this.ended = true;
    // A write already failed: later events would leave a gap in the log, so none is handed over.
    if (this.broken) return this.writes;
    // Settles with the write's error, if any, so that a failure is handled in seq order below and is
    // never an unhandled rejection while earlier events still wait for their commit.
    const stored = this.deps.store.appendEvent(event, next).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    this.writes = this.writes.then(async () => {
      if (this.broken) return;
      const failed = await stored;
      if (failed) {
        // The stored state stays at the last good event, so a restart resumes from there.
        this.broken = true;
        this.clearTimer();
        this.deps.logger.error(
          { err: failed.error, taskId: this.id, traceId: this.state.traceId, seq: event.seq },
          'task event not stored; run halted',
        );
        this.deps.onBroken?.(this.id);
        return;
      }
      this.deps.publish(event, next);
      if (this.ended && event.seq === this.state.lastSeq) this.deps.onSettled(this.id);
    });
    return this.writes;
  }

  /**
   * Starts a queued task: `started`, then the steps from 1. `dueAt`: when a worker became its (its
   * acceptance, if one was free; `create` starts it on the next turn of the loop, so any wait past
   * that turn is the server's own lateness, while its wait for a worker is its queue time).
   */
  start(dueAt: number = this.state.createdAt): void {
    if (this.ended || this.halted || this.broken || this.state.status !== 'queued') return;
    void this.emit({ type: 'started' }, dueAt);
    // The steps are due from the moment the task started (the started event's `at`): stamping the
    // origin later, after the event's synchronous work, shifted every due time by that work (2.9 ms
    // once, under load).
    this.paceOriginAt = this.state.startedAt ?? this.deps.now();
    this.scheduleNext();
  }

  /** Continues a task that was running when the server stopped, from its last completed step;
   *  the remaining steps keep their pace from now (the downtime adds to the duration). */
  resume(): void {
    if (this.state.status === 'queued') {
      this.start(this.deps.now());
      return;
    }
    this.paceOriginAt = this.deps.now() - this.state.step * this.stepIntervalMs;
    this.scheduleNext();
  }

  cancel(): Promise<void> {
    if (!this.ended) {
      this.clearTimer();
      void this.emit({ type: 'cancelled' });
    }
    return this.writes;
  }

  /** Stops the clock without ending the task (server shutdown): it stays resumable in the store. */
  halt(): Promise<void> {
    this.halted = true;
    this.clearTimer();
    return this.writes;
  }

  /** Holds the next step until `ms` from now at the earliest; later steps keep their pace after it. */
  stall(ms: number): boolean {
    if (this.ended || this.halted || this.broken) return false;
    const nextDue = this.dueAt(this.state.step + 1);
    const shiftMs = Math.max(0, this.deps.now() + ms - nextDue);
    this.paceOriginAt += shiftMs;
    this.clearTimer();
    this.scheduleNext();
    return true;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private dueAt(step: number): number {
    return this.paceOriginAt + step * this.stepIntervalMs;
  }

  private scheduleNext(): void {
    if (this.ended || this.halted || this.broken) return;
    const delayMs = Math.max(0, Math.ceil(this.dueAt(this.state.step + 1) - this.deps.now()));
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    this.timer = undefined;
    for (let n = 0; n < MAX_STEPS_PER_TICK && !this.ended && !this.halted && !this.broken; n++) {
      if (this.dueAt(this.state.step + 1) > this.deps.now()) break;
      this.step();
    }
    this.scheduleNext();
  }

  private step(): void {
    const { spec } = this.state;
    const step = this.state.step + 1;
    const due = this.dueAt(step);
    if (spec.failAtStep === step) {
      void this.emit(
        {
          type: 'failed',
          error: {
            code: TASK_FAILURE_CODES.STEP_FAILED,
            message: `The task failed at step ${step} of ${spec.steps}, as its spec asked.`,
            details: { step },
          },
        },
        due,
      );
      return;
    }
    const percent = Math.round((step / spec.steps) * 10_000) / 100;
    void this.emit({ type: 'progress', step, steps: spec.steps, percent }, due);
    if (step === spec.steps) {
      const result: TaskResult = {
        steps: step,
        payload: resultPayload(spec.resultBytes ?? TASK_LIMITS.defaultResultBytes),
      };
      void this.emit({ type: 'succeeded', result }, due);
    }
  }
}
