import { API_ROUTES, HTTP_HEADERS } from '@transport-lab/shared';
import type { AsyncAnswer } from '../../http/createTask.ts';
import type { TaskEngine } from '../../tasks/engine.ts';
import { ASYNC_TASK_ROUTES, type LaneContext, type ServerLane } from '../lane.ts';
import { parsePrefer } from './prefer.ts';

/**
 * The hybrid lane: `POST /api/tasks` with `Prefer: respond-async, wait=N` (RFC 7240 §4.1, §4.3).
 * Not a route of its own: the answer strategy of the task resource. The answer itself (200, final
 * state, `Preference-Applied: wait=N`) when the task ends within N seconds; else 202 with
 * `Preference-Applied: respond-async` and the client follows it on a push route (the event stream or
 * long polling, served by those lanes). A client leaving during the wait does not cancel: the task
 * has a Location from the start. Without a Prefer header the resource answers as it would anyway.
 */
export const hybridLane: ServerLane = {
  id: 'hybrid',
  counted: [
    ...ASYNC_TASK_ROUTES,
    { method: 'GET', route: API_ROUTES.stream },
    { method: 'GET', route: API_ROUTES.events },
  ],
  streams: [API_ROUTES.stream],
  register({ asyncTasks, engine }: LaneContext) {
    asyncTasks.answerWith(answer(engine));
  },
};

function answer(engine: TaskEngine): AsyncAnswer {
  return async (req, task, clientGone) => {
    const header = req.headers[HTTP_HEADERS.prefer];
    if (header === undefined) return undefined;
    const prefs = parsePrefer(header);
    if (prefs.waitS === undefined) {
      const headers: Record<string, string> = {};
      if (prefs.respondAsync) headers[HTTP_HEADERS.preferenceApplied] = 'respond-async';
      return { status: 202, task, headers };
    }
    const outcome = await engine.waitForEnd(task.id, prefs.waitS * 1_000, clientGone);
    if (outcome.ended) {
      return {
        status: 200,
        task: outcome.task,
        headers: { [HTTP_HEADERS.preferenceApplied]: `wait=${prefs.waitS}` },
      };
    }
    return {
      status: 202,
      task: (await engine.get(task.id)) ?? task,
      headers: { [HTTP_HEADERS.preferenceApplied]: 'respond-async' },
    };
  };
}

export default hybridLane;
