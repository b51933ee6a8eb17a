import type { TaskEvent, TaskSpec, TaskState } from '@transport-lab/shared';

/** Hand-made protocol values for tests; each is valid against the shared schemas. */
export const TASK_ID = 'task-0001';
export const SPEC: TaskSpec = { durationMs: 1_000, steps: 4 };

export function taskState(overrides: Partial<TaskState> = {}): TaskState {
  return {
    id: TASK_ID,
    spec: SPEC,
    status: 'queued',
    step: 0,
    steps: SPEC.steps,
    percent: 0,
    lastSeq: 0,
    createdAt: 10_000,
    ...overrides,
  };
}

export function finishedState(finishedAt: number): TaskState {
  return taskState({
    status: 'succeeded',
    step: 4,
    percent: 100,
    lastSeq: 7,
    startedAt: 10_001,
    finishedAt,
    result: { steps: 4, payload: 'xx' },
  });
}

export function progress(seq: number, step: number, at: number): TaskEvent {
  return {
    type: 'progress',
    taskId: TASK_ID,
    seq,
    at,
    step,
    steps: SPEC.steps,
    percent: (step / SPEC.steps) * 100,
  };
}

export function queued(at = 10_000): TaskEvent {
  return { type: 'queued', taskId: TASK_ID, seq: 1, at, spec: SPEC };
}

export function started(at = 10_001): TaskEvent {
  return { type: 'started', taskId: TASK_ID, seq: 2, at };
}

export function succeeded(seq: number, at: number): TaskEvent {
  return { type: 'succeeded', taskId: TASK_ID, seq, at, result: { steps: SPEC.steps, payload: 'xx' } };
}

export function runningState(step: number, lastSeq: number, overrides: Partial<TaskState> = {}): TaskState {
  return taskState({
    status: 'running',
    step,
    percent: (step / SPEC.steps) * 100,
    lastSeq,
    startedAt: 10_001,
    ...overrides,
  });
}

export function failedEvent(seq: number, at: number): TaskEvent {
  return { type: 'failed', taskId: TASK_ID, seq, at, error: { code: 'STEP_FAILED', message: 'broke' } };
}
