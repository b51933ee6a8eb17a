import { type BackoffPolicy, backoffDelayMs, DEFAULT_BACKOFF } from './backoff.ts';

/**
 * The retry loop a following lane keeps (short and long polling, HTTP streaming): failures are counted
 * in a row, any answer that comes through resets the count, and each failure within the budget says how
 * long to wait before asking again. Only the count and the wait are shared: each lane reports, sleeps or
 * schedules, and words its own error when the budget is spent.
 */
export interface RetryBudget {
  /** Failures since the last success (past `max` once the budget is spent: the count in the lane's error). */
  readonly failures: number;
  /**
   * Counts one failure. Within the budget, returns the wait before the next try, ms: the longer of the
   * server's hint (`Retry-After`, ms) and the backoff for this many failures in a row. Returns undefined
   * once more than `max` failures came in a row: the lane gives up (and no jitter is drawn).
   */
  fail(hintMs?: number): number | undefined;
  /** An answer came through: the next failure is the first again. */
  succeed(): void;
}

/**
 * `max` failures in a row are retried and the next one ends the budget; `random` is the backoff's jitter
 * (`Math.random` or a test's stand-in, in [0, 1)).
 */
export function createRetryBudget(
  max: number,
  random: () => number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): RetryBudget {
  let failures = 0;
  return {
    get failures() {
      return failures;
    },
    fail(hintMs) {
      failures += 1;
      if (failures > max) return undefined;
      // The first retry is attempt 0 of the backoff.
      return Math.max(hintMs ?? 0, backoffDelayMs(failures - 1, policy, random));
    },
    succeed() {
      failures = 0;
    },
  };
}
