import type { TaskEvent, TaskState } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { applyReport, laneQueueMs, runningLane } from './lane-reducer.ts';

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

describe("a lane's record of its task's queue time", () => {
  const queued = (position?: number): TaskEvent => ({
    type: 'queued',
    taskId: TASK,
    seq: 1,
    at: 1_000,
    dueAt: 1_000,
    spec: { durationMs: 2_000, steps: 4 },
    ...(position !== undefined ? { position } : {}),
  });
  const state = (status: TaskState['status'], extra: Partial<TaskState> = {}): TaskState => ({
    id: TASK,
    spec: { durationMs: 2_000, steps: 4 },
    status,
    step: status === 'succeeded' ? 4 : 0,
    steps: 4,
    percent: status === 'succeeded' ? 100 : 0,
    lastSeq: 1,
    createdAt: 1_000,
    ...extra,
  });

  it('shows its place while it waits and its queue time once started, from the events (a push lane)', () => {
    const lane = runningLane();
    applyReport(lane, { type: 'event', event: queued(3), at: 0 }, 0);
    expect(lane.detail).toBe('Queued, position 3');
    expect(lane.queuePosition).toBe(3);
    expect(laneQueueMs(lane)).toBeUndefined();
    applyReport(
      lane,
      { type: 'event', event: { type: 'started', taskId: TASK, seq: 2, at: 4_250 }, at: 0 },
      0,
    );
    expect(lane.queuePosition).toBeUndefined();
    expect(lane.firstQueuePosition).toBe(3);
    expect(laneQueueMs(lane)).toBe(3_250);
  });

  it('follows its place as polls bring it, and learns the queue time from the state (a polling lane)', () => {
    const lane = runningLane();
    applyReport(lane, { type: 'task', task: state('queued', { queuePosition: 2 }), at: 0 }, 0);
    expect(lane.detail).toBe('Queued, position 2');
    applyReport(lane, { type: 'task', task: state('queued', { queuePosition: 1 }), at: 0 }, 0);
    expect([lane.queuePosition, lane.firstQueuePosition]).toEqual([1, 2]);
    applyReport(lane, { type: 'task', task: state('running', { startedAt: 1_800 }), at: 0 }, 0);
    expect(lane.queuePosition).toBeUndefined();
    expect(laneQueueMs(lane)).toBe(800);
  });

  it('learns it from the final answer alone (the blocking call), with no place ever shown', () => {
    const lane = runningLane();
    applyReport(
      lane,
      { type: 'task', task: state('succeeded', { startedAt: 1_600, finishedAt: 3_600 }), at: 0 },
      0,
    );
    expect(lane.status).toBe('succeeded');
    expect(laneQueueMs(lane)).toBe(600);
    expect(lane.firstQueuePosition).toBeUndefined();
  });
});
