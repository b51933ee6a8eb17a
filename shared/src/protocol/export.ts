import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { TaskEvent } from './events.ts';
import { FaultRecord } from './faults.ts';
import { LaneId } from './lanes.ts';
import { TaskSpec, TaskState } from './task.ts';
import { TraceId } from './trace.ts';
import { RunId, WireReport } from './wire.ts';

/**
 * A finished race as a file: the settings it ran with, every event as the page received it, every
 * exchange, every measurement, the clock estimate and the server's own wire count, so that a race
 * can be kept, compared and checked outside the page. Times are the page's clock (epoch ms) unless
 * named server times (an event's `at`, a state's times).
 */

/** Bumped whenever `RaceExport` changes shape; a reader checks it before anything else. */
export const RACE_EXPORT_VERSION = 1;

/** The page's layouts; the link and the export name one. */
export const VIEW_MODES = ['auto', 'desktop', 'phone', 'projector'] as const;
export const ViewMode = z.enum(VIEW_MODES);
export type ViewMode = z.infer<typeof ViewMode>;

/** The lanes a hybrid run can continue on after a 202. */
export const PUSH_LANES = ['sse', 'long-polling'] as const satisfies readonly LaneId[];
export const PushLaneId = z.enum(PUSH_LANES);
export type PushLaneId = z.infer<typeof PushLaneId>;

/** What a person can set per lane (the page checks its own, stricter limits on top). */
export const LaneSettings = z.object({
  /** Short-polling interval, ms; absent: the server's `Retry-After`. */
  pollIntervalMs: z.int().min(1).optional(),
  /** How long each long poll may be held, ms. */
  longPollWaitMs: z.int().min(0),
  /** The hybrid's `Prefer: wait=N`, seconds. */
  hybridWaitS: z.int().min(0),
  /** Where a hybrid run continues after a 202. */
  hybridPushLane: PushLaneId,
});
export type LaneSettings = z.infer<typeof LaneSettings>;

/** The lane settings of a page (and a room) nobody has changed: one copy, for both sides. */
export const DEFAULT_LANE_SETTINGS: LaneSettings = {
  longPollWaitMs: 25_000,
  hybridWaitS: 2,
  hybridPushLane: 'sse',
};

/** The task of a page (and a room) nobody has changed: 3 s in 20 steps. */
export const DEFAULT_TASK_SPEC = { durationMs: 3_000, steps: 20 } as const satisfies TaskSpec;

/** Everything a race was set up with: what a link reproduces. */
export const RaceSettings = z.object({
  spec: TaskSpec,
  /** The lanes raced, in page order. */
  lanes: z.array(LaneId).min(1),
  laneSettings: LaneSettings,
  view: ViewMode,
});
export type RaceSettings = z.infer<typeof RaceSettings>;

/** `ClockEstimate` of `metrics/clock.ts`: server clock minus page clock, ± half the best round trip. */
export const ClockEstimateRecord = z.object({
  offsetMs: z.number(),
  uncertaintyMs: z.number().min(0),
  rttMs: z.number().min(0),
  samples: z.int().min(1),
});

const time = z.number();
const count = z.int().min(0);

export const LANE_STATUSES = ['idle', 'running', 'succeeded', 'failed', 'cancelled', 'error'] as const;

export const ExchangeRecord = z.object({
  kind: z.enum(['http', 'stream', 'socket']),
  /** "POST /api/tasks", "GET /api/tasks/…/stream?after=1", "WebSocket upgrade". */
  label: z.string(),
  sentAt: time,
  /** A stream's or socket's connection came up. */
  openedAt: time.optional(),
  endedAt: time.optional(),
  outcome: z.enum(['answered', 'failed', 'aborted', 'closed']).optional(),
  status: z.int().optional(),
});

/** An event as the page received it, and the animation frame that showed it. */
export const ReceivedEvent = z.object({ event: TaskEvent, receivedAt: time, shownAt: time });
/** A whole task state as the page received it (an acknowledgement, a poll, a final answer). */
export const ReceivedState = z.object({ task: TaskState, receivedAt: time, shownAt: time });

/** Every measurement of one lane; a figure absent was not measured. */
export const LaneMeasurements = z.object({
  firstFeedbackMs: z.number().optional(),
  totalPerceivedMs: z.number().optional(),
  completionLagMs: z.number().optional(),
  /** `medianMs` is optional: files exported before it existed still read. */
  staleness: z
    .object({ meanMs: z.number(), medianMs: z.number().optional(), maxMs: z.number(), count })
    .optional(),
  /** The progress ages are upper bounds (timed from a lower bound of their server time). */
  progressAgeUpperBound: z.boolean().optional(),
  /** Each progress value that reached the screen: its server time and the frame that showed it. */
  progressShown: z.array(z.object({ serverAt: time, shownAt: time })),
  requests: count,
  bytesUp: count.optional(),
  bytesDown: count.optional(),
  /** Exchanges whose bytes up (down) are missing: above 0, the total is "at least". */
  unmeasuredUp: z.int().optional(),
  unmeasuredDown: z.int().optional(),
  wastedPolls: count.optional(),
  connectionsOpened: count.optional(),
  unmeasuredConnections: z.int().optional(),
  /** Exchanges in flight at once, the most over the run. */
  connectionsAtOnce: count.optional(),
  /** The most the server ran behind its own schedule for this lane's task, ms (`at - dueAt`): every
   *  figure above includes it. Optional: absent in files from before it was measured. */
  serverLatenessMaxMs: z.number().min(0).optional(),
  /** How long the task waited for a worker, ms: its `started` minus its `queued` time, both the
   *  server's. Optional: absent when the page never learnt when it started, and in older files. */
  queueMs: z.number().min(0).optional(),
});

export const LaneExport = z.object({
  lane: LaneId,
  status: z.enum(LANE_STATUSES),
  taskId: z.string().optional(),
  /** The task's correlation id (W3C trace-id), as the page showed it: the one in the server's logs
   *  and in the `traceparent` of its webhook deliveries. Optional: added after version 1 without a
   *  bump, so older files still read. */
  traceId: TraceId.optional(),
  /** Why the lane could not carry the task to its end. */
  error: ErrorBody.extend({ status: z.int().optional() }).optional(),
  measurements: LaneMeasurements,
  events: z.array(ReceivedEvent),
  states: z.array(ReceivedState),
  exchanges: z.array(ExchangeRecord),
  frames: z.array(z.object({ direction: z.enum(['up', 'down']), bytes: count, at: time })),
  reconnects: z.array(z.object({ count: z.int().min(1), at: time })),
  polls: z.array(
    z.object({
      outcome: z.enum(['news', 'wasted', 'error']),
      status: z.int().optional(),
      label: z.string(),
      shownAt: time,
    }),
  ),
  /** What the measurement could not see, as the card said it. */
  notes: z.array(z.string()),
  /** When the card stopped running, whatever the reason (page clock): where a replay ends a lane that
   *  did not finish (an error, a cancel). Optional: added after version 1 without a bump. */
  endedAt: time.optional(),
});
export type LaneExport = z.infer<typeof LaneExport>;

export const RaceExport = z.object({
  format: z.literal('transport-lab/race'),
  version: z.literal(RACE_EXPORT_VERSION),
  protocolVersion: z.int().min(1),
  exportedAt: time,
  /** The page's origin where the race ran ("http://192.168.1.20:3000"): where a replay says it was
   *  made. Optional: added after version 1 without a bump, so older files still read. */
  origin: z.string().max(200).optional(),
  /** The race's id on the wire: its lanes' traffic was tagged with it. */
  runId: RunId,
  /** The user's action: the frame in which every lane started. */
  actionAt: time,
  /** When the button was pressed. */
  pressedAt: time.optional(),
  /** Set when one lane was run by itself. */
  alone: LaneId.optional(),
  settings: RaceSettings,
  /** Null when the offset was never measured: server times were then not compared with the page's. */
  clock: ClockEstimateRecord.nullable(),
  lanes: z.array(LaneExport),
  /** The server's count (`GET /api/wire/{runId}`); null when it could not be had. */
  wire: WireReport.nullable(),
  /** False when the server still had some of the run's exchanges open at its last answer. */
  wireFinal: z.boolean().optional(),
  /** Faults injected during the race, as the server recorded them (`at`: server time). Optional:
   *  added after version 1 without a bump, so older files still read. */
  faults: z.array(FaultRecord).optional(),
  /** How busy the page's own main thread was during the race (`PageBusy`, shared metrics/lateness):
   *  its long animation frames. Optional: absent in older files and where the browser cannot tell. */
  pageBusy: z
    .object({ longestFrameMs: z.number().min(0), longFrames: count, blockingMs: z.number().min(0) })
    .optional(),
});
export type RaceExport = z.infer<typeof RaceExport>;
