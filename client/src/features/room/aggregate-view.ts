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

/** Steps of a round axis end, per power of ten: fine enough that the data fills most of the axis. */
const AXIS_STEPS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/** The next round number at or above `value` (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k): the end of a shared axis. */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of AXIS_STEPS) if (step * power >= value) return step * power;
  return 10 * power;
}

/** One axis for every lane of a metric, so that the lanes' boxes compare at a glance. */
export function sharedScaleMax(aggregate: RaceAggregate, metric: AggregateMetric): number {
  let max = 0;
  for (const lane of aggregate.lanes) max = Math.max(max, lane.metrics[metric]?.max ?? 0);
  return niceCeiling(max);
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
