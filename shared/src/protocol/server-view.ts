import { z } from 'zod';
import { LaneId } from './lanes.ts';

/**
 * The server's own view (`GET /api/server-view`): what the server itself counted, as a person can
 * read it beside a race. Every figure is read from the same Prometheus registry `GET /metrics`
 * exports (server/src/observability/serverView.ts), so the panel and a Grafana board never disagree.
 * Counts are this process's since it started; percentiles are over each lane's latest tasks
 * (`window`). Built when asked, at most once per `SERVER_VIEW_MAX_AGE_MS`: many pages asking cost
 * the server one build a second, and nothing is done per event for it.
 */

/** How old a served view may be, ms: every request within it gets the same one. */
export const SERVER_VIEW_MAX_AGE_MS = 1_000;
/** How often a page asks while a race runs, ms (and once more when it ends). */
export const SERVER_VIEW_REFRESH_MS = 1_000;

/** The quantiles the view and the metrics give, as fractions; `1` is the largest in the window. */
export const SERVER_VIEW_QUANTILES = [0.5, 0.95, 0.99, 1] as const;

/**
 * The lane a task was created by: its creating request's lab tag, or `other` when there was none
 * (a curl, a test) or this process did not create it (a task resumed after a restart).
 */
export const ServerViewLaneKey = z.union([LaneId, z.literal('other')]);
export type ServerViewLaneKey = z.infer<typeof ServerViewLaneKey>;

const count = z.int().min(0);
const ms = z.number().min(0);

/** A duration's distribution over a lane's latest tasks, ms; the figures are null with no task. */
export const DurationPercentiles = z.object({
  /** Tasks the figures are over (at most the window). */
  count,
  p50Ms: ms.nullable(),
  p95Ms: ms.nullable(),
  p99Ms: ms.nullable(),
  maxMs: ms.nullable(),
});
export type DurationPercentiles = z.infer<typeof DurationPercentiles>;

export const ServerViewLane = z.object({
  lane: ServerViewLaneKey,
  /** Tasks of this lane that ended, by how, since the process started. */
  succeeded: count,
  failed: count,
  cancelled: count,
  /** succeeded / (succeeded + failed): a cancel is the user's choice, not a failure. Null with neither. */
  successRate: z.number().min(0).max(1).nullable(),
  /** Accepted → started, server clock. */
  queue: DurationPercentiles,
  /** Accepted → ended (succeeded, failed or cancelled), server clock: the server's end to end. */
  latency: DurationPercentiles,
});
export type ServerViewLane = z.infer<typeof ServerViewLane>;

export const ServerView = z.object({
  /** When the view was built, server epoch ms. */
  at: z.number(),
  /** When this process started, server epoch ms: the counts are since then. */
  startedAt: z.number(),
  /** How many of each lane's latest tasks the percentiles are over, at most. */
  window: z.int().min(1),
  tasks: z.object({
    /** Accepted and not yet started. */
    queued: count,
    running: count,
    succeeded: count,
    failed: count,
    cancelled: count,
    successRate: z.number().min(0).max(1).nullable(),
  }),
  /** One entry per lane that has created a task since the start, in the page's lane order. */
  lanes: z.array(ServerViewLane),
  connections: z.object({
    /** Open TCP connections by the lane of their first tagged request: `page` between the page and
     *  this server, `receiverToPage` the receiver's relay streams. Null with WIRE_ACCOUNTING=off. */
    byLane: z
      .array(z.object({ lane: LaneId, channel: z.enum(['page', 'receiverToPage']), open: count }))
      .nullable(),
    /** Connected socket.io sockets by namespace (`/` is the websocket lane). */
    sockets: z.array(z.object({ namespace: z.string(), open: count })),
  }),
  webhooks: z.object({
    /** Delivery attempts this process made, by outcome, since it started. */
    attempts: z.object({ delivered: count, retry: count, 'gave-up': count, disabled: count }),
    /** Deliveries waiting in the durable queue (due now or for a retry). */
    pending: count,
    /** Attempts sent and not yet answered. */
    inFlight: count,
  }),
});
export type ServerView = z.infer<typeof ServerView>;
