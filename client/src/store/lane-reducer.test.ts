import type { TaskEvent, TaskState } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { applyReport, runningLane } from './lane-reducer.ts';

const TASK = '00000000-0000-4000-8000-000000000001';

const progress = (seq: number, at: number, dueAt?: number): TaskEvent => ({
  type: 'progress',
  taskId: TASK,
  seq,
  at,
  ...(dueAt !== undefined ? { dueAt } : {}),
  step: seq - 2,
  steps: 4,
  percent: (seq - 2) * 25,
});

describe("a lane's record of the server's own lateness", () => {
  it('keeps the most any event ran behind its due time, from events that say when they were due', () => {
    const lane = runningLane();
    applyReport(lane, { type: 'event', event: progress(3, 1_010, 1_000), at: 0 }, 0);
    applyReport(lane, { type: 'event', event: progress(4, 1_640, 1_500), at: 0 }, 0);
    applyReport(lane, { type: 'event', event: progress(5, 2_001, 2_000), at: 0 }, 0);
    expect(lane.serverLatenessMs).toBe(140);
  });

  it('says nothing of it when the server stamped no due time (an older server)', () => {
    const lane = runningLane();
    applyReport(lane, { type: 'event', event: progress(3, 1_010), at: 0 }, 0);
    expect(lane.serverLatenessMs).toBeUndefined();
  });

  it('learns it from task states too, for the lanes that poll states, even after the lane ended', () => {
    const lane = runningLane();
    const state = (latenessMs: number, status: TaskState['status']): TaskState => ({
      id: TASK,
      spec: { durationMs: 2_000, steps: 4 },
      status,
      step: 4,
      steps: 4,
      percent: 100,
      lastSeq: 7,
      createdAt: 0,
      latenessMs,
    });
    applyReport(lane, { type: 'task', task: state(12, 'running'), at: 0 }, 0);
    applyReport(lane, { type: 'task', task: state(85, 'succeeded'), at: 0 }, 0);
    expect(lane.status).toBe('succeeded');
    applyReport(lane, { type: 'task', task: state(90, 'succeeded'), at: 0 }, 0);
    expect(lane.serverLatenessMs).toBe(90);
  });
});
