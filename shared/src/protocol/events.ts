import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { TaskId, TaskResult, TaskSpec } from './task.ts';

/** Fields every event carries. `seq` starts at 1 per task and grows by 1; `at` is server epoch ms. */
const base = {
  taskId: TaskId,
  seq: z.int().min(1),
  at: z.number(),
};

export const QueuedEvent = z.object({ ...base, type: z.literal('queued'), spec: TaskSpec });
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
