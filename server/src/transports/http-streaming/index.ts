import {
  EventsQuery,
  HTTP_STREAMING,
  isTerminalEvent,
  TaskEvent,
  TaskId,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import { type DescribeRoute, errors, labTagHeaders, queryOf, taskIdParams } from '../../contract/describe.ts';
import { parseOrThrow } from '../../errors.ts';
import { withoutLabTags } from '../../observability/wireLedger.ts';
import type { Unsubscribe } from '../../tasks/engine.ts';
import { ASYNC_TASK_ROUTES, type LaneContext, type ServerLane } from '../lane.ts';

/**
 * The query's `after` alone, built once: zod 4 compiles each object schema into a parser of its own
 * (`new Function`) on its first parse, so a `.pick()` made per request paid that compilation on every
 * stream opened (≈ 0.4 ms of CPU each, 3 % of a 200-phone hall's start burst).
 */
const AfterQuery = EventsQuery.pick({ after: true });

/**
 * The HTTP streaming lane: `GET /api/tasks/{id}/ndjson?after=SEQ` answers `200` with a chunked body
 * of newline-delimited JSON, one `TaskEvent` per line (each line its own chunk, written as the event
 * is published), from the stored events after SEQ through the terminal one, then ends. The client
 * reads it with `fetch` and a `ReadableStream`; after a drop it asks again from the last seq it
 * applied, so nothing is lost or repeated. `Cache-Control: no-cache, no-transform` and
 * `X-Accel-Buffering: no`, as for SSE, so that nginx-like proxies pass each line at once; never
 * compressed. A task that has ended with nothing after SEQ answers `204`.
 */
export const httpStreamingLane: ServerLane = {
  id: 'http-streaming',
  counted: [...ASYNC_TASK_ROUTES, { method: 'GET', route: HTTP_STREAMING.route }],
  streams: [HTTP_STREAMING.route],
  register,
  describe,
};

function register({ router, engine, openStream }: LaneContext): void {
  router.get(HTTP_STREAMING.route, async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    // A lane's tags (LAB_TAGS) may ride on the query: they are not its concern.
    const { after } = parseOrThrow(AfterQuery, withoutLabTags(req.query), 'query');
    const task = await engine.getOrThrow(id);
    if (TERMINAL_STATUSES.has(task.status) && after >= task.lastSeq) {
      res.status(204).end();
      return;
    }

    // Counted before the head is written, so that a refusal can still be a 429.
    const uncount = openStream(req);
    let off: Unsubscribe | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    const close = () => {
      clearTimeout(heartbeat);
      uncount();
      off?.();
    };
    res.once('close', close);
    res.writeHead(200, {
      'Content-Type': `${HTTP_STREAMING.contentType}; charset=utf-8`,
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    // The head goes out now, before any event: the page's first feedback is the 200 itself.
    res.flushHeaders();
    const quiet = () => {
      heartbeat = setTimeout(() => {
        if (!res.writableEnded) res.write('\n');
        quiet();
      }, HTTP_STREAMING.heartbeatMs);
    };
    quiet();
    off = await engine.subscribe(id, after, (event) => {
      if (res.writableEnded || res.destroyed) return;
      clearTimeout(heartbeat);
      res.write(`${JSON.stringify(event)}\n`);
      if (isTerminalEvent(event)) {
        close();
        res.end();
      } else quiet();
    });
    if (res.destroyed) close();
  });
}

/** The lane's route in the API contract (contract/openapi.ts builds the document from every lane's). */
function describe(route: DescribeRoute): void {
  route({
    method: 'get',
    path: HTTP_STREAMING.route,
    tags: ['tasks'],
    summary: 'HTTP streaming lane: the task’s events as newline-delimited JSON',
    description:
      'A chunked `application/x-ndjson` answer: one TaskEvent per line from after `after` through the terminal event, then the end; a blank line when quiet for 15 s. Resume with `?after=` the last seq applied.',
    request: {
      params: taskIdParams,
      query: queryOf(AfterQuery),
      headers: labTagHeaders,
    },
    responses: {
      200: {
        description: 'One TaskEvent per line (blank lines are heartbeats).',
        content: { [HTTP_STREAMING.contentType]: { schema: TaskEvent } },
      },
      204: { description: 'The task had ended and the client has every event.' },
      ...errors(['VALIDATION_FAILED', 'NOT_FOUND', 'RATE_LIMITED', 'UNAVAILABLE']),
    },
  });
}

export default httpStreamingLane;
