import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.ts';

const POLICY = { baseMs: 100, capMs: 1_000 };

describe('backoffDelayMs', () => {
  it('doubles the ceiling per attempt and draws from its upper half', () => {
    expect(backoffDelayMs(0, POLICY, () => 0)).toBe(50);
    expect(backoffDelayMs(0, POLICY, () => 0.999_999)).toBeCloseTo(100, 3);
    expect(backoffDelayMs(1, POLICY, () => 0)).toBe(100);
    expect(backoffDelayMs(2, POLICY, () => 0)).toBe(200);
    expect(backoffDelayMs(3, POLICY, () => 0.5)).toBe(600);
  });

  it('never exceeds the cap, however many attempts failed', () => {
    for (const attempt of [4, 5, 10, 50, 1_000, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelayMs(attempt, POLICY, () => 0.999_999)).toBeLessThanOrEqual(1_000);
      expect(backoffDelayMs(attempt, POLICY, () => 0)).toBe(500);
    }
  });

  it('spreads delays over [ceiling/2, ceiling) as the random draw goes from 0 to 1', () => {
    const draws = Array.from({ length: 101 }, (_, i) => i / 101);
    const delays = draws.map((r) => backoffDelayMs(2, POLICY, () => r));
    expect(Math.min(...delays)).toBe(200);
    expect(Math.max(...delays)).toBeLessThan(400);
    expect(new Set(delays).size).toBe(draws.length);
  });

  it('keeps a bad random source or attempt inside the bounds', () => {
    expect(backoffDelayMs(-3, POLICY, () => -1)).toBe(50);
    expect(backoffDelayMs(1, POLICY, () => 7)).toBe(200);
  });
});
