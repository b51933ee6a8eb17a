import { type LaneId, toClientTime } from '@transport-lab/shared';
import type { FaultLogRecord, LaneLog } from '../../store/race-log.ts';
import type { LaneRunState } from '../../store/types.ts';

/**
 * The timeline's marks, from the race log, as a pure function: every time is ms after the user's
 * action (the fair start's frame), so that all lanes share one axis. Server times are moved onto the
 * page's clock with the clock offset; without an estimate they are left out, not guessed.
 */
export type MarkKind = 'exchange' | 'frame' | 'update' | 'reconnect' | 'end' | 'fault' | 'queue';

/** A task's wait for a worker is drawn when it was told a place, or waited longer than this, ms: every
 *  task waits a turn of the server's event loop (a fraction of a ms), which is no queue. */
export const QUEUE_MARK_MIN_MS = 1;

export interface TimelineMark {
  kind: MarkKind;
  /** ms after the action: sent, received, shown, … — where the mark starts. */
  at: number;
  /** Exchanges: ms after the action when it ended; undefined while it is still open. The queue: when
   *  a worker took the task (clock corrected); undefined while it waits. */
  until?: number;
  /** Streams and sockets: when their connection came up. */
  opened?: number;
  /** Updates: when the server emitted it (clock corrected); the end mark: when the server finished. */
  emitted?: number;
  /** Updates: when the page received it (before the frame that showed it). */
  received?: number;
  /** Faults: placed by the page's receipt of the answer, not the server's time (no clock offset yet). */
  approximate?: boolean;
  /** Exchanges: which of the row's stacked tracks it is drawn on (overlapping exchanges stack). */
  track: number;
  /** Frames: which way. */
  direction?: 'up' | 'down';
  /** An exchange that failed or was abandoned; an end that is not a success. */
  failed?: boolean;
  /** An HTTP exchange sent after the lane's previous one failed: a retry. */
  retry?: boolean;
  /** What the mark is, in words, for the readout. */
  label: string;
}

export interface TimelineRow {
  lane: LaneId;
  /** In order of `at`. */
  marks: TimelineMark[];
  /** Stacked exchange tracks in use (at least 1). */
  tracks: number;
}

export interface TimelineGeometry {
  rows: TimelineRow[];
  /** ms after the action that the axis must reach. */
  endMs: number;
}

export interface TimelineLaneInput {
  lane: LaneId;
  log: LaneLog;
  run?: LaneRunState;
}

/** Exchanges overlapping beyond this share the last track rather than making the row taller. */
export const MAX_TRACKS = 3;

const STATUS_RETRYABLE = (status: number | undefined) =>
  status !== undefined && (status === 408 || status === 429 || status >= 500);

function exchangeWords(label: string, outcome: string | undefined, status: number | undefined): string {
  if (outcome === undefined) return `${label}, open`;
  if (outcome === 'answered') return `${label} → ${status ?? 'answered'}`;
  return `${label}, ${outcome}`;
}

/** Puts each interval on the first track free at its start; returns the track of each. */
function stack(intervals: ReadonlyArray<{ start: number; end: number }>): number[] {
  const trackEnds: number[] = [];
  return intervals.map(({ start, end }) => {
    let track = trackEnds.findIndex((trackEnd) => trackEnd <= start);
    if (track === -1) track = trackEnds.length < MAX_TRACKS ? trackEnds.length : MAX_TRACKS - 1;
    trackEnds[track] = Math.max(trackEnds[track] ?? Number.NEGATIVE_INFINITY, end);
    return track;
  });
}

/**
 * One row per lane. `nowMs` (ms after the action) is where an exchange still open is drawn to and
 * how far the axis reaches while the race runs.
 */
export function timelineGeometry(
  actionAt: number,
  lanes: readonly TimelineLaneInput[],
  offsetMs: number | undefined,
  nowMs = 0,
  /** Faults injected during the race: one mark on the lane's row (a lane's connections dropped) or
   *  on every row (the others touch the whole race). */
  faults: readonly FaultLogRecord[] = [],
): TimelineGeometry {
  let endMs = Math.max(0, nowMs);
  const since = (t: number) => t - actionAt;
  const fromServer = (t: number | undefined) =>
    t === undefined || offsetMs === undefined ? undefined : since(toClientTime(t, offsetMs));
  const reach = (t: number | undefined) => {
    if (t !== undefined && t > endMs) endMs = t;
  };

  const rows = lanes.map(({ lane, log, run }): TimelineRow => {
    const marks: TimelineMark[] = [];

    const exchanges = [...log.exchanges].sort((a, b) => a.sentAt - b.sentAt);
    const tracks = stack(
      exchanges.map((e) => ({
        start: since(e.sentAt),
        end: e.endedAt === undefined ? Number.POSITIVE_INFINITY : since(e.endedAt),
      })),
    );
    let previousHttpFailed = false;
    exchanges.forEach((e, i) => {
      const failed = e.outcome === 'failed' || e.outcome === 'aborted' || STATUS_RETRYABLE(e.status);
      const mark: TimelineMark = {
        kind: 'exchange',
        at: since(e.sentAt),
        track: tracks[i] ?? 0,
        label: exchangeWords(e.label, e.outcome, e.status),
      };
      if (e.endedAt !== undefined) mark.until = since(e.endedAt);
      if (e.openedAt !== undefined) mark.opened = since(e.openedAt);
      if (failed) mark.failed = true;
      if (e.kind === 'http') {
        if (previousHttpFailed) mark.retry = true;
        previousHttpFailed = failed;
      }
      reach(mark.until ?? mark.at);
      marks.push(mark);
    });

    for (const frame of log.frames) {
      marks.push({
        kind: 'frame',
        at: since(frame.at),
        track: 0,
        direction: frame.direction,
        label: `WebSocket frame ${frame.direction === 'up' ? 'sent' : 'received'}, ${frame.bytes} B`,
      });
      reach(since(frame.at));
    }

    for (const update of log.updates) {
      const mark: TimelineMark = {
        kind: 'update',
        at: since(update.shownAt),
        received: since(update.receivedAt),
        track: 0,
        label: update.seq !== undefined ? `event ${update.seq}: ${update.label}` : update.label,
      };
      const emitted = fromServer(update.serverAt);
      if (emitted !== undefined) mark.emitted = emitted;
      reach(mark.at);
      marks.push(mark);
    }

    for (const reconnect of log.reconnects) {
      marks.push({
        kind: 'reconnect',
        at: since(reconnect.at),
        track: 0,
        label: `reconnect ${reconnect.count}: the connection dropped`,
      });
      reach(since(reconnect.at));
    }

    const endAt = run?.finishedShownAt ?? (run?.status === 'running' ? undefined : run?.endedAt);
    if (run && endAt !== undefined) {
      const mark: TimelineMark = {
        kind: 'end',
        at: since(endAt),
        track: 0,
        label: run.status === 'succeeded' ? 'finished: succeeded' : `ended: ${run.status}`,
      };
      if (run.status !== 'succeeded') mark.failed = true;
      const emitted = fromServer(run.serverFinishedAt);
      if (emitted !== undefined) mark.emitted = emitted;
      reach(mark.at);
      marks.push(mark);
    }

    for (const { record, receivedAt } of faults) {
      if ('lane' in record.fault && record.fault.lane !== lane) continue;
      // Where it happened: the server's time on the page's clock; without an offset, when the page
      // heard of it (a little later), and said so.
      const emitted = fromServer(record.at);
      const mark: TimelineMark = {
        kind: 'fault',
        at: emitted ?? since(receivedAt),
        track: 0,
        failed: true,
        label: `fault: ${record.summary}`,
      };
      if (emitted === undefined) mark.approximate = true;
      reach(mark.at);
      marks.push(mark);
    }

    // The task's wait for a worker, on the server's clock moved onto the page's: from its acceptance to
    // its start, or still open while it waits.
    const queuedAt = fromServer(run?.serverQueuedAt);
    const startedAt = fromServer(run?.serverStartedAt);
    const waited =
      run?.firstQueuePosition !== undefined ||
      (queuedAt !== undefined && startedAt !== undefined && startedAt - queuedAt > QUEUE_MARK_MIN_MS);
    if (run && queuedAt !== undefined && waited) {
      const place = run.firstQueuePosition === undefined ? '' : `, position ${run.firstQueuePosition}`;
      const mark: TimelineMark = {
        kind: 'queue',
        at: queuedAt,
        track: 0,
        label: `queued on the server, waiting for a worker${place}`,
      };
      if (startedAt !== undefined) mark.until = startedAt;
      reach(mark.until ?? mark.at);
      marks.push(mark);
    }

    marks.sort((a, b) => a.at - b.at);
    return { lane, marks, tracks: Math.max(1, ...tracks.map((t) => t + 1)) };
  });

  return { rows, endMs };
}

/** A round step for axis ticks: 1, 2 or 5 × 10^k ms, giving at most `maxTicks` ticks over `spanMs`. */
export function tickStep(spanMs: number, maxTicks: number): number {
  const raw = Math.max(spanMs, 1) / Math.max(1, maxTicks);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
  return 10 * power;
}

/** Every time a mark carries, as the readout says them. */
export function markTimes(mark: TimelineMark): string {
  const ms = (t: number) => `${t.toFixed(1)} ms`;
  switch (mark.kind) {
    case 'exchange': {
      const parts = [`sent ${ms(mark.at)}`];
      if (mark.opened !== undefined) parts.push(`connected ${ms(mark.opened)}`);
      parts.push(mark.until === undefined ? 'still open' : `ended ${ms(mark.until)}`);
      if (mark.until !== undefined) parts.push(`took ${ms(mark.until - mark.at)}`);
      return parts.join(', ');
    }
    case 'update': {
      const parts = [];
      parts.push(
        mark.emitted === undefined ? 'emitted: needs the clock offset' : `emitted ${ms(mark.emitted)}`,
      );
      if (mark.received !== undefined) parts.push(`received ${ms(mark.received)}`);
      parts.push(`shown ${ms(mark.at)}`);
      if (mark.emitted !== undefined) parts.push(`age on screen ${ms(mark.at - mark.emitted)}`);
      return parts.join(', ');
    }
    case 'queue':
      return mark.until === undefined
        ? `queued ${ms(mark.at)}, still waiting (server time, clock corrected)`
        : `queued ${ms(mark.at)}, started ${ms(mark.until)}, queue time ${ms(mark.until - mark.at)} (server time, clock corrected)`;
    case 'fault':
      return mark.approximate
        ? `answered ${ms(mark.at)} (no clock offset: the server's own time could not be placed)`
        : `applied ${ms(mark.at)} (server time, clock corrected)`;
    case 'end':
      return mark.emitted === undefined
        ? `shown ${ms(mark.at)}`
        : `server finished ${ms(mark.emitted)}, shown ${ms(mark.at)}, lag ${ms(mark.at - mark.emitted)}`;
    default:
      return `at ${ms(mark.at)}`;
  }
}
