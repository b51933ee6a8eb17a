/**
 * The client clock as epoch milliseconds with sub-millisecond precision: the monotonic
 * `performance.now()` anchored at `performance.timeOrigin`, so that two readings never go backwards
 * when the wall clock is adjusted mid-run, and so that they compare with the server's epoch `at`
 * once the clock offset is applied.
 */
export function clientNow(): number {
  return performance.timeOrigin + performance.now();
}

/** An `Event.timeStamp` (ms since time origin) on the same epoch clock as `clientNow()`. */
export function clientTimeOfEvent(timeStamp: number): number {
  return performance.timeOrigin + timeStamp;
}
