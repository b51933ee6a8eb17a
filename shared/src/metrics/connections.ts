/**
 * The most intervals open at one instant. An interval is [start, end): one that ends when another
 * starts does not overlap it (an HTTP/1.1 connection freed by one answer can carry the next request).
 * An interval without an end is still open.
 */
export function maxConcurrent(intervals: ReadonlyArray<{ start: number; end?: number }>): number {
  const edges: Array<[time: number, delta: number]> = [];
  for (const { start, end } of intervals) {
    edges.push([start, 1]);
    if (end !== undefined) edges.push([Math.max(start, end), -1]);
  }
  // Ends before starts at the same instant.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of edges) {
    open += delta;
    if (open > most) most = open;
  }
  return most;
}
