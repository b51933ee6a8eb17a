import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdleProxy } from './idle.ts';

/** Enough of a ServerResponse for the proxy: write, destroy, and its close event. */
function fakeAnswer() {
  const res = new EventEmitter() as EventEmitter & { destroyed: boolean; written: string[] };
  res.destroyed = false;
  res.written = [];
  Object.assign(res, {
    write: (chunk: string) => {
      res.written.push(chunk);
      return true;
    },
    destroy: () => {
      res.destroyed = true;
      res.emit('close');
    },
  });
  return res;
}

describe('the idle-timeout proxy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('cuts an answer quiet for the idle time, counted from its last write, and keeps one that writes more often', () => {
    const proxy = createIdleProxy();
    const quiet = fakeAnswer();
    const beating = fakeAnswer();
    proxy.track('run-a', quiet as unknown as ServerResponse);
    proxy.track('run-a', beating as unknown as ServerResponse);
    expect(proxy.start('run-a', 1_000)).toBe(2);
    for (let t = 0; t < 5; t++) {
      vi.advanceTimersByTime(900);
      (beating as unknown as ServerResponse).write(': heartbeat\n\n');
    }
    expect(quiet.destroyed).toBe(true);
    expect(beating.destroyed).toBe(false);
    expect(beating.written).toHaveLength(5);
  });

  it('times answers opened later, leaves other runs alone, and stops when switched off', () => {
    const proxy = createIdleProxy();
    proxy.start('run-a', 1_000);
    const later = fakeAnswer();
    const other = fakeAnswer();
    proxy.track('run-a', later as unknown as ServerResponse);
    proxy.track('run-b', other as unknown as ServerResponse);
    vi.advanceTimersByTime(1_001);
    expect(later.destroyed).toBe(true);
    expect(other.destroyed).toBe(false);
    const kept = fakeAnswer();
    proxy.track('run-a', kept as unknown as ServerResponse);
    expect(proxy.stop('run-a')).toBe(1);
    vi.advanceTimersByTime(5_000);
    expect(kept.destroyed).toBe(false);
  });
});
