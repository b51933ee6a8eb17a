import { z } from 'zod';
import { TaskEvent } from './events.ts';
import { LaneId } from './lanes.ts';
import { TaskId, TaskSpec, TaskState } from './task.ts';
import { WebhookSubscription } from './webhooks.ts';
import { RunId } from './wire.ts';

/** Paths of the public HTTP API, written once; see docs/api in the README. */
export const API_PATHS = {
  run: '/api/tasks/run',
  tasks: '/api/tasks',
  task: (id: string) => `/api/tasks/${encodeURIComponent(id)}`,
  events: (id: string) => `/api/tasks/${encodeURIComponent(id)}/events`,
  stream: (id: string) => `/api/tasks/${encodeURIComponent(id)}/stream`,
  cancel: (id: string) => `/api/tasks/${encodeURIComponent(id)}/cancel`,
  deliveries: (id: string) => `/api/tasks/${encodeURIComponent(id)}/deliveries`,
  /** The server's own count of one run's traffic per lane (WireReport). */
  wire: (runId: string) => `/api/wire/${encodeURIComponent(runId)}`,
  /** `POST`: a short-lived stream token (StreamTokenRequest → StreamTokenResponse). */
  streamTokens: '/api/stream-tokens',
  /** The tasks one run created, each with its lane and its state as the server holds it. */
  runTasks: (runId: string) => `/api/runs/${encodeURIComponent(runId)}/tasks`,
  time: '/api/time',
  settings: '/api/settings',
  health: '/healthz',
  metrics: '/metrics',
  /** The server's own view as JSON (ServerView), from the same registry as `/metrics`. */
  serverView: '/api/server-view',
  /** The HTTP API as an OpenAPI 3.1 document, generated from these schemas (server/src/contract). */
  openapi: '/api/openapi.json',
  /** The socket.io namespaces and the webhook deliveries as an AsyncAPI 3.0 document. */
  asyncapi: '/api/asyncapi.json',
} as const;

/** The same paths as express route patterns, for the server's routers. */
export const API_ROUTES = {
  task: '/api/tasks/:id',
  events: '/api/tasks/:id/events',
  stream: '/api/tasks/:id/stream',
  cancel: '/api/tasks/:id/cancel',
  deliveries: '/api/tasks/:id/deliveries',
  wire: '/api/wire/:runId',
  runTasks: '/api/runs/:runId/tasks',
} as const;

/** Response header, on every API answer, with the size in bytes of the request as the server read it
 *  off the wire (request line + headers + body), so that a browser can count the bytes it sent. */
export const REQUEST_BYTES_HEADER = 'x-request-bytes';
export const REQUEST_ID_HEADER = 'x-request-id';

/** Bounds of a stream token's life, ms. */
export const STREAM_TOKEN_TTL_MS = { min: 1_000, max: 3_600_000 } as const;
/** A stream token: 32 characters of base64url (24 random bytes). */
export const StreamToken = z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'not a stream token');
/**
 * `POST /api/stream-tokens`: a bearer token for event streams that expires after `ttlMs`. An
 * EventSource cannot send an Authorization header, so the token rides in the stream's URL
 * (`?token=`): the server refuses an unknown or expired one with `401 TOKEN_INVALID`, and ends a stream
 * when its token expires, so that access ends with the token and not with the connection.
 */
export const StreamTokenRequest = z.strictObject({
  ttlMs: z.int().min(STREAM_TOKEN_TTL_MS.min).max(STREAM_TOKEN_TTL_MS.max),
});
export type StreamTokenRequest = z.infer<typeof StreamTokenRequest>;
export const StreamTokenResponse = z.object({
  token: StreamToken,
  /** Server clock, epoch ms. */
  expiresAt: z.number(),
});
export type StreamTokenResponse = z.infer<typeof StreamTokenResponse>;

/** The most tasks `GET /api/runs/{runId}/tasks` lists (a race has one a lane, 7 at most). */
export const MAX_RUN_TASKS_LISTED = 100;

/**
 * `GET /api/runs/{runId}/tasks`: the tasks the run's tagged requests created, oldest first (at most
 * `MAX_RUN_TASKS_LISTED` of them), each with its lane and its state as the server holds it now. The run id is
 * the capability, as for its faults and its wire count: a page sees what became of each of its tasks,
 * a blocking call's too, whose id it never learns when it cancels.
 */
export const RunTasksResponse = z.object({
  runId: RunId,
  tasks: z.array(z.object({ lane: LaneId, task: TaskState })),
});
export type RunTasksResponse = z.infer<typeof RunTasksResponse>;

/** `POST /api/tasks/run` body is a bare `TaskSpec`; the answer once the task has ended. */
export const RunResponse = z.object({ task: TaskState });
export type RunResponse = z.infer<typeof RunResponse>;

/** `details` of the 504 that `POST /api/tasks/run` answers past the sync timeout. */
export const SyncTimeoutDetails = z.object({
  taskId: TaskId,
  /** Where the task's state can be fetched: the work goes on and is not lost. */
  location: z.string(),
  waitedMs: z.number(),
});
export type SyncTimeoutDetails = z.infer<typeof SyncTimeoutDetails>;

/** `GET /api/tasks/{id}` answer. */
export const TaskResponse = z.object({ task: TaskState });
export type TaskResponse = z.infer<typeof TaskResponse>;

/** `POST /api/tasks` body. A webhook secret, when given, must be a Standard Webhooks `whsec_` key. */
export const CreateTaskBody = z.strictObject({
  spec: TaskSpec,
  webhook: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }).max(2_048),
      secret: z
        .string()
        .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by a base64 key of 24+ bytes')
        .optional(),
    })
    .optional(),
});
export type CreateTaskBody = z.infer<typeof CreateTaskBody>;

/** `POST /api/tasks` answer (202, or 200 under `Prefer: wait`): the task, and the webhook
 *  subscription with its secret when the server generated one (shown this once only). */
export const CreateTaskResponse = z.object({ task: TaskState, webhook: WebhookSubscription.optional() });
export type CreateTaskResponse = z.infer<typeof CreateTaskResponse>;

/** Header names of the HTTP lanes, written once. */
export const HTTP_HEADERS = {
  idempotencyKey: 'idempotency-key',
  prefer: 'prefer',
  preferenceApplied: 'preference-applied',
  retryAfter: 'retry-after',
  lastEventId: 'last-event-id',
  location: 'location',
  etag: 'etag',
  ifNoneMatch: 'if-none-match',
} as const;

/** An Idempotency-Key: 1–255 visible ASCII characters (IETF httpapi-idempotency-key-header). */
export const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 visible ASCII characters');

/** The largest `wait=N` honoured for `Prefer: respond-async, wait=N`, in seconds. */
export const MAX_PREFER_WAIT_S = 60;

/** What the page needs to know of the server's settings: `GET /api/settings`. */
export const PublicSettings = z.object({
  protocolVersion: z.int(),
  syncTimeoutMs: z.int(),
  /** The short-polling interval the server suggests through Retry-After, ms. */
  pollIntervalMs: z.int(),
  /** Longest hold of a long poll, ms. */
  maxLongPollWaitMs: z.int(),
  receiver: z.object({
    /** Port of the built-in webhook receiver ("your backend"), on the host the page came from. */
    port: z.int(),
    /** The URL the server delivers to; give it as `webhook.url` to use the built-in receiver. */
    webhookUrl: z.string(),
  }),
  webhookScheduleScale: z.number(),
  /**
   * Addresses other devices on the network can open this page at (`http://192.168.1.20:3000`): one
   * per non-loopback IPv4 interface when the server listens on all of them (`HOST=0.0.0.0`), the
   * address itself when it listens on one, none when it listens on loopback only. A presenter's join
   * link and QR code use the first; absent from older servers.
   */
  lanUrls: z.array(z.string()).optional(),
  /**
   * socket.io's heartbeat (`SOCKET_PING_INTERVAL_MS`, `SOCKET_PING_TIMEOUT_MS`): a ping every
   * `pingIntervalMs`; a socket silent `pingTimeoutMs` after one is closed. Absent from older servers.
   */
  socketHeartbeat: z.object({ pingIntervalMs: z.int(), pingTimeoutMs: z.int() }).optional(),
  /** Whether `POST /api/faults` is open (`FAULTS`); absent from servers older than the faults. */
  faults: z.enum(['on', 'off']).optional(),
  /** The HTTP/2 demo port (`H2_PORT`, the six-streams scenario), on the host the page came from;
   *  absent when it is off. */
  h2Port: z.int().optional(),
});
export type PublicSettings = z.infer<typeof PublicSettings>;

/** Longest hold of a long poll, ms: under the 30–60 s idle timeouts of common proxies. */
export const MAX_LONG_POLL_WAIT_MS = 30_000;

/** `GET /api/tasks/{id}/events` query: every event after `after`, held up to `waitMs` if none yet. */
export const EventsQuery = z.strictObject({
  after: z.coerce.number().pipe(z.int().min(0)).default(0),
  waitMs: z.coerce.number().pipe(z.int().min(0).max(MAX_LONG_POLL_WAIT_MS)).default(25_000),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

export const EventsResponse = z.object({ events: z.array(TaskEvent), nextAfter: z.int().min(0) });
export type EventsResponse = z.infer<typeof EventsResponse>;

/** `GET /api/time`: server clock at receipt and at send (epoch ms), for NTP-style offset estimation. */
export const TimeResponse = z.object({ receivedAt: z.number(), sentAt: z.number() });
export type TimeResponse = z.infer<typeof TimeResponse>;

/** `GET /healthz`. */
export const HealthResponse = z.object({
  status: z.literal('ok'),
  protocolVersion: z.int(),
  store: z.string(),
  uptimeMs: z.number(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

/** SSE framing of `GET /api/tasks/{id}/stream`: each event is a default `message` with
 *  `id: <seq>` and `data: <TaskEvent JSON>`; comments are heartbeats. */
export const SSE = {
  /** Reconnection delay hinted to EventSource with `retry:`, ms. */
  retryMs: 1_000,
  /** A comment line at least this often keeps proxies from closing an idle stream, ms. */
  heartbeatMs: 15_000,
  /** Event type of the first message of every stream: its `SseWire`. It carries no `id:`, so it
   *  never moves EventSource's Last-Event-ID. */
  wireEvent: 'wire',
} as const;

/** What a page cannot see of its own EventSource request: the request's bytes as the server read
 *  them, and the response head's bytes as the server wrote them. Sent first on every stream. */
export const SseWire = z.object({
  requestBytes: z.int().min(0),
  responseHeadBytes: z.int().min(0),
});
export type SseWire = z.infer<typeof SseWire>;
