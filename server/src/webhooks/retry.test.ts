import { WEBHOOK_RETRY_SCHEDULE_MS } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, MAX_RETRY_AFTER_MS, parseRetryAfterMs, retryDelayMs } from './retry.ts';

describe('retryDelayMs', () => {
  it('scales the Standard Webhooks slot after each failed attempt, and has none after the tenth', () => {
    const middle = () => 0.5; // no jitter
    expect(retryDelayMs(1, 1, middle)).toBe(5_000);
    expect(retryDelayMs(2, 0.01, middle)).toBe(3_000);
    expect(retryDelayMs(3, 0.01, middle)).toBe(18_000);
    expect(retryDelayMs(MAX_ATTEMPTS - 1, 1, middle)).toBe(86_400_000);
    expect(retryDelayMs(MAX_ATTEMPTS, 1, middle)).toBeUndefined();
    expect(MAX_ATTEMPTS).toBe(WEBHOOK_RETRY_SCHEDULE_MS.length);
  });

  it('jitters by at most ±10 %', () => {
    expect(retryDelayMs(1, 1, () => 0)).toBe(4_500);
    expect(retryDelayMs(1, 1, () => 0.999_999)).toBeCloseTo(5_500, 0);
    const samples = Array.from({ length: 200 }, () => retryDelayMs(2, 1) ?? 0);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(270_000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(330_000);
    expect(new Set(samples).size).toBeGreaterThan(1);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date as the time until then, and a past date as now', () => {
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read and caps what is too long', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs('-5', now)).toBeUndefined();
    expect(parseRetryAfterMs('31536000', now)).toBe(MAX_RETRY_AFTER_MS);
  });
});
