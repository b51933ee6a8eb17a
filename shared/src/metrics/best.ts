/**
 * A best mark is a claim that one lane did better, so it is given only for a difference a reader can
 * trust: larger than `BEST_MARGIN_FRACTION` of the figure and larger than what the measurement itself
 * cannot tell apart (for a time, the clock's stated uncertainty). 20 052 ms against 20 095 ms is the
 * same time; 1 request against 2 is not.
 */
export const BEST_MARGIN_FRACTION = 0.05;

/**
 * The ids clearly lowest on one figure (lower is better). The leaders are every value within the margin
 * of the lowest (they cannot be told apart, so they share the mark); they are marked only when every
 * other value is above the highest leader by more than the margin, the larger of `fraction` of that
 * leader's value and `absoluteMargin` (the clock's uncertainty for a time, 0 for a count). Fewer than two
 * values, or no value clear of the leaders, mark nothing.
 */
export function clearlyLowest<Id>(
  values: ReadonlyArray<{ id: Id; value: number }>,
  absoluteMargin = 0,
  fraction = BEST_MARGIN_FRACTION,
): Set<Id> {
  if (values.length < 2) return new Set();
  const margin = (value: number) => Math.max(Math.abs(value) * fraction, absoluteMargin);
  const min = Math.min(...values.map((v) => v.value));
  const leaders = values.filter((v) => v.value <= min + margin(min));
  const rest = values.filter((v) => v.value > min + margin(min));
  if (rest.length === 0) return new Set();
  const top = Math.max(...leaders.map((v) => v.value));
  const nextBest = Math.min(...rest.map((v) => v.value));
  return nextBest - top > margin(top) ? new Set(leaders.map((v) => v.id)) : new Set();
}
