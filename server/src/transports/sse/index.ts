import {
  API_ROUTES,
  EventsQuery,
  HTTP_HEADERS,
  isTerminalEvent,
  SSE,
  SseWire,
  StreamToken,
  TaskEvent,
  TaskId,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import { z } from 'zod';
import {
  type DescribeRoute,
  errors,
  labTagHeaders,
  lastEventIdHeader,
  queryOf,
  taskIdParams,
} from '../../contract/describe.ts';
import { parseOrThrow } from '../../errors.ts';
import { openSseSession } from '../../http/sseSession.ts';
import { sendStreamWire, streamWire } from '../../http/streamWire.ts';
import { epochNow } from '../../observability/clock.ts';
import type { Unsubscribe } from '../../tasks/engine.ts';
import { ASYNC_TASK_ROUTES, type LaneContext, type ServerLane } from '../lane.ts';

/**
 * The query's `after` alone, built once: zod 4 compiles each object schema into a parser of its own
 * (`new Function`) on its first parse, so a `.pick()` made per request paid that compilation on every
 * stream opened (≈ 0.4 ms of CPU each, 3 % of a 200-phone hall's start burst).
 */
const AfterQuery = EventsQuery.pick({ after: true });

const LastEventId = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a seq')
  .transform(Number);

/**
 * The Server-Sent Events lane: `GET /api/tasks/{id}/stream`, one `message` per event with
 * `id: <seq>`, so EventSource resumes with `Last-Event-ID` by itself (or `?after=SEQ` on a first
 * connection). A `retry:` hint, comment heartbeats, `Cache-Control: no-cache, no-transform` and
 * `X-Accel-Buffering: no` (so nginx-like proxies pass each event at once); never compressed.
 * The stream ends after the terminal event; a reconnect after the end answers 204, which tells
 * EventSource to stop (WHATWG HTML §9.2.3).
 */
export const sseLane: ServerLane = {
  id: 'sse',
  counted: [
    ...ASYNC_TASK_ROUTES,
    { method: 'GET', route: API_ROUTES.stream },
    // The page's catch-up when a stream closes before the end (`waitMs=0`).
    { method: 'GET', route: API_ROUTES.events },
  ],
  streams: [API_ROUTES.stream],
  register,
  describe,
};

function register({ router, engine, openStream, streamTokens }: LaneContext): void {
  router.get(API_ROUTES.stream, async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    // A stream token, when one is given (EventSource cannot send Authorization): refused if unknown or
    // expired (401; EventSource then stops for good), and the stream ends when it expires, so that
    // access lasts as long as the token, not as long as the connection.
    const expiresAt =
      req.query.token === undefined
        ? undefined
        : streamTokens.check(parseOrThrow(StreamToken, req.query.token, 'token query'));
    const header = req.headers[HTTP_HEADERS.lastEventId];
    const from =
      header !== undefined
        ? parseOrThrow(LastEventId, header, 'Last-Event-ID header')
        : parseOrThrow(AfterQuery, { after: req.query.after }, 'query').after;
    const task = await engine.getOrThrow(id);
    if (TERMINAL_STATUSES.has(task.status) && from >= task.lastSeq) {
      res.status(204).end();
      return;
    }

    // Counted before the stream's head is written, so that a refusal can still be a 429; uncounted
    // when it closes (uncounting twice is harmless).
    const uncount = openStream(req);
    res.once('close', () => uncount());
    const session = await openSseSession(req, res, {
      retry: SSE.retryMs,
      keepAlive: SSE.heartbeatMs,
      trustClientEventId: false, // read above, validated
      headers: { 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' },
    });
    let off: Unsubscribe | undefined;
    session.once('disconnected', () => {
      uncount();
      off?.();
    });
    sendStreamWire(session, streamWire(req, res, { socketCountIsTheRequest: false }));
    if (expiresAt !== undefined) {
      const expiry = setTimeout(() => res.end(), Math.max(0, expiresAt - epochNow()));
      session.once('disconnected', () => clearTimeout(expiry));
    }
    off = await engine.subscribe(id, from, (event) => {
      if (!session.isConnected) return;
      session.push(event, 'message', String(event.seq));
      if (isTerminalEvent(event)) res.end();
    });
    if (!session.isConnected) {
      uncount();
      off();
    }
  });
}

/** The lane's route in the API contract (contract/openapi.ts builds the document from every lane's). */
function describe(route: DescribeRoute): void {
  route({
    method: 'get',
    path: API_ROUTES.stream,
    tags: ['tasks'],
    summary: 'SSE lane: the task’s events as Server-Sent Events',
    description: `First an \`event: ${'wire'}\` message (SseWire), then one \`message\` per TaskEvent with \`id: <seq>\`; resumes from \`Last-Event-ID\` (else \`?after=SEQ\`); ends after the terminal event.`,
    request: {
      params: taskIdParams,
      query: queryOf(AfterQuery).extend({
        token: StreamToken.optional().meta({ description: 'A stream token (`POST /api/stream-tokens`).' }),
      }),
      headers: labTagHeaders.extend(lastEventIdHeader.shape),
    },
    responses: {
      200: {
        description: 'An event stream: each `data:` is a TaskEvent (the first, `event: wire`, an SseWire).',
        content: { 'text/event-stream': { schema: z.union([TaskEvent, SseWire]) } },
      },
      204: { description: 'The task had ended and the client has every event: EventSource stops.' },
      ...errors(['VALIDATION_FAILED', 'TOKEN_INVALID', 'NOT_FOUND', 'RATE_LIMITED', 'UNAVAILABLE']),
    },
  });
}

export default sseLane;
