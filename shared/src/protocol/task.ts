import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { TraceId } from './trace.ts';

/** Bounds of a task, from the architecture: up to 2 minutes, 1 000 steps, 64 KiB of result. */
export const TASK_LIMITS = {
  maxDurationMs: 120_000,
  maxSteps: 1_000,
  maxResultBytes: 65_536,
  defaultResultBytes: 64,
} as const;

export const TaskSpec = z
  .strictObject({
    /** Wall-clock time from `started` to the terminal event, spread evenly over the steps. */
    durationMs: z.int().min(0).max(TASK_LIMITS.maxDurationMs),
    steps: z.int().min(1).max(TASK_LIMITS.maxSteps),
    /** The task fails when it reaches this step (1-based) instead of emitting its progress. */
    failAtStep: z.int().min(1).optional(),
    /** Size of the result payload in bytes, so that lanes can be compared on heavy answers too. */
    resultBytes: z.int().min(0).max(TASK_LIMITS.maxResultBytes).optional(),
  })
  .refine((spec) => spec.failAtStep === undefined || spec.failAtStep <= spec.steps, {
    message: 'failAtStep must not exceed steps',
    path: ['failAtStep'],
  });
export type TaskSpec = z.infer<typeof TaskSpec>;

export const TaskId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'not a task id');
export type TaskId = z.infer<typeof TaskId>;

export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export const TaskResult = z.object({
  /** Number of steps completed. */
  steps: z.int().min(0),
  /** Filler of exactly `resultBytes` ASCII characters. */
  payload: z.string(),
});
export type TaskResult = z.infer<typeof TaskResult>;

/** The task as the server knows it now; what `GET /api/tasks/{id}` and the acknowledgements carry. */
export const TaskState = z.object({
  id: TaskId,
  spec: TaskSpec,
  status: TaskStatus,
  /** Steps completed so far. */
  step: z.int().min(0),
  steps: z.int().min(1),
  percent: z.number().min(0).max(100),
  /** Sequence number of the newest event; 0 before any. */
  lastSeq: z.int().min(0),
  /** Server clock, epoch milliseconds with sub-millisecond precision. */
  createdAt: z.number(),
  /** Server time of the newest event (its `at`): how fresh this state is. Absent in states
   *  stored before it existed. */
  updatedAt: z.number().optional(),
  /** When a worker took the task (its `started` event), server epoch ms: `startedAt - createdAt` is
   *  its queue time (`queueTimeMs`). */
  startedAt: z.number().optional(),
  /** While it waits for a worker: its place in its pool's queue, 1 = next to start (live in a read
   *  from the process that runs it; the queued event's in a stored state). Absent once it started. */
  queuePosition: z.int().min(1).optional(),
  finishedAt: z.number().optional(),
  /** The most this task has run behind its own schedule so far, ms: the largest `at - dueAt` of its
   *  events. A lane that reads states, not events (polling), learns the server's own lateness here.
   *  Absent in states stored before it existed. */
  latenessMs: z.number().min(0).optional(),
  result: TaskResult.optional(),
  error: ErrorBody.optional(),
  /** The task's correlation id, a W3C trace-id (trace.ts): the one its creating request's
   *  `traceparent` named, else made by the server. Absent in states stored before it existed. */
  traceId: TraceId.optional(),
});
export type TaskState = z.infer<typeof TaskState>;

/** How long the task waited for a worker, ms: from its acceptance (`createdAt`) to its `started`
 *  event; undefined until it has started. Both times are the server's, so no clock offset enters. */
export function queueTimeMs(task: Pick<TaskState, 'createdAt' | 'startedAt'>): number | undefined {
  return task.startedAt === undefined ? undefined : Math.max(0, task.startedAt - task.createdAt);
}
