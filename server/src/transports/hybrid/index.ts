import { HTTP_HEADERS } from '@transport-lab/shared';
import type { AsyncAnswer } from '../../http/createTask.ts';
import type { TaskEngine } from '../../tasks/engine.ts';
import { parsePrefer } from './prefer.ts';

/**
 * The hybrid lane: `POST /api/tasks` with `Prefer: respond-async, wait=N` (RFC 7240 §4.1, §4.3).
 * The answer itself (200, final state, `Preference-Applied: wait=N`) when the task ends within N
 * seconds; else 202 with `Preference-Applied: respond-async` and the client follows it on a push
 * lane. A client leaving during the wait does not cancel: the task has a Location from the start.
 * Without a wait preference it answers like any asynchronous create.
 */
export function answer(engine: TaskEngine): AsyncAnswer {
  return async (req, task, clientGone) => {
    const prefs = parsePrefer(req.headers[HTTP_HEADERS.prefer]);
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
