import type { LaneExport, LaneId, RaceExport } from '@transport-lab/shared';
import { applyReport, completionMessage, errorHeadline, runningLane } from '../../store/lane-reducer.ts';
import {
  type ExchangeRecord,
  emptyLaneLog,
  type FaultLogRecord,
  type LaneLog,
  recordReport,
} from '../../store/race-log.ts';
import type {
  LaneRunState,
  RaceState,
  RecordedMoment,
  RecordingInfo,
  WireReportState,
} from '../../store/types.ts';
import type { LaneReport } from '../../transports/types.ts';
import type { WireCounts } from '../../transports/wire.ts';

/**
 * A recorded race (the JSON export) as a playback: for any moment since the race's start, the lanes'
 * state and the timeline's log as the page had them then. The recorded task events, task states and
 * polls are fed, at the frame times that showed them, through the store's own reducers (`applyReport`,
 * `recordReport`), so each card says what it said; the figures a card computes (first feedback, the
 * delay per update so far) come out of the same arithmetic from the same recorded times, and once a lane
 * has ended it shows the figures the export recorded, never recomputed. Times: the recording's page
 * clock (epoch ms); a position is ms since its `actionAt`.
 */

/** A recorded report and the frame that showed it (recording page clock). */
interface Shown {
  shownAt: number;
  report: LaneReport;
  /** Also kept in the timeline's log (events and states). */
  logged: boolean;
}

interface PreparedLane {
  id: LaneId;
  data: LaneExport;
  shown: Shown[];
  /** When the lane stopped running on the recording's page (the card's end). */
  endAt: number;
  /** Every time at which this lane's card or timeline row changes, sorted. */
  moments: number[];
}

export interface PreparedRecording {
  data: RaceExport;
  info: RecordingInfo;
  lanes: PreparedLane[];
  /** From the race's start to its last recorded moment, ms. */
  durationMs: number;
  /** When every lane had ended: the server's count is shown from then on (page clock). */
  settledAt: number;
  /** The server's count as shown once every lane had ended (one object: its readers render once). */
  wireAtEnd: WireReportState;
  /** The live region's lines once k lanes have ended (index k), in the order they ended. */
  announced: Array<RaceState['announcements']>;
  /** When each lane ended, in that order (page clock). */
  endings: number[];
}

/** Objects a moment shares with the next, so that what reads them does not render again. */
const IDLE_WIRE: WireReportState = { status: 'idle' };
const NO_ANNOUNCEMENTS: RaceState['announcements'] = [];

/** Per lane, the moment's state as last built, reused while nothing of that lane changed. */
export type MomentCache = Map<LaneId, { passed: number; ended: boolean; lane: LaneRunState; log: LaneLog }>;

function byShownThenReceived(a: Shown, b: Shown): number {
  return a.shownAt - b.shownAt || a.report.at - b.report.at;
}

function prepareLane(data: LaneExport, actionAt: number): PreparedLane {
  const shown: Shown[] = [
    ...data.events.map(
      (e): Shown => ({
        shownAt: e.shownAt,
        report: { type: 'event', event: e.event, at: e.receivedAt },
        logged: true,
      }),
    ),
    ...data.states.map(
      (s): Shown => ({
        shownAt: s.shownAt,
        report: { type: 'task', task: s.task, at: s.receivedAt },
        logged: true,
      }),
    ),
    ...data.polls.map(
      ({ shownAt, ...poll }): Shown => ({
        shownAt,
        report: { type: 'poll', poll, at: shownAt },
        logged: false,
      }),
    ),
  ].sort(byShownThenReceived);
  const total = data.measurements.totalPerceivedMs;
  const times = [
    ...shown.map((s) => s.shownAt),
    ...data.exchanges.flatMap((x) => [x.sentAt, x.openedAt, x.endedAt].filter((t) => t !== undefined)),
    ...data.frames.map((f) => f.at),
    ...data.reconnects.map((r) => r.at),
    ...data.measurements.progressShown.map((p) => p.shownAt),
  ];
  // A lane that finished ended in the frame that showed it; one that did not (an error, a cancel)
  // when its card stopped, or in a file from before that was written, with the last thing recorded of it.
  const endAt = total !== undefined ? actionAt + total : (data.endedAt ?? Math.max(actionAt, ...times));
  const moments = [...new Set([...times, endAt])].sort((a, b) => a - b);
  return { id: data.lane, data, shown, endAt, moments };
}

/** Reads a checked export as a playback; `source` names where it came from. */
export function prepareRecording(data: RaceExport, source: string): PreparedRecording {
  const lanes = data.lanes.map((lane) => prepareLane(lane, data.actionAt));
  const settledAt = Math.max(data.actionAt, ...lanes.map((l) => l.endAt));
  // The completions, as the live page read them out: one line per lane, in the order they ended.
  const ended = [...lanes].sort((a, b) => a.endAt - b.endAt);
  const lines = ended.map((l, i) => ({
    id: i + 1,
    text: completionMessage(l.id, laneAt(l, l.endAt).lane, data.actionAt),
  }));
  const announced = lines.map((_, k) => lines.slice(0, k));
  announced.push(lines);
  const lastMoment = Math.max(settledAt, ...lanes.map((l) => l.moments.at(-1) ?? data.actionAt));
  return {
    data,
    info: {
      source,
      exportedAt: data.exportedAt,
      runTag: data.runId,
      ...(data.origin !== undefined ? { origin: data.origin } : {}),
    },
    lanes,
    durationMs: lastMoment - data.actionAt,
    settledAt,
    wireAtEnd: data.wire
      ? { status: 'ready', report: data.wire, final: data.wireFinal !== false }
      : IDLE_WIRE,
    announced,
    endings: ended.map((l) => l.endAt),
  };
}

/** How many of the sorted `times` are at or before `t`. */
function passedCount(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function recordedWire(m: LaneExport['measurements']): WireCounts {
  return {
    requests: m.requests,
    ...(m.bytesUp !== undefined ? { bytesUp: m.bytesUp } : {}),
    ...(m.bytesDown !== undefined ? { bytesDown: m.bytesDown } : {}),
    ...(m.unmeasuredUp ? { unmeasuredUp: m.unmeasuredUp } : {}),
    ...(m.unmeasuredDown ? { unmeasuredDown: m.unmeasuredDown } : {}),
    ...(m.connectionsOpened !== undefined ? { connections: m.connectionsOpened } : {}),
    ...(m.unmeasuredConnections ? { unmeasuredConnections: m.unmeasuredConnections } : {}),
  };
}

/** The exchanges as the log had them at `t`: only what had happened by then. */
function exchangesAt(data: LaneExport, t: number): ExchangeRecord[] {
  return data.exchanges.flatMap((x, id): ExchangeRecord[] => {
    if (x.sentAt > t) return [];
    const out: ExchangeRecord = { id, kind: x.kind, label: x.label, sentAt: x.sentAt };
    if (x.openedAt !== undefined && x.openedAt <= t) out.openedAt = x.openedAt;
    if (x.endedAt !== undefined && x.endedAt <= t) {
      out.endedAt = x.endedAt;
      if (x.outcome !== undefined) out.outcome = x.outcome;
      if (x.status !== undefined) out.status = x.status;
    }
    return [out];
  });
}

function laneAt(prepared: PreparedLane, t: number): { lane: LaneRunState; log: LaneLog } {
  const { data, endAt } = prepared;
  const lane = runningLane();
  // Chosen before the start, as on the live page: shown from the first moment.
  if (data.traceId !== undefined) lane.traceId = data.traceId;
  const log = emptyLaneLog();
  for (const item of prepared.shown) {
    if (item.shownAt > t) break;
    applyReport(lane, item.report, item.shownAt);
    if (item.logged) recordReport(log, item.report, item.shownAt);
  }
  log.exchanges = exchangesAt(data, t);
  for (const x of log.exchanges) if (x.endedAt === undefined) log.open.set(x.id, x);
  log.frames = data.frames.filter((f) => f.at <= t).map((f) => ({ ...f }));
  log.reconnects = data.reconnects.filter((r) => r.at <= t).map((r) => ({ ...r }));
  lane.progressShown = data.measurements.progressShown.filter((p) => p.shownAt <= t);
  const last = data.reconnects.filter((r) => r.at <= t).at(-1);
  if (last) lane.reconnects = last.count;
  if (t < endAt) {
    // While it runs, the requests sent so far (the byte totals come in once the lane has ended).
    lane.wire = {
      requests: Math.min(data.measurements.requests, log.exchanges.length),
    };
    return { lane, log };
  }
  const m = data.measurements;
  lane.wire = recordedWire(m);
  lane.notes = [...data.notes];
  if (m.progressAgeUpperBound) lane.progressAgeBound = 'upper';
  if (m.serverLatenessMaxMs !== undefined) lane.serverLatenessMs = m.serverLatenessMaxMs;
  if (m.queueMs !== undefined) lane.recordedQueueMs = m.queueMs;
  if (data.taskId !== undefined) lane.taskId = data.taskId;
  if (lane.status !== data.status) {
    // An error or a cancel is not among the recorded reports: the card ends as the export says.
    lane.status = data.status;
    lane.endedAt = endAt;
    if (data.error) {
      lane.error = { ...data.error, fromServer: data.error.status !== undefined };
      lane.detail = errorHeadline(lane.error);
    } else if (data.status === 'cancelled') lane.detail = 'Cancelled';
  }
  lane.recordedMetrics = {
    ...(m.firstFeedbackMs !== undefined ? { firstFeedbackMs: m.firstFeedbackMs } : {}),
    ...(m.totalPerceivedMs !== undefined ? { totalPerceivedMs: m.totalPerceivedMs } : {}),
    ...(m.completionLagMs !== undefined ? { completionLagMs: m.completionLagMs } : {}),
    ...(m.staleness
      ? { staleness: { ...m.staleness, medianMs: m.staleness.medianMs ?? m.staleness.meanMs } }
      : {}),
  };
  return { lane, log };
}

/**
 * The race at `positionMs` since its start. `cache` (changed in place) keeps each lane's state while
 * nothing of it changed, so that a card re-renders only when its lane moved.
 */
export function momentAt(rec: PreparedRecording, positionMs: number, cache: MomentCache): RecordedMoment {
  const { data } = rec;
  const t = data.actionAt + positionMs;
  const lanes: Partial<Record<LaneId, LaneRunState>> = {};
  const logs: Partial<Record<LaneId, LaneLog>> = {};
  for (const prepared of rec.lanes) {
    const passed = passedCount(prepared.moments, t);
    const ended = t >= prepared.endAt;
    let built = cache.get(prepared.id);
    if (!built || built.passed !== passed || built.ended !== ended) {
      built = { passed, ended, ...laneAt(prepared, t) };
      cache.set(prepared.id, built);
    }
    lanes[prepared.id] = built.lane;
    logs[prepared.id] = built.log;
  }
  const settled = t >= rec.settledAt;
  const wire = settled ? rec.wireAtEnd : IDLE_WIRE;
  const offsetMs = data.clock?.offsetMs ?? 0;
  // A fault's `at` is the server's time: on the page's clock it came `offsetMs` earlier.
  const faults: FaultLogRecord[] = (data.faults ?? []).flatMap((record) =>
    record.at - offsetMs <= t ? [{ record, receivedAt: record.at - offsetMs }] : [],
  );
  return {
    race: {
      actionAt: data.actionAt,
      ...(data.pressedAt !== undefined ? { pressedAt: data.pressedAt } : {}),
      ...(data.alone ? { alone: data.alone } : {}),
      runTag: data.runId,
      settings: data.settings,
      settled,
      lanes,
      announcements: rec.announced[passedCount(rec.endings, t)] ?? NO_ANNOUNCEMENTS,
      wire,
      ...(settled && data.pageBusy ? { pageBusy: data.pageBusy } : {}),
    },
    log: { actionAt: data.actionAt, lanes: logs, faults, version: 0 },
    clock: data.clock ?? undefined,
  };
}
