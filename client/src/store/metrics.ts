import {
  type ClockEstimate,
  clearlyLowest,
  type LaneId,
  type PerceivedMetrics,
  perceivedMetrics,
} from '@transport-lab/shared';
import type { LaneRunState } from './types.ts';

/**
 * A lane's perceived-latency metrics, from the shared arithmetic. Metrics that compare a server time
 * with a client time (completion lag, staleness) need the clock offset: without an estimate they are
 * left out rather than computed against a guessed zero offset. A replayed lane carries the figures
 * its recording holds, and those are returned as they are.
 */
export function laneMetrics(
  lane: LaneRunState,
  actionAt: number | undefined,
  clock: ClockEstimate | undefined,
): PerceivedMetrics {
  if (actionAt === undefined) return {};
  if (lane.recordedMetrics) return lane.recordedMetrics;
  return perceivedMetrics(
    {
      actionAt,
      firstFeedbackAt: lane.firstFeedbackAt,
      finishedShownAt: lane.finishedShownAt,
      serverFinishedAt: clock ? lane.serverFinishedAt : undefined,
      progressShown: clock ? lane.progressShown : [],
    },
    clock?.offsetMs ?? 0,
  );
}

export const METRIC_KEYS = [
  'firstFeedback',
  'totalPerceived',
  'completionLag',
  'staleness',
  'requests',
  'bytesDown',
  'bytesUp',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export interface LaneMeasurement {
  id: LaneId;
  lane: LaneRunState;
  metrics: PerceivedMetrics;
}

/**
 * Every compared metric as a number where lower is better, or undefined where not measured. A bound
 * (an upper bound of the delay per update, a byte total missing some exchanges) is not a measurement to rank.
 */
export function metricValue(m: LaneMeasurement, key: MetricKey): number | undefined {
  switch (key) {
    case 'firstFeedback':
      return m.metrics.firstFeedbackMs;
    case 'totalPerceived':
      return m.metrics.totalPerceivedMs;
    case 'completionLag':
      return m.metrics.completionLagMs;
    case 'staleness':
      return m.lane.progressAgeBound ? undefined : m.metrics.staleness?.meanMs;
    case 'requests':
      return m.lane.wire.requests;
    case 'bytesDown':
      return m.lane.wire.unmeasuredDown ? undefined : m.lane.wire.bytesDown;
    case 'bytesUp':
      return m.lane.wire.unmeasuredUp ? undefined : m.lane.wire.bytesUp;
  }
}

/** The compared metrics that are times: their best mark must also clear the clock's uncertainty. */
const TIME_METRICS: ReadonlySet<MetricKey> = new Set([
  'firstFeedback',
  'totalPerceived',
  'completionLag',
  'staleness',
]);

/**
 * The best lane(s) on each metric (lowest value). Only runs the server carried to their end
 * (succeeded or failed) are compared, as they ran the same task to the same point; a metric is
 * marked only when the best leads by more than 5 % and, for a time, by more than the clock's stated
 * uncertainty (`clearlyLowest`). Leaders that cannot be told apart share the mark.
 */
export function bestLanes(
  measurements: readonly LaneMeasurement[],
  clockUncertaintyMs = 0,
): Record<MetricKey, ReadonlySet<LaneId>> {
  const comparable = measurements.filter((m) => m.lane.status === 'succeeded' || m.lane.status === 'failed');
  const best = {} as Record<MetricKey, ReadonlySet<LaneId>>;
  for (const key of METRIC_KEYS) {
    const values = comparable.flatMap((m) => {
      const value = metricValue(m, key);
      return value === undefined ? [] : [{ id: m.id, value }];
    });
    best[key] = clearlyLowest(values, TIME_METRICS.has(key) ? clockUncertaintyMs : 0);
  }
  return best;
}

/** The metrics on which one lane is marked best. */
export function bestMetricsOf(
  best: Record<MetricKey, ReadonlySet<LaneId>>,
  id: LaneId,
): ReadonlySet<MetricKey> {
  return new Set(METRIC_KEYS.filter((key) => best[key].has(id)));
}
