import { LANE_IDS, type LaneId } from '../protocol/lanes.ts';
import type {
  AggregateMetric,
  Distribution,
  LaneAggregate,
  LaneResult,
  ParticipantId,
  RaceAggregate,
  RaceId,
} from '../protocol/room.ts';
import { AGGREGATE_METRICS } from '../protocol/room.ts';

/**
 * Nearest-rank percentile (p in 0..100) of values sorted ascending: the smallest value with at least
 * p % of the values at or below it. Always one of the values, so a presenter can point at whose it is.
 */
export function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** One metric over everyone who reported it: count, nearest-rank median and p95, Tukey outliers. */
export function distribution(
  entries: ReadonlyArray<{ participantId: ParticipantId; value: number }>,
): Distribution {
  // Ties broken by id, so that the same results give the same order on every machine.
  const values = [...entries].sort(
    (a, b) =>
      a.value - b.value ||
      (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0),
  );
  const sorted = values.map((v) => v.value);
  const count = sorted.length;
  if (count === 0) {
    return {
      count,
      min: Number.NaN,
      median: Number.NaN,
      p95: Number.NaN,
      max: Number.NaN,
      mean: Number.NaN,
      values,
      outliers: [],
    };
  }
  const q1 = nearestRank(sorted, 25);
  const q3 = nearestRank(sorted, 75);
  const fence = 1.5 * (q3 - q1);
  return {
    count,
    min: sorted[0] as number,
    median: nearestRank(sorted, 50),
    p95: nearestRank(sorted, 95),
    max: sorted[count - 1] as number,
    mean: sorted.reduce((sum, v) => sum + v, 0) / count,
    values,
    outliers: values.filter((v) => v.value < q1 - fence || v.value > q3 + fence).map((v) => v.participantId),
  };
}

/** Every participant's reported lanes for one race, keyed by participant. */
export type ReportedResults = ReadonlyMap<ParticipantId, readonly LaneResult[]>;

/**
 * The room's view of one race, built only from what participants reported, so that it matches their
 * own numbers exactly. Lanes appear in page order; a metric nobody reported is left out.
 */
export function aggregateRace(raceId: RaceId, expected: number, results: ReportedResults): RaceAggregate {
  const perLane = new Map<
    LaneId,
    {
      succeeded: number;
      failed: number;
      entries: Map<AggregateMetric, { participantId: ParticipantId; value: number }[]>;
    }
  >();
  for (const [participantId, lanes] of results) {
    for (const result of lanes) {
      let lane = perLane.get(result.lane);
      if (!lane) {
        lane = { succeeded: 0, failed: 0, entries: new Map() };
        perLane.set(result.lane, lane);
      }
      if (result.status === 'succeeded') lane.succeeded += 1;
      else lane.failed += 1;
      for (const metric of AGGREGATE_METRICS) {
        const value = result[metric];
        if (value === undefined) continue;
        let list = lane.entries.get(metric);
        if (!list) {
          list = [];
          lane.entries.set(metric, list);
        }
        list.push({ participantId, value });
      }
    }
  }
  const lanes: LaneAggregate[] = [];
  for (const id of LANE_IDS) {
    const lane = perLane.get(id);
    if (!lane) continue;
    const metrics: LaneAggregate['metrics'] = {};
    for (const metric of AGGREGATE_METRICS) {
      const list = lane.entries.get(metric);
      if (list) metrics[metric] = distribution(list);
    }
    lanes.push({ lane: id, succeeded: lane.succeeded, failed: lane.failed, metrics });
  }
  return { raceId, expected, reported: results.size, lanes };
}
