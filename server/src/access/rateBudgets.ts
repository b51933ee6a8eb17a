import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';

/** One rate budget: `points` per `durationS` seconds for each key (a client, an address). */
export interface RateBudgetOptions {
  /** Names the budget; two budgets of one name share their counts (on Redis: across instances). */
  name: string;
  points: number;
  durationS: number;
}

/** Makes the rate budgets (rate-limiter-flexible limiters) of the per-client bounds. */
export type RateBudgets = (options: RateBudgetOptions) => RateLimiterAbstract;

/**
 * In this process's memory (no REDIS_URL): each instance counts its own. rate-limiter-flexible's
 * memory store resolves inside its promises without any I/O and unrefs its expiry timers, so nothing
 * holds the process open.
 */
export const memoryBudgets: RateBudgets = ({ name, points, durationS }) =>
  new RateLimiterMemory({ keyPrefix: name, points, duration: durationS });

/**
 * On Redis (REDIS_URL), so that every instance on one `REDIS_PREFIX` counts one budget per client:
 * a client that picks its instance (a forged `lab-link` cookie prefix) gets each limit once, not once
 * per instance. A consume is one Lua call (INCRBY + its minute's expiry, atomic), on `redis`, the
 * store's connection; its key is `keyOf(name)` + `:` + the client (store/redis.ts, `rate:`).
 *
 * When Redis fails, the budget degrades to this instance's own count rather than refusing everyone
 * or throwing: a command that Redis does not answer is answered by the `insuranceLimiter`, a memory
 * budget of the same size (rate-limiter-flexible's documented fallback). `rejectIfRedisNotReady`
 * sends every consume made while ioredis is not connected (reconnecting after a blip) straight to it,
 * instead of waiting in ioredis's offline queue (up to ≈ 9 s, store/redis.ts) and holding the request
 * meanwhile; a command already sent when the connection drops still waits that long before it falls
 * back. The insurance counts from zero, so during an outage a client may spend its budget once more on
 * each instance; once Redis answers again, the shared count (still there, with its expiry) applies.
 */
export function redisBudgets(redis: Redis, keyOf: (name: string) => string): RateBudgets {
  return (options) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: keyOf(options.name),
      points: options.points,
      duration: options.durationS,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memoryBudgets(options),
    });
}
