import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { TaskId, TaskResult, TaskSpec } from './task.ts';

/**
 * Fields every event carries. `seq` starts at 1 per task and grows by 1; `at` is server epoch ms,
 * when the event was made. `dueAt` (server epoch ms) is when the task's own schedule wanted it made:
 * `at - dueAt` is the server's own lateness (a busy event loop firing the step's timer late), which
 * a figure must never pass off as the transport's delay. Optional only so that events recorded
 * before it existed (older exports) still read; this server stamps it on every event.
 */
const base = {
  taskId: TaskId,
  seq: z.int().min(1),
  at: z.number(),
  dueAt: z.number().optional(),
};

/** How late the server made an event against its own schedule, ms (0 when on time or unknown). */
export function serverLatenessMs(event: { at: number; dueAt?: number | undefined }): number {
  return event.dueAt === undefined ? 0 : Math.max(0, event.at - event.dueAt);
}

/**
 * The task is accepted. `position`: present when every worker of its pool was busy, so that it waits
 * in the pool's queue (first in, first out): 1 = next to start. Absent when a worker takes it at once.
 * Its queue time is its `started` event's `at` minus this one's (`queueTimeMs`).
 */
export const QueuedEvent = z.object({
  ...base,
  type: z.literal('queued'),
  spec: TaskSpec,
  position: z.int().min(1).optional(),
});
export const StartedEvent = z.object({ ...base, type: z.literal('started') });
export const ProgressEvent = z.object({
  ...base,
  type: z.literal('progress'),
  step: z.int().min(1),
  steps: z.int().min(1),
  percent: z.number().min(0).max(100),
});
export const SucceededEvent = z.object({ ...base, type: z.literal('succeeded'), result: TaskResult });
export const FailedEvent = z.object({ ...base, type: z.literal('failed'), error: ErrorBody });
export const CancelledEvent = z.object({ ...base, type: z.literal('cancelled') });

export const TaskEvent = z.discriminatedUnion('type', [
  QueuedEvent,
  StartedEvent,
  ProgressEvent,
  SucceededEvent,
  FailedEvent,
  CancelledEvent,
]);
export type TaskEvent = z.infer<typeof TaskEvent>;
export type TaskEventType = TaskEvent['type'];
export type TerminalEvent = Extract<TaskEvent, { type: 'succeeded' | 'failed' | 'cancelled' }>;
export type ProgressEventT = z.infer<typeof ProgressEvent>;

export const TERMINAL_EVENT_TYPES: ReadonlySet<TaskEventType> = new Set(['succeeded', 'failed', 'cancelled']);

export function isTerminalEvent(event: TaskEvent): event is TerminalEvent {
  return TERMINAL_EVENT_TYPES.has(event.type);
}
