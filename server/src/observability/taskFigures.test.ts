import type { IncomingMessage } from 'node:http';
import { LAB_TAGS, type TaskEvent } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { createTaskFigures } from './taskFigures.ts';

const SPEC = { durationMs: 0, steps: 1 };
const request = (lane?: string) =>
  ({
    url: '/api/tasks',
    headers: lane ? { [LAB_TAGS.laneHeader]: lane, [LAB_TAGS.runHeader]: 'run-00000001' } : {},
  }) as unknown as IncomingMessage;

/** One task's life: accepted at `at`, started `queueMs` later, ended `runMs` after that. */
function life(
  id: string,
  at: number,
  queueMs: number,
  runMs: number,
  end: 'succeeded' | 'failed' | 'cancelled' = 'succeeded',
): TaskEvent[] {
  const started = at + queueMs;
  const ended = started + runMs;
  const terminal: TaskEvent =
    end === 'succeeded'
      ? { type: 'succeeded', taskId: id, seq: 3, at: ended, result: { steps: 1, payload: '' } }
      : end === 'failed'
        ? { type: 'failed', taskId: id, seq: 3, at: ended, error: { code: 'TASK_FAILED', message: 'no' } }
        : { type: 'cancelled', taskId: id, seq: 3, at: ended };
  return [
    { type: 'queued', taskId: id, seq: 1, at, dueAt: at, spec: SPEC },
    { type: 'started', taskId: id, seq: 2, at: started },
    terminal,
  ] as TaskEvent[];
}

describe('task figures', () => {
  it('gives nearest-rank quantiles of each lane’s queue time and end to end, each a measured value', () => {
    const figures = createTaskFigures();
    for (let i = 1; i <= 20; i++) {
      figures.tagTask(`t${i}`, request('sse'));
      for (const event of life(`t${i}`, 1_000 * i, i, 10)) figures.observe(event);
    }
    const [sse] = figures.snapshot();
    expect(sse?.lane).toBe('sse');
    expect(sse?.ended).toEqual({ succeeded: 20, failed: 0, cancelled: 0 });
    // Queue times 1..20 ms: p50 is the 10th, p95 the 19th, p99 and max the 20th.
    expect(sse?.queueMs).toEqual([
      { q: 0.5, value: 10 },
      { q: 0.95, value: 19 },
      { q: 0.99, value: 20 },
      { q: 1, value: 20 },
    ]);
    expect(sse?.latencyMs.map((x) => x.value)).toEqual([20, 29, 30, 30]);
  });

  it('keeps only each lane’s latest tasks for its quantiles, but counts every end', () => {
    const figures = createTaskFigures(3);
    for (const [i, queueMs] of [100, 1, 2, 3].entries()) {
      figures.tagTask(`t${i}`, request('websocket'));
      for (const event of life(`t${i}`, 0, queueMs, 0)) figures.observe(event);
    }
    const [ws] = figures.snapshot();
    expect(ws?.ended.succeeded).toBe(4);
    expect(ws?.queueCount).toBe(3);
    expect(ws?.queueMs.at(-1)).toEqual({ q: 1, value: 3 }); // the 100 ms one has left the window
  });

  it('counts queued tasks until they start, and an untagged or resumed task under `other`', () => {
    const figures = createTaskFigures();
    figures.tagTask('a', request());
    const [queued, started, failed] = life('a', 0, 5, 5, 'failed');
    figures.observe(queued as TaskEvent);
    expect(figures.queuedCount()).toBe(1);
    figures.observe(started as TaskEvent);
    figures.observe({
      type: 'progress',
      taskId: 'a',
      seq: 3,
      at: 6,
      dueAt: 6,
      step: 1,
      steps: 2,
      percent: 50,
    } as TaskEvent);
    expect(figures.queuedCount()).toBe(0);
    figures.observe({ ...(failed as TaskEvent), seq: 4 } as TaskEvent);
    // Resumed after a restart: only its end is heard here; no durations (it was accepted elsewhere).
    figures.observe({ type: 'cancelled', taskId: 'resumed', seq: 9, at: 50 });
    const [other] = figures.snapshot();
    expect(other).toMatchObject({
      lane: 'other',
      ended: { succeeded: 0, failed: 1, cancelled: 1 },
      latencyCount: 1,
    });
  });
});
