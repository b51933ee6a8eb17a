import {
  LANE_IDS,
  LANES,
  type LaneExport,
  type LaneId,
  PROTOCOL_VERSION,
  RACE_EXPORT_VERSION,
  type RaceExport,
} from '@transport-lab/shared';
import { idleLane, laneQueueMs } from './lane-reducer.ts';
import { type LaneMeasurement, laneMetrics } from './metrics.ts';
import {
  bestPerMetric,
  connectionsAtOnce,
  type MetricsRow,
  metricsCsv,
  metricsRow,
  type TableMetric,
} from './metrics-table.ts';
import type { RaceLog } from './race-log.ts';
import type { AppState } from './types.ts';

const IDLE = idleLane();

export interface TableRow {
  id: LaneId;
  name: string;
  status: string;
  /** Ran the task to its end (succeeded or failed): compared for best marks. */
  comparable: boolean;
  cells: MetricsRow;
}

/** The lanes of the race (or, before any, the selected ones), in page order. */
export function raceLanes(state: Pick<AppState, 'race' | 'selectedLanes'>): LaneId[] {
  const inRace = LANE_IDS.filter((id) => state.race.lanes[id] !== undefined);
  return inRace.length > 0 ? inRace : [...state.selectedLanes];
}

export function measurementsOf(state: Pick<AppState, 'race' | 'selectedLanes' | 'clock'>): LaneMeasurement[] {
  return raceLanes(state).map((id) => {
    const lane = state.race.lanes[id] ?? IDLE;
    return { id, lane, metrics: laneMetrics(lane, state.race.actionAt, state.clock.estimate) };
  });
}

/** The metrics table: a row per lane and the best lane(s) per metric. */
export function metricsTable(
  state: Pick<AppState, 'race' | 'selectedLanes' | 'clock'>,
  log: RaceLog,
): { rows: TableRow[]; best: Record<TableMetric, ReadonlySet<LaneId>> } {
  const rows = measurementsOf(state).map((m) => ({
    id: m.id,
    name: LANES[m.id].name,
    status: m.lane.status,
    comparable: m.lane.status === 'succeeded' || m.lane.status === 'failed',
    cells: metricsRow(m, log.runId === state.race.runId ? log.lanes[m.id] : undefined),
  }));
  return { rows, best: bestPerMetric(rows, state.clock.estimate?.uncertaintyMs) };
}

export function raceCsv(state: Pick<AppState, 'race' | 'selectedLanes' | 'clock'>, log: RaceLog): string {
  return metricsCsv(metricsTable(state, log).rows);
}

/**
 * The finished race as a `RaceExport`: undefined before any race. Built from the state and the race
 * log; what was not measured is left out, never written as zero. `origin`: the page's, where the race
 * ran (a replay names it).
 */
export function raceExport(
  state: AppState,
  log: RaceLog,
  exportedAt: number,
  origin?: string,
): RaceExport | undefined {
  const { race } = state;
  if (
    race.actionAt === undefined ||
    race.runTag === undefined ||
    !race.settings ||
    log.runId !== race.runId
  ) {
    return undefined;
  }
  const lanes = LANE_IDS.flatMap((id): LaneExport[] => {
    const lane = race.lanes[id];
    const laneLog = log.lanes[id];
    if (!lane || !laneLog) return [];
    const metrics = laneMetrics(lane, race.actionAt, state.clock.estimate);
    const { wire } = lane;
    const atOnce = connectionsAtOnce(laneLog);
    const queueMs = laneQueueMs(lane);
    const measurements: LaneExport['measurements'] = {
      progressShown: lane.progressShown.map((p) => ({ ...p })),
      requests: wire.requests,
      ...(metrics.firstFeedbackMs !== undefined ? { firstFeedbackMs: metrics.firstFeedbackMs } : {}),
      ...(metrics.totalPerceivedMs !== undefined ? { totalPerceivedMs: metrics.totalPerceivedMs } : {}),
      ...(metrics.completionLagMs !== undefined ? { completionLagMs: metrics.completionLagMs } : {}),
      ...(metrics.staleness ? { staleness: { ...metrics.staleness } } : {}),
      ...(lane.progressAgeBound ? { progressAgeUpperBound: true } : {}),
      ...(wire.bytesUp !== undefined ? { bytesUp: wire.bytesUp } : {}),
      ...(wire.bytesDown !== undefined ? { bytesDown: wire.bytesDown } : {}),
      ...(wire.unmeasuredUp ? { unmeasuredUp: wire.unmeasuredUp } : {}),
      ...(wire.unmeasuredDown ? { unmeasuredDown: wire.unmeasuredDown } : {}),
      ...(lane.wastedPolls !== undefined ? { wastedPolls: lane.wastedPolls } : {}),
      ...(wire.connections !== undefined ? { connectionsOpened: wire.connections } : {}),
      ...(wire.unmeasuredConnections ? { unmeasuredConnections: wire.unmeasuredConnections } : {}),
      ...(atOnce !== undefined ? { connectionsAtOnce: atOnce } : {}),
      ...(lane.serverLatenessMs !== undefined ? { serverLatenessMaxMs: lane.serverLatenessMs } : {}),
      ...(queueMs !== undefined ? { queueMs } : {}),
    };
    const out: LaneExport = {
      lane: id,
      status: lane.status,
      measurements,
      events: laneLog.updates.flatMap((u) =>
        u.event ? [{ event: u.event, receivedAt: u.receivedAt, shownAt: u.shownAt }] : [],
      ),
      states: laneLog.updates.flatMap((u) =>
        u.task ? [{ task: u.task, receivedAt: u.receivedAt, shownAt: u.shownAt }] : [],
      ),
      exchanges: laneLog.exchanges.map(({ id: _id, ...exchange }) => ({ ...exchange })),
      frames: laneLog.frames.map((f) => ({ ...f })),
      reconnects: laneLog.reconnects.map((r) => ({ ...r })),
      polls: (lane.polls ?? []).map((p) => ({ ...p })),
      notes: [...lane.notes],
    };
    if (lane.taskId !== undefined) out.taskId = lane.taskId;
    if (lane.traceId !== undefined) out.traceId = lane.traceId;
    if (lane.endedAt !== undefined) out.endedAt = lane.endedAt;
    if (lane.error) {
      out.error = {
        code: lane.error.code,
        message: lane.error.message,
        ...(lane.error.status !== undefined ? { status: lane.error.status } : {}),
      };
    }
    return [out];
  });
  const wireReport = race.wire.status === 'ready' ? race.wire.report : undefined;
  return {
    format: 'transport-lab/race',
    version: RACE_EXPORT_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    exportedAt,
    ...(origin !== undefined ? { origin } : {}),
    runId: race.runTag,
    actionAt: race.actionAt,
    ...(race.pressedAt !== undefined ? { pressedAt: race.pressedAt } : {}),
    ...(race.alone ? { alone: race.alone } : {}),
    settings: race.settings,
    clock: state.clock.estimate ? { ...state.clock.estimate } : null,
    lanes,
    wire: wireReport ?? null,
    ...(wireReport ? { wireFinal: race.wire.final === true } : {}),
    ...(race.pageBusy ? { pageBusy: { ...race.pageBusy } } : {}),
    ...(log.faults.length > 0
      ? { faults: [...log.faults].sort((a, b) => a.record.at - b.record.at).map((f) => f.record) }
      : {}),
  };
}
