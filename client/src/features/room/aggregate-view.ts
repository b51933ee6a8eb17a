import {
  type AggregateMetric,
  type Distribution,
  nearestRank,
  type RaceAggregate,
} from '@transport-lab/shared';

/** What the presenter's box plot draws for one lane, on the value scale (ms, counts, bytes). */
export interface BoxStats {
  q1: number;
  median: number;
  q3: number;
  p95: number;
  /** The whiskers reach the farthest values inside Tukey's fences (the outliers are drawn apart). */
  low: number;
  high: number;
  /** Every value, ascending; those of `outlierIds` drawn as rings. */
  values: Array<{ participantId: string; value: number; outlier: boolean }>;
}

/**
 * Quartiles by the same nearest-rank rule the server's aggregate uses (shared/src/metrics/aggregate.ts),
 * so the box's edges are values someone reported, and the outliers are exactly the aggregate's.
 */
export function boxStats(dist: Distribution): BoxStats | undefined {
  if (dist.count === 0 || dist.values.length === 0) return undefined;
  const sorted = dist.values.map((v) => v.value);
  const outliers = new Set(dist.outliers);
  const inside = dist.values.filter((v) => !outliers.has(v.participantId)).map((v) => v.value);
  return {
    q1: nearestRank(sorted, 25),
    median: dist.median,
    q3: nearestRank(sorted, 75),
    p95: dist.p95,
    low: inside.length > 0 ? Math.min(...inside) : dist.min,
    high: inside.length > 0 ? Math.max(...inside) : dist.max,
    values: dist.values.map((v) => ({ ...v, outlier: outliers.has(v.participantId) })),
  };
}

export interface Axis {
  min: number;
  max: number;
  /** Round values from `min` to `max`, for labels. */
  ticks: number[];
}

/**
 * A round axis around `lo`..`hi` with about four steps of 1, 2, 2.5 or 5 × 10^k. It need not start at
 * zero: a box plot encodes by position, not by length, and a zero baseline would squeeze a lane's
 * spread of 100 ms into a few pixels beside a 1 s median.
 */
export function niceAxis(lo: number, hi: number): Axis {
  let low = lo;
  let high = hi;
  if (!Number.isFinite(low) || !Number.isFinite(high)) return { min: 0, max: 1, ticks: [0, 1] };
  if (!(high > low)) {
    const pad = Math.max(1, Math.abs(high) * 0.05);
    low -= pad;
    high += pad;
  }
  const raw = (high - low) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  const min = Math.floor(low / step) * step;
  const max = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  // Rounded to the step's precision, so that 0.1 + 0.2 reads 0.3.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let t = min; t <= max + step / 2; t += step) ticks.push(Number(t.toFixed(digits)));
  return { min, max, ticks };
}

/**
 * One axis for every lane of a metric, so that the lanes' boxes compare at a glance. It spans the
 * whiskers (everything inside Tukey's fences); outliers beyond it are drawn at its edge and named
 * in words, so that one phone on a bad network does not flatten every box.
 */
export function sharedAxis(aggregate: RaceAggregate, metric: AggregateMetric): Axis {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const lane of aggregate.lanes) {
    const dist = lane.metrics[metric];
    const stats = dist ? boxStats(dist) : undefined;
    if (!stats) continue;
    lo = Math.min(lo, stats.low);
    hi = Math.max(hi, stats.high);
  }
  return niceAxis(lo, hi);
}

/** Everyone who reported any figure, in first-seen order: the rows of the per-participant table. */
export function reporters(aggregate: RaceAggregate): string[] {
  const seen = new Set<string>();
  for (const lane of aggregate.lanes) {
    for (const dist of Object.values(lane.metrics))
      for (const v of dist?.values ?? []) seen.add(v.participantId);
  }
  return [...seen];
}

/**
 * One metric's figures by lane, then by participant: the per-participant table's cells in one pass,
 * rather than a search through every lane's values for every cell (500 people × 7 lanes).
 */
export function figuresByLane(
  aggregate: RaceAggregate,
  metric: AggregateMetric,
): ReadonlyMap<string, ReadonlyMap<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const lane of aggregate.lanes) {
    const values = new Map<string, number>();
    for (const v of lane.metrics[metric]?.values ?? []) values.set(v.participantId, v.value);
    out.set(lane.lane, values);
  }
  return out;
}
