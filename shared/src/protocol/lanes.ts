import { z } from 'zod';

/** Every way a client can learn what the server is doing; the order is the order on the page. */
export const LANE_IDS = [
  'request-response',
  'short-polling',
  'long-polling',
  'sse',
  'webhook',
  'websocket',
  'hybrid',
] as const;

export const LaneId = z.enum(LANE_IDS);
export type LaneId = z.infer<typeof LaneId>;

export interface LaneInfo {
  id: LaneId;
  name: string;
  /** Short mark shown beside the colour, so that colour is never the only cue. */
  mark: string;
  /** Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), one hue per lane in every view. */
  color: string;
  summary: string;
}

export const LANES: Record<LaneId, LaneInfo> = {
  'request-response': {
    id: 'request-response',
    name: 'Request/response',
    mark: 'RR',
    color: '#E69F00',
    summary: 'One HTTP request that blocks until the task is done.',
  },
  'short-polling': {
    id: 'short-polling',
    name: 'Short polling',
    mark: 'SP',
    color: '#56B4E9',
    summary: 'POST → 202 Accepted, then GET at an interval.',
  },
  'long-polling': {
    id: 'long-polling',
    name: 'Long polling',
    mark: 'LP',
    color: '#009E73',
    summary: 'GET held open until something new happens.',
  },
  sse: {
    id: 'sse',
    name: 'Server-Sent Events',
    mark: 'SSE',
    color: '#F0E442',
    summary: 'One EventSource stream, resumable with Last-Event-ID.',
  },
  webhook: {
    id: 'webhook',
    name: 'Webhook',
    mark: 'WH',
    color: '#0072B2',
    summary: 'The server POSTs signed events to your backend, which relays them.',
  },
  websocket: {
    id: 'websocket',
    name: 'WebSocket',
    mark: 'WS',
    color: '#D55E00',
    summary: 'socket.io: start with an acknowledgement, events pushed, recovery.',
  },
  hybrid: {
    id: 'hybrid',
    name: 'Hybrid',
    mark: 'HY',
    color: '#CC79A7',
    summary: 'Prefer: respond-async, wait=N — the answer itself if quick, else 202 and push.',
  },
};
