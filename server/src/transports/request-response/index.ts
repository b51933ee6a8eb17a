import { API_PATHS, API_ROUTES, RunResponse, type SyncTimeoutDetails, TaskSpec } from '@transport-lab/shared';
import {
  ADMISSION,
  BODY,
  type DescribeRoute,
  errors,
  json,
  labTagHeaders,
  ok,
} from '../../contract/describe.ts';
import { AppError, parseOrThrow } from '../../errors.ts';
import type { LaneContext, ServerLane } from '../lane.ts';

/**
 * `POST /api/tasks/run`: one request that blocks until the task ends, answering `200 {task}`
 * (whatever the task's outcome: the request itself succeeded). Until the answer, the open
 * connection is the only handle on the task, so a client that goes away cancels it; past
 * SYNC_TIMEOUT_MS the 504 hands the task over to its Location and the work goes on.
 */
export const requestResponseLane: ServerLane = {
  id: 'request-response',
  counted: [
    { method: 'POST', route: API_PATHS.run },
    // The Location of a 504 (or of a restart's 503), which its client follows.
    { method: 'GET', route: API_ROUTES.task },
  ],
  register,
  describe,
};

function register({ router, engine, tasks, settings: { syncTimeoutMs } }: LaneContext): void {
  router.post(API_PATHS.run, async (req, res) => {
    tasks.admit();
    const spec = parseOrThrow(TaskSpec, req.body, 'task spec');
    const task = await tasks.start({ req }, spec);
    const clientGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });

    const outcome = await engine.waitForEnd(task.id, syncTimeoutMs, clientGone.signal);
    if (outcome.ended) {
      res.json({ task: outcome.task } satisfies RunResponse);
      return;
    }
    if (outcome.reason === 'aborted') {
      await engine.cancel(task.id).catch(() => undefined); // it may have ended meanwhile
      req.log.info(
        { taskId: task.id, traceId: task.traceId },
        'client left a blocking request; task cancelled',
      );
      return;
    }
    const location = API_PATHS.task(task.id);
    if (outcome.reason === 'stopping') {
      // The process is going away (a restart): answer now, before the connection is cut, with where
      // the task lives. It resumes at the next start; a client that follows Location sees its end.
      throw new AppError(
        'UNAVAILABLE',
        `The server is restarting. The task goes on: fetch ${location} for its state.`,
        { taskId: task.id, location },
        { Location: location, 'Retry-After': '1' },
      );
    }
    throw new AppError(
      'SYNC_TIMEOUT',
      `The task did not end within ${syncTimeoutMs} ms. It goes on: fetch ${location} for its state.`,
      { taskId: task.id, location, waitedMs: syncTimeoutMs } satisfies SyncTimeoutDetails,
      { Location: location },
    );
  });
}

/** The lane's route in the API contract (contract/openapi.ts builds the document from every lane's). */
function describe(route: DescribeRoute): void {
  route({
    method: 'post',
    path: API_PATHS.run,
    tags: ['tasks'],
    summary: 'Request/response lane: run a task and answer when it ends',
    description:
      'Blocks until the task ends (whatever its outcome) and answers it. A client that disconnects first cancels its task.',
    request: { headers: labTagHeaders, body: { required: true, ...json(TaskSpec) } },
    responses: {
      200: ok('The task, ended.', RunResponse),
      ...errors(BODY, ADMISSION, ['SYNC_TIMEOUT']),
    },
  });
}

export default requestResponseLane;
