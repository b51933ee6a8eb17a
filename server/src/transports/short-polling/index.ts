import { API_ROUTES, HTTP_HEADERS, TaskId, TaskResponse, type TaskState } from '@transport-lab/shared';
import {
  type DescribeRoute,
  errors,
  labTagHeaders,
  notModified,
  ok,
  taskIdParams,
} from '../../contract/describe.ts';
import { parseOrThrow } from '../../errors.ts';
import { matchesIfNoneMatch } from '../../http/conditional.ts';
import { ASYNC_TASK_ROUTES, type LaneContext, type ServerLane } from '../lane.ts';

/** Strong ETag: a task's representation is fully determined by its id and its newest seq, and, while
 *  it waits for a worker, its place in the queue (which moves with no event of its own). */
export function taskEtag(task: TaskState): string {
  const place = task.queuePosition === undefined ? '' : `.q${task.queuePosition}`;
  return `"${task.id}.${task.lastSeq}${place}"`;
}

/**
 * The short-polling lane: after `POST /api/tasks` (202 + Location + Retry-After), the client
 * GETs the task at an interval. A poll whose `If-None-Match` still matches answers 304 with no
 * body — the cheapest wasted poll there is. This is also where a blocking call's 504 points.
 */
export const shortPollingLane: ServerLane = {
  id: 'short-polling',
  counted: [...ASYNC_TASK_ROUTES, { method: 'GET', route: API_ROUTES.task }],
  register,
  describe,
};

function register({ router, engine }: LaneContext): void {
  router.get(API_ROUTES.task, async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    const task = await engine.getOrThrow(id);
    const etag = taskEtag(task);
    res.setHeader(HTTP_HEADERS.etag, etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (matchesIfNoneMatch(req, etag)) {
      res.status(304).end();
      return;
    }
    res.json({ task } satisfies TaskResponse);
  });
}

/** The lane's route in the API contract (contract/openapi.ts builds the document from every lane's). */
function describe(route: DescribeRoute): void {
  route({
    method: 'get',
    path: API_ROUTES.task,
    tags: ['tasks'],
    summary: 'Short-polling lane: the task now, with a strong ETag',
    request: { params: taskIdParams, headers: labTagHeaders },
    responses: {
      200: ok('The task.', TaskResponse),
      ...notModified,
      ...errors(['VALIDATION_FAILED', 'NOT_FOUND']),
    },
  });
}

export default shortPollingLane;
