/**
 * Server time for events and clock sync: epoch milliseconds with sub-millisecond precision.
 * performance.now() is monotonic, so event times never go backwards within one process.
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
