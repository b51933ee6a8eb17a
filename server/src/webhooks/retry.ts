import { WEBHOOK_RETRY_SCHEDULE_MS } from '@transport-lab/shared';

/** Total attempts a delivery gets: one per slot of the Standard Webhooks schedule (10). */
export const MAX_ATTEMPTS = WEBHOOK_RETRY_SCHEDULE_MS.length;

/** Each retry delay is spread by ±10 % so that many deliveries failing together (a receiver
 *  that was down) do not all come back in the same millisecond. */
export const JITTER_FRACTION = 0.1;

/** The longest wait a `Retry-After` can impose: the schedule's longest slot, 24 h (unscaled: the
 *  receiver asked in real seconds). A receiver asking for more gets its next attempt after 24 h. */
export const MAX_RETRY_AFTER_MS = Math.max(...WEBHOOK_RETRY_SCHEDULE_MS);

/**
 * Delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed: the schedule's slot
 * `attempt` × `scale`, jittered by ±JITTER_FRACTION; undefined when no attempt is left (give up).
 * `random` returns [0, 1), like Math.random.
 */
export function retryDelayMs(attempt: number, scale: number, random: () => number = Math.random) {
  const slot = WEBHOOK_RETRY_SCHEDULE_MS[attempt];
  if (slot === undefined) return undefined;
  const jitter = 1 + JITTER_FRACTION * (2 * random() - 1);
  return slot * scale * jitter;
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as ms from `nowMs`; undefined
 * when absent or unreadable. A date in the past means "now" (0). Capped at MAX_RETRY_AFTER_MS.
 */
export function parseRetryAfterMs(
  header: string | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  let ms: number;
  if (/^\d+$/.test(value)) {
    ms = Number(value) * 1000;
  } else {
    // An HTTP-date names its day and month in letters; Date.parse alone would read "-5" as a year.
    if (!/^[A-Za-z]{3}/.test(value)) return undefined;
    const date = Date.parse(value);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - nowMs);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** Statuses whose Retry-After is honoured: the receiver is rate limiting or briefly unavailable. */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);
