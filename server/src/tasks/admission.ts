import { monitorEventLoopDelay } from 'node:perf_hooks';
import { OVERLOAD_REASONS, type OverloadDetails, type OverloadReason } from '@transport-lab/shared';
import { AppError } from '../errors.ts';

/** The event-loop delay is judged over windows this long, by their p99. */
export const LOOP_DELAY_WINDOW_MS = 1_000;
/**
 * Late windows in a row before new tasks are refused. One alone is a single pause (a full GC, a
 * large synchronous import, the OS running something else on a shared core): with ≈ 100 samples a
 * window, one 250 ms stall is its p99, and refusing a whole second of tasks for it would be the
 * refusal spreading instead of the overload. A loop that is truly behind is late in every window.
 */
export const LATE_WINDOWS_TO_REFUSE = 2;
/** How often the loop-delay monitor samples, ms (its own timer: ≈ 100 wake-ups a second, measured
 *  as nothing against the hall's load). */
const LOOP_DELAY_RESOLUTION_MS = 10;

/** When to try again, s. A late loop is judged again each second; a cap frees as tasks end (a task
 *  of the hall lasts a few seconds) or streams close. */
const RETRY_AFTER_S: Record<OverloadReason, number> = {
  'event-loop-delay': 1,
  'running-tasks': 2,
  'open-streams': 2,
  // A queued task waits for a task ahead of it to end: a few seconds in a race.
  'queue-full': 2,
};

const MESSAGES: Record<OverloadReason, string> = {
  'event-loop-delay':
    'The server is too busy to serve a new task truthfully (its event loop is running late); tasks already running go on. Try again shortly.',
  'running-tasks':
    'The server runs as many tasks as it is configured to (MAX_RUNNING_TASKS); tasks already running go on. Try again shortly.',
  'open-streams':
    'The server holds as many open streams as it is configured to (MAX_OPEN_STREAMS); tasks already running go on. Try again shortly.',
  'queue-full':
    'Every worker is busy (WORKERS) and as many tasks wait for one as the queue holds (MAX_QUEUED_TASKS); tasks already accepted go on. Try again shortly.',
};

export interface AdmissionLimits {
  /** Refuse new tasks while the event-loop delay p99 of each of the last LATE_WINDOWS_TO_REFUSE
   *  windows is above this, ms. */
  maxEventLoopDelayMs: number;
  maxRunningTasks: number;
  /** SSE streams + held long polls + socket.io connections. */
  maxOpenStreams: number;
  /** Refuse new tasks while this many wait for a worker (the worker pool's bound, tasks/pool.ts). */
  maxQueuedTasks: number;
}

export interface AdmissionDeps {
  limits: AdmissionLimits;
  /** Tasks this process runs now (queued ones included). */
  runningTasks: () => number;
  /** Tasks waiting for a worker now. */
  queuedTasks: () => number;
  /** Connections held by something other than this module's own count (socket.io's), read per check. */
  otherOpenStreams?: () => number;
}

export interface AdmissionStatus {
  /** p99 of the last full window, ms (0 before the first window ends). */
  eventLoopDelayP99Ms: number;
  /** Windows in a row whose p99 was above the bound. */
  lateWindows: number;
  runningTasks: number;
  queuedTasks: number;
  openStreams: number;
  /** Why new tasks are refused now, if they are. */
  refusing?: OverloadReason;
}

/**
 * Overload is refused, not spread (issue 10): past what the server can serve truthfully, a new task
 * on any lane is refused with `503 UNAVAILABLE` + `Retry-After` (a socket: the same error in its ack),
 * while tasks already running finish with every event. A check is a few comparisons against numbers
 * kept up to date elsewhere: the loop delay is read once per window, not per request.
 */
export interface Admission {
  /** Throws the refusal (an AppError with its Retry-After header) if a new task must be refused now. */
  admit(): void;
  /** A stream opens (an SSE stream, a held long poll); call the returned function once it closes. */
  openStream(): () => void;
  status(): AdmissionStatus;
  /** Resolves after the next window has been judged (tests wait on it rather than on a clock). */
  nextWindow(): Promise<AdmissionStatus>;
  close(): void;
}

export function createAdmission({
  limits,
  runningTasks,
  queuedTasks,
  otherOpenStreams,
}: AdmissionDeps): Admission {
  const delay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  delay.enable();
  let delayP99Ms = 0;
  let lateWindows = 0;
  let ownStreams = 0;
  let waiting: Array<(status: AdmissionStatus) => void> = [];

  const openStreams = () => ownStreams + (otherOpenStreams?.() ?? 0);

  function refusing(): OverloadReason | undefined {
    if (lateWindows >= LATE_WINDOWS_TO_REFUSE) return OVERLOAD_REASONS.eventLoopDelay;
    if (queuedTasks() >= limits.maxQueuedTasks) return OVERLOAD_REASONS.queueFull;
    if (runningTasks() >= limits.maxRunningTasks) return OVERLOAD_REASONS.runningTasks;
    if (openStreams() >= limits.maxOpenStreams) return OVERLOAD_REASONS.openStreams;
    return undefined;
  }

  function status(): AdmissionStatus {
    const reason = refusing();
    return {
      eventLoopDelayP99Ms: delayP99Ms,
      lateWindows,
      runningTasks: runningTasks(),
      queuedTasks: queuedTasks(),
      openStreams: openStreams(),
      ...(reason ? { refusing: reason } : {}),
    };
  }

  const window = setInterval(() => {
    // The histogram records in ns; a window with no sample (cannot happen while the timer runs) reads 0.
    delayP99Ms = delay.count > 0 ? delay.percentile(99) / 1e6 : 0;
    delay.reset();
    lateWindows = delayP99Ms > limits.maxEventLoopDelayMs ? lateWindows + 1 : 0;
    if (waiting.length === 0) return;
    const now = status();
    for (const resolve of waiting.splice(0)) resolve(now);
  }, LOOP_DELAY_WINDOW_MS);
  window.unref();

  return {
    admit() {
      const reason = refusing();
      if (reason === undefined) return;
      const retryAfterS = RETRY_AFTER_S[reason];
      throw new AppError('UNAVAILABLE', MESSAGES[reason], { reason, retryAfterS } satisfies OverloadDetails, {
        'Retry-After': String(retryAfterS),
      });
    },
    openStream() {
      ownStreams += 1;
      let open = true;
      return () => {
        if (!open) return;
        open = false;
        ownStreams -= 1;
      };
    },
    status,
    nextWindow() {
      return new Promise((resolve) => waiting.push(resolve));
    },
    close() {
      clearInterval(window);
      delay.disable();
      waiting = [];
    },
  };
}
