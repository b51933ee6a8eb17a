import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Throttle } from './throttle.ts';

describe('Throttle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the first request at once and folds requests inside the interval into one trailing run', () => {
    const runs: number[] = [];
    const throttle = new Throttle(
      250,
      () => runs.push(Date.now()),
      () => Date.now(),
    );
    const start = Date.now();
    throttle.request();
    expect(runs).toEqual([start]);
    vi.advanceTimersByTime(10);
    throttle.request();
    throttle.request();
    throttle.request();
    expect(runs).toHaveLength(1);
    vi.advanceTimersByTime(239);
    expect(runs).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(runs).toEqual([start, start + 250]);
    vi.advanceTimersByTime(1_000);
    expect(runs).toHaveLength(2);
  });

  it('never runs more often than once per interval under a steady stream of requests', () => {
    let runs = 0;
    const throttle = new Throttle(
      250,
      () => runs++,
      () => Date.now(),
    );
    for (let ms = 0; ms < 1_000; ms += 5) {
      throttle.request();
      vi.advanceTimersByTime(5);
    }
    vi.advanceTimersByTime(250);
    // t = 0, 250, 500, 750 and the trailing run at 1 000 ms.
    expect(runs).toBe(5);
  });

  it('flush runs at once and drops the pending trailing run; cancel drops it without running', () => {
    let runs = 0;
    const throttle = new Throttle(
      250,
      () => runs++,
      () => Date.now(),
    );
    throttle.request();
    throttle.request();
    throttle.flush();
    expect(runs).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(runs).toBe(2);
    throttle.request(); // the interval has passed: runs at once
    throttle.request(); // inside the interval: would trail
    throttle.cancel();
    vi.advanceTimersByTime(1_000);
    expect(runs).toBe(3);
  });
});
