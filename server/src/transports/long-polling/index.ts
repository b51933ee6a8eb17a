import {
  API_ROUTES,
  EventsQuery,
  EventsResponse,
  type TaskEvent,
  TaskId,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import {
  type DescribeRoute,
  errors,
  labTagHeaders,
  ok,
  queryOf,
  taskIdParams,
} from '../../contract/describe.ts';
import { parseOrThrow } from '../../errors.ts';
import { withoutLabTags } from '../../observability/wireLedger.ts';
import type { Unsubscribe } from '../../tasks/engine.ts';
import { ASYNC_TASK_ROUTES, type LaneContext, type ServerLane } from '../lane.ts';

/**
 * The long-polling lane: `GET /api/tasks/{id}/events?after=SEQ&waitMs=N` answers at once with
 * every event after SEQ, or holds until one arrives or waitMs passes (then `events: []`). Events
 * stored in the same turn of the event loop go out together. The client's cursor is `nextAfter`;
 * since the engine replays from the store by seq, no reconnect can lose or repeat an event.
 */
export const longPollingLane: ServerLane = {
  id: 'long-polling',
  counted: [...ASYNC_TASK_ROUTES, { method: 'GET', route: API_ROUTES.events }],
  register,
  describe,
};

function register({ router, engine, openStream }: LaneContext): void {
  router.get(API_ROUTES.events, async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    // The query is strict, but a lane's tags (LAB_TAGS) may ride on it: they are not its concern.
    const { after, waitMs } = parseOrThrow(EventsQuery, withoutLabTags(req.query), 'query');
    const task = await engine.getOrThrow(id);
    res.setHeader('Cache-Control', 'no-store');

    const events: TaskEvent[] = [];
    let answered = false;
    let off: Unsubscribe | undefined;
    let timer: NodeJS.Timeout | undefined;
    /** Uncounts the poll from the open streams, once it is held. */
    let release: (() => void) | undefined;
    const answer = () => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      off?.();
      release?.();
      if (res.writableEnded || res.destroyed) return;
      res.json({ events, nextAfter: events.at(-1)?.seq ?? after } satisfies EventsResponse);
    };
    res.on('close', () => {
      answered = true;
      clearTimeout(timer);
      off?.();
      release?.();
    });

    const ended = TERMINAL_STATUSES.has(task.status) && after >= task.lastSeq;
    if (ended || waitMs === 0) {
      // Nothing more will ever come, or the client asked not to wait: answer with what there is.
      events.push(...(await engine.eventsAfter(id, after)));
      answer();
      return;
    }
    // Counted (or refused) before it is held: a refusal is an answer of its own, with nothing to undo.
    release = openStream(req);
    let flushQueued = false;
    off = await engine.subscribe(id, after, (event) => {
      events.push(event);
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(answer);
      }
    });
    if (answered) off();
    else timer = setTimeout(answer, waitMs);
  });
}

/** The lane's route in the API contract (contract/openapi.ts builds the document from every lane's). */
function describe(route: DescribeRoute): void {
  route({
    method: 'get',
    path: API_ROUTES.events,
    tags: ['tasks'],
    summary: 'Long-polling lane: events after `after`, held up to `waitMs` if none yet',
    request: { params: taskIdParams, query: queryOf(EventsQuery), headers: labTagHeaders },
    responses: {
      200: ok('Every event after `after`; `events: []` when the wait passed.', EventsResponse),
      ...errors(['VALIDATION_FAILED', 'NOT_FOUND', 'RATE_LIMITED', 'UNAVAILABLE']),
    },
  });
}

export default longPollingLane;
