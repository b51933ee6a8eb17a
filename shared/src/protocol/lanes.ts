import { z } from 'zod';

/** Every way a client can learn what the server is doing; the order is the order on the page. */
export const LANE_IDS = [
  'request-response',
  'short-polling',
  'long-polling',
  'sse',
  'http-streaming',
  'webhook',
  'websocket',
  'hybrid',
] as const;

export const LaneId = z.enum(LANE_IDS);
export type LaneId = z.infer<typeof LaneId>;

/**
 * How a lane learns of progress, the fact the decision guide's rules read (`shared/src/guide`), so that
 * a new lane is ranked by saying which it is, here: `blocking` (the answer is the request's), `polling`
 * (a GET at an interval), `held-poll` (a GET held until something happens), `event-stream` (EventSource),
 * `fetch-stream` (a fetch read as it arrives), `callback` (the server calls a receiver), `socket` (a
 * WebSocket), `wait-then-push` (the answer if quick, else a push lane).
 */
export type LaneMechanism =
  | 'blocking'
  | 'polling'
  | 'held-poll'
  | 'event-stream'
  | 'fetch-stream'
  | 'callback'
  | 'socket'
  | 'wait-then-push';

export interface LaneInfo {
  id: LaneId;
  name: string;
  /** Short mark shown beside the colour, so that colour is never the only cue. */
  mark: string;
  /** Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), one hue per lane in every view. */
  color: string;
  summary: string;
  /** The lane as a sentence says it ("long polling", "the websocket"). */
  said: string;
  mechanism: LaneMechanism;
}

export const LANES: Record<LaneId, LaneInfo> = {
  'request-response': {
    id: 'request-response',
    name: 'Request/response',
    mark: 'RR',
    color: '#E69F00',
    summary: 'One HTTP request that blocks until the task is done.',
    said: 'request/response',
    mechanism: 'blocking',
  },
  'short-polling': {
    id: 'short-polling',
    name: 'Short polling',
    mark: 'SP',
    color: '#56B4E9',
    summary: 'POST → 202 Accepted, then GET at an interval.',
    said: 'short polling',
    mechanism: 'polling',
  },
  'long-polling': {
    id: 'long-polling',
    name: 'Long polling',
    mark: 'LP',
    color: '#009E73',
    summary: 'GET held open until something new happens.',
    said: 'long polling',
    mechanism: 'held-poll',
  },
  sse: {
    id: 'sse',
    name: 'Server-Sent Events',
    mark: 'SSE',
    color: '#F0E442',
    summary: 'One EventSource stream, resumable with Last-Event-ID.',
    said: 'SSE',
    mechanism: 'event-stream',
  },
  'http-streaming': {
    id: 'http-streaming',
    name: 'HTTP streaming',
    mark: 'HS',
    color: '#000000',
    summary: 'POST → 202, then one fetch read as it arrives: a JSON line per event, resumable with ?after=.',
    said: 'HTTP streaming',
    mechanism: 'fetch-stream',
  },
  webhook: {
    id: 'webhook',
    name: 'Webhook',
    mark: 'WH',
    color: '#0072B2',
    summary: 'The server POSTs signed events to your backend, which relays them.',
    said: 'the webhook lane',
    mechanism: 'callback',
  },
  websocket: {
    id: 'websocket',
    name: 'WebSocket',
    mark: 'WS',
    color: '#D55E00',
    summary: 'socket.io: start with an acknowledgement, events pushed, recovery.',
    said: 'the websocket',
    mechanism: 'socket',
  },
  hybrid: {
    id: 'hybrid',
    name: 'Hybrid',
    mark: 'HY',
    color: '#CC79A7',
    summary: 'Prefer: respond-async, wait=N — the answer itself if quick, else 202 and push.',
    said: 'the hybrid',
    mechanism: 'wait-then-push',
  },
};

/**
 * The HTTP streaming lane's one route: `GET /api/tasks/{id}/ndjson?after=SEQ`, a chunked answer of
 * newline-delimited JSON (`application/x-ndjson`), one line per event, the way many streaming APIs
 * answer today. A blank line is written when the stream has been quiet for `heartbeatMs` (a proxy's
 * idle timeout would cut it otherwise); readers skip blank lines. Here, with the lane list, so that
 * the lane adds no line elsewhere.
 */
export const HTTP_STREAMING = {
  path: (id: string) => `/api/tasks/${encodeURIComponent(id)}/ndjson`,
  route: '/api/tasks/:id/ndjson',
  contentType: 'application/x-ndjson',
  heartbeatMs: 15_000,
} as const;
