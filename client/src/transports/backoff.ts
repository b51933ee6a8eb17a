/** How long to wait before retrying after the n-th consecutive failure. */
export interface BackoffPolicy {
  /** Delay ceiling of the first retry, ms. */
  baseMs: number;
  /** No delay exceeds this, ms. */
  capMs: number;
}

/** 250 ms, 500 ms, 1 s, … up to 10 s: quick after a blip, gentle on a server that is down. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 10_000 };

/**
 * Capped exponential backoff with "equal jitter" (Brooker, "Exponential Backoff And Jitter", AWS
 * Architecture Blog, 2015): the ceiling doubles per attempt up to `capMs`, and the delay is drawn
 * uniformly from its upper half, [ceiling/2, ceiling). Jitter spreads clients that failed together
 * (a server restart drops every long poll at once) so they do not all return in the same instant;
 * keeping the lower half out means a retry never comes at once after a failure.
 *
 * `attempt` counts from 0 (the first retry); `random` is `Math.random` or a test's stand-in, in [0, 1).
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30); // 2^30 × base is past any cap
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  const unit = Math.min(Math.max(random(), 0), 1);
  return ceiling / 2 + (unit * ceiling) / 2;
}
