import { z } from 'zod';
import { LaneId } from './lanes.ts';

/**
 * How a browser lane tags its traffic so that the server can count it per race and per lane.
 * fetch sends the headers (same-origin custom headers add no CORS preflight); EventSource and
 * socket.io, which cannot set headers, send the query parameters (socket.io: its handshake
 * `query`, which engine.io repeats on every request and on the upgrade). A request carries both
 * of a pair or it is not tagged. Untagged or malformed tags are never an error: the traffic is
 * simply not attributed, so the API stays usable by curl.
 */
export const LAB_TAGS = {
  laneHeader: 'x-lab-lane',
  runHeader: 'x-lab-run',
  laneQuery: 'labLane',
  runQuery: 'labRun',
} as const;

/** One race (or one lane run alone), chosen by the page: 8–64 of `[A-Za-z0-9_-]`. */
export const RunId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'not a run id');
export type RunId = z.infer<typeof RunId>;

export const LabTag = z.object({ lane: LaneId, runId: RunId });
export type LabTag = z.infer<typeof LabTag>;

/** The headers a fetch of a lane sends. */
export function labTagHeaders(tag: LabTag): Record<string, string> {
  return { [LAB_TAGS.laneHeader]: tag.lane, [LAB_TAGS.runHeader]: tag.runId };
}

/** The query parameters an EventSource URL or a socket.io `query` carries. */
export function labTagQuery(tag: LabTag): Record<string, string> {
  return { [LAB_TAGS.laneQuery]: tag.lane, [LAB_TAGS.runQuery]: tag.runId };
}

const count = z.int().min(0);

/** Requests and bytes as one side's TCP socket counted them; "up" is the requester's direction. */
export const WireTally = z.object({
  requests: count,
  /** Requester → answerer: request lines, headers, bodies, and client frames of a WebSocket. */
  bytesUp: count,
  /** Answerer → requester: status lines, headers, bodies, chunked framing, SSE, server frames. */
  bytesDown: count,
});
export type WireTally = z.infer<typeof WireTally>;

/** A tally of a browser's traffic, with the TCP connections it used. */
export const ConnectionTally = WireTally.extend({
  /** Connections whose first tagged request was this lane's (a reused connection counts once). */
  connectionsOpened: count,
  /** Of those, open now. */
  openConnections: count,
  /** The most that were open at once. */
  maxOpenConnections: count,
});
export type ConnectionTally = z.infer<typeof ConnectionTally>;

/**
 * One lane of one run, counted by the server on its sockets (headers and framing included), so
 * the page can set it beside its own count. The top level is the page ↔ server traffic.
 */
export const WireCounts = ConnectionTally.extend({
  /** Webhook delivery attempts, measured on the dispatcher's outgoing sockets (up = the POST). */
  serverToReceiver: WireTally,
  /** The built-in receiver's relay stream to the page (`GET /relay/tasks/{id}`, tagged by query). */
  receiverToPage: ConnectionTally,
  /**
   * Tasks the server created for this lane of the run: a retried create that is not replayed from its
   * Idempotency-Key counts twice. Absent from a server older than this field.
   */
  tasksCreated: count.optional(),
});
export type WireCounts = z.infer<typeof WireCounts>;

/** `GET /api/wire/{runId}`. Counts of streams still open are live; `openStreams` is 0 when final. */
export const WireReport = z.object({
  runId: RunId,
  lanes: z.partialRecord(LaneId, WireCounts),
  /** Requests, streams, WebSockets and delivery attempts of this run still in flight. */
  openStreams: count,
});
export type WireReport = z.infer<typeof WireReport>;
