import type { FaultRecord, LaneId, TaskEvent, TaskState } from '@transport-lab/shared';
import type { ExchangeKind, ExchangeOutcome, LaneReport } from '../transports/types.ts';

/**
 * What the timeline and the export need of a race, kept in plain arrays outside React state: a race of
 * seven lanes at 20 events per second appends thousands of records, and copying them into immutable
 * state every frame would cost more than drawing them. All times are the page's clock (epoch ms) but
 * `serverAt`, which is the server's.
 */
export interface ExchangeRecord {
  id: number;
  kind: ExchangeKind;
  /** "POST /api/tasks", "GET …/stream?after=2", "WebSocket upgrade". */
  label: string;
  sentAt: number;
  /** A stream's or socket's connection came up. */
  openedAt?: number;
  endedAt?: number;
  outcome?: ExchangeOutcome;
  status?: number;
}

export interface FrameRecord {
  direction: 'up' | 'down';
  /** On the wire, framing included. */
  bytes: number;
  at: number;
}

/** One thing from the server that reached the screen: a task event, or a whole task state. */
export interface UpdateRecord {
  /** "progress 3/20", "succeeded", "state running 45%". */
  label: string;
  seq?: number;
  /** Server clock: the event's `at`, or the state's `updatedAt` (its newest event) when it has one. */
  serverAt?: number;
  /** When the page received it. */
  receivedAt: number;
  /** The animation frame that put it on screen. */
  shownAt: number;
  event?: TaskEvent;
  task?: TaskState;
}

export interface ReconnectRecord {
  /** Reconnections so far in this run; 0 is the first connection and is not recorded. */
  count: number;
  at: number;
}

/** What a lane said of its connection ("Connection lost (ping timeout), reconnecting…"), and when. */
export interface LinkRecord {
  detail: string;
  at: number;
}

export interface LaneLog {
  exchanges: ExchangeRecord[];
  /** Its connection's story (lost, reconnected), kept for the scenes that read when a socket noticed. */
  links?: LinkRecord[];
  frames: FrameRecord[];
  updates: UpdateRecord[];
  reconnects: ReconnectRecord[];
  /** Exchanges by id, to close them. */
  readonly open: Map<number, ExchangeRecord>;
}

/** A fault injected during the race, as the server recorded it (`record.at`: server time). */
export interface FaultLogRecord {
  record: FaultRecord;
  /** When the page learned of it (the POST's answer, or a later read of the run's faults). */
  receivedAt: number;
}

export interface RaceLog {
  runId: number;
  actionAt?: number;
  lanes: Partial<Record<LaneId, LaneLog>>;
  /** Faults of this race, in the order the page learned of them. */
  faults: FaultLogRecord[];
  /** Grows with every batch recorded: a drawing can tell whether it is behind. */
  version: number;
}

export function emptyLaneLog(): LaneLog {
  return { exchanges: [], frames: [], updates: [], reconnects: [], open: new Map() };
}

export function createRaceLog(
  runId: number,
  actionAt: number | undefined,
  lanes: readonly LaneId[],
): RaceLog {
  const log: RaceLog = { runId, lanes: {}, faults: [], version: 0 };
  if (actionAt !== undefined) log.actionAt = actionAt;
  for (const id of lanes) log.lanes[id] = emptyLaneLog();
  return log;
}

function eventLabel(event: TaskEvent): string {
  return event.type === 'progress' ? `progress ${event.step}/${event.steps}` : event.type;
}

function stateLabel(task: TaskState): string {
  return `state ${task.status} ${Math.round(task.percent)}%`;
}

/** Appends what one report says to the lane's log; `shownAt` is the frame that applied it. */
export function recordReport(log: LaneLog, report: LaneReport, shownAt: number): void {
  switch (report.type) {
    case 'sent': {
      const exchange: ExchangeRecord = {
        id: report.id,
        kind: report.kind,
        label: report.label,
        sentAt: report.at,
      };
      log.exchanges.push(exchange);
      log.open.set(report.id, exchange);
      return;
    }
    case 'opened': {
      const exchange = log.open.get(report.id);
      if (exchange) exchange.openedAt ??= report.at;
      return;
    }
    case 'ended': {
      const exchange = log.open.get(report.id);
      if (!exchange) return;
      exchange.endedAt = report.at;
      exchange.outcome = report.outcome;
      if (report.status !== undefined) exchange.status = report.status;
      log.open.delete(report.id);
      return;
    }
    case 'frame':
      log.frames.push({ direction: report.direction, bytes: report.bytes, at: report.at });
      return;
    case 'link':
      log.links ??= [];
      log.links.push({ detail: report.detail, at: report.at });
      return;
    case 'reconnect':
      if (report.count > 0) log.reconnects.push({ count: report.count, at: report.at });
      return;
    case 'event':
      log.updates.push({
        label: eventLabel(report.event),
        seq: report.event.seq,
        serverAt: report.event.at,
        receivedAt: report.at,
        shownAt,
        event: report.event,
      });
      return;
    case 'task': {
      const serverAt = report.task.updatedAt ?? report.task.finishedAt;
      const update: UpdateRecord = {
        label: stateLabel(report.task),
        receivedAt: report.at,
        shownAt,
        task: report.task,
      };
      if (serverAt !== undefined) update.serverAt = serverAt;
      log.updates.push(update);
      return;
    }
    default:
      return;
  }
}
