import {
  LANES,
  type LaneId,
  queueTimeMs,
  serverLatenessMs,
  type TaskEvent,
  type TaskState,
} from '@transport-lab/shared';
import type { LaneError, LaneReport } from '../transports/types.ts';
import { addWire } from '../transports/wire.ts';
import type { LaneRunState, LaneStatus } from './types.ts';

export function idleLane(): LaneRunState {
  return { ...freshLane(), status: 'idle', detail: 'Ready' };
}

export function runningLane(): LaneRunState {
  return { ...freshLane(), status: 'running', detail: 'Starting…' };
}

function freshLane(): Omit<LaneRunState, 'status' | 'detail'> {
  return {
    step: 0,
    percent: 0,
    lastSeq: 0,
    eventsApplied: 0,
    progressShown: [],
    wire: { requests: 0 },
    notes: [],
  };
}

/** The lists of a lane that a batch appends to. */
type LaneList = 'progressShown' | 'notes' | 'polls' | 'hops';
type ListItem<K extends LaneList> = NonNullable<LaneRunState[K]>[number];

/** Per draft, the lists it already copied: each is copied once per batch, and only if appended to. */
const copiedLists = new WeakMap<LaneRunState, Set<LaneList>>();

/**
 * A copy safe to change in place while one batch is applied. Its lists are shared with the lane until
 * the batch appends to one (copy on write): a list the batch leaves alone keeps its identity, so the
 * views drawn from it (a polling lane's strip of polls) need not be drawn again.
 */
export function draftOf(lane: LaneRunState): LaneRunState {
  const draft = { ...lane };
  copiedLists.set(draft, new Set());
  return draft;
}

/** Appends to one of a lane's lists: a draft copies it first (once), any other lane is changed in place. */
export function appendTo<K extends LaneList>(lane: LaneRunState, key: K, item: ListItem<K>): void {
  const copied = copiedLists.get(lane);
  const list = (lane[key] ?? []) as Array<ListItem<K>>;
  let target = list;
  if (copied && !copied.has(key)) {
    copied.add(key);
    target = [...list];
  }
  target.push(item);
  if (target !== lane[key]) (lane as Record<LaneList, unknown>)[key] = target;
}

/**
 * Applies one report to a lane draft, in place. `shownAt` is the frame that puts it on screen.
 * Returns the server time of a progress value it put on screen, if any, so that the caller can keep
 * only the last of a frame's progress values: the earlier ones were never painted.
 */
export function applyReport(lane: LaneRunState, report: LaneReport, shownAt: number): number | undefined {
  switch (report.type) {
    case 'wire':
      lane.wire = addWire(lane.wire, report.delta);
      return undefined;
    case 'note':
      if (!lane.notes.includes(report.text)) appendTo(lane, 'notes', report.text);
      return undefined;
    case 'link':
      if (lane.status === 'running') lane.detail = report.detail;
      return undefined;
    case 'recovered':
      // The blocking call's recovery learns, at last, when its task was queued and started.
      noteQueue(lane, report.task);
      lane.recovered = {
        status: report.task.status,
        step: report.task.step,
        steps: report.task.steps,
        percent: report.task.percent,
        shownAt,
      };
      return undefined;
    case 'error':
      if (lane.status !== 'running') return undefined;
      if (report.error.fromServer) lane.firstFeedbackAt ??= shownAt;
      if (report.error.taskId) lane.taskId ??= report.error.taskId;
      lane.status = 'error';
      lane.error = report.error;
      lane.detail = errorHeadline(report.error);
      lane.endedAt = shownAt;
      return undefined;
    case 'aborted':
      if (lane.status !== 'running') return undefined;
      lane.status = 'cancelled';
      lane.detail = 'Cancelled: request abandoned, no answer awaited';
      lane.endedAt = shownAt;
      return undefined;
    case 'task':
      noteLateness(lane, report.task.latenessMs);
      if (lane.status !== 'running') return undefined;
      lane.firstFeedbackAt ??= shownAt;
      applyTaskState(lane, report.task, shownAt);
      if (report.progress === undefined || lane.status !== 'running') return undefined;
      if (!report.progress.exact) lane.progressAgeBound = 'upper';
      return report.progress.serverAt;
    // What follows describes the run and may arrive after it ended (the poll that brought the end, the
    // last delivery's log): it is kept whatever the status.
    case 'poll':
      appendTo(lane, 'polls', { ...report.poll, shownAt });
      lane.wastedPolls = (lane.wastedPolls ?? 0) + (report.poll.outcome === 'wasted' ? 1 : 0);
      return undefined;
    case 'reconnect':
      lane.reconnects = report.count;
      if (report.count > 0 && lane.status === 'running') lane.detail = 'Stream dropped; reconnecting…';
      return undefined;
    case 'path':
      lane.path = report.path;
      return undefined;
    case 'relay':
      appendTo(lane, 'hops', { ...report.hop, shownAt });
      return undefined;
    case 'deliveries':
      lane.deliveries = report.log;
      return undefined;
    case 'event':
      noteLateness(lane, report.event.dueAt === undefined ? undefined : serverLatenessMs(report.event));
      if (lane.status !== 'running') return undefined;
      lane.firstFeedbackAt ??= shownAt;
      return applyEvent(lane, report.event, shownAt);
  }
}

/** How long the lane's task waited for a worker, ms, as the server stamped it; undefined until known. */
export function laneQueueMs(
  lane: Pick<LaneRunState, 'serverQueuedAt' | 'serverStartedAt'>,
): number | undefined {
  if (lane.serverQueuedAt === undefined || lane.serverStartedAt === undefined) return undefined;
  return queueTimeMs({ createdAt: lane.serverQueuedAt, startedAt: lane.serverStartedAt });
}

/** "Queued, position 3": where a task waiting for a worker stands. */
export function queuedDetail(position: number | undefined): string {
  return position === undefined ? 'Queued' : `Queued, position ${position}`;
}

function notePlace(lane: LaneRunState, position: number): void {
  lane.queuePosition = position;
  lane.firstQueuePosition ??= position;
}

/** Keeps when the task was accepted and started, and its place while it waits. */
function noteQueue(lane: LaneRunState, task: TaskState): void {
  lane.serverQueuedAt = task.createdAt;
  if (task.startedAt !== undefined) lane.serverStartedAt = task.startedAt;
  if (task.status === 'queued' && task.queuePosition !== undefined) notePlace(lane, task.queuePosition);
  else delete lane.queuePosition;
}

/** Keeps the most the server ran behind for this lane's task; a lane's figures all include it. */
function noteLateness(lane: LaneRunState, latenessMs: number | undefined): void {
  if (latenessMs === undefined) return;
  lane.serverLatenessMs = Math.max(lane.serverLatenessMs ?? 0, latenessMs);
}

function applyTaskState(lane: LaneRunState, task: TaskState, shownAt: number): void {
  lane.taskId = task.id;
  // The server's word: its logs and webhook deliveries name this one (the page's, when it adopted it).
  if (task.traceId) lane.traceId = task.traceId;
  lane.step = task.step;
  lane.steps = task.steps;
  lane.percent = task.percent;
  noteQueue(lane, task);
  if (task.status === 'succeeded' || task.status === 'failed' || task.status === 'cancelled') {
    if (task.error) lane.failure = { code: task.error.code, message: task.error.message };
    finish(lane, task.status, task.finishedAt, shownAt);
  } else {
    lane.detail =
      task.status === 'queued'
        ? queuedDetail(lane.queuePosition)
        : `Running: step ${task.step} of ${task.steps}`;
  }
}

function applyEvent(lane: LaneRunState, event: TaskEvent, shownAt: number): number | undefined {
  lane.taskId ??= event.taskId;
  lane.lastSeq = event.seq;
  lane.eventsApplied += 1;
  switch (event.type) {
    case 'queued':
      lane.steps = event.spec.steps;
      lane.serverQueuedAt = event.at;
      if (event.position !== undefined) notePlace(lane, event.position);
      lane.detail = queuedDetail(lane.queuePosition);
      return undefined;
    case 'started':
      lane.serverStartedAt = event.at;
      delete lane.queuePosition;
      lane.detail = 'Started';
      return undefined;
    case 'progress':
      lane.step = event.step;
      lane.steps = event.steps;
      lane.percent = event.percent;
      lane.detail = `Step ${event.step} of ${event.steps}`;
      return event.at;
    case 'succeeded':
      lane.step = event.result.steps;
      lane.percent = 100;
      finish(lane, 'succeeded', event.at, shownAt);
      return undefined;
    case 'failed':
      lane.failure = { code: event.error.code, message: event.error.message };
      finish(lane, 'failed', event.at, shownAt);
      return undefined;
    case 'cancelled':
      finish(lane, 'cancelled', event.at, shownAt);
      return undefined;
  }
}

function finish(
  lane: LaneRunState,
  status: LaneStatus,
  serverFinishedAt: number | undefined,
  shownAt: number,
) {
  lane.status = status;
  if (serverFinishedAt !== undefined) lane.serverFinishedAt = serverFinishedAt;
  lane.finishedShownAt = shownAt;
  lane.endedAt = shownAt;
  lane.detail =
    status === 'succeeded'
      ? 'Succeeded'
      : status === 'failed'
        ? `Task failed: ${lane.failure?.message ?? 'no reason given'}`
        : 'Cancelled, as the server confirmed';
}

/** Short words for the status line; the card's error box carries the server's full message. */
const ERROR_HEADLINES: Record<string, string> = {
  SYNC_TIMEOUT: 'the server stopped waiting',
  NETWORK: 'network failure',
  CONNECT_FAILED: 'could not connect',
  ACK_TIMEOUT: 'no acknowledgement',
  DISCONNECTED: 'disconnected by the server',
  BAD_RESPONSE: 'answer outside the protocol',
};

export function errorHeadline(error: LaneError): string {
  const what = ERROR_HEADLINES[error.code] ?? error.code;
  return `Error: ${what}${error.status ? ` (HTTP ${error.status})` : ''}`;
}

/** The live region's sentence for a lane that has just stopped running. */
export function completionMessage(id: LaneId, lane: LaneRunState, actionAt: number | undefined): string {
  const name = LANES[id].name;
  const took =
    lane.endedAt !== undefined && actionAt !== undefined
      ? ` after ${Math.round(lane.endedAt - actionAt)} milliseconds`
      : '';
  switch (lane.status) {
    case 'succeeded':
      return `${name} succeeded${took}.`;
    case 'failed':
      return `${name}: the task failed${took}.`;
    case 'cancelled':
      return `${name} cancelled${took}.`;
    case 'error':
      return `${name} error: ${lane.error?.message ?? 'unknown'}.`;
    default:
      return `${name} ${lane.status}.`;
  }
}
