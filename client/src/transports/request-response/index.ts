import {
  API_PATHS,
  RunResponse,
  TaskResponse,
  type TaskSpec,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import { sleep } from '../async-task.ts';
import {
  badResponse,
  browserHttpDeps,
  errorFromAnswer,
  type HttpDeps,
  messageOf,
  meteredFetch,
  parseJson,
  traceHeaders,
  withTag,
} from '../http.ts';
import type { ClientLane, LaneError, LaneRun, Report, TransportClient } from '../types.ts';

/**
 * One `POST /api/tasks/run` that blocks until the task ends: no progress on the way, the answer is the
 * first and last thing the page hears. Cancelling aborts the request; the server cancels the task when
 * its client goes away. Past the server's sync timeout (504), or when the server is going down for a
 * restart (503), the answer names the task and where to fetch it, and `recover()` follows it there
 * until it ends, at the pace the server's `Retry-After` asks (1 s without one): the blocking call's
 * own way back, paid in requests the card counts.
 */
export interface RequestResponseDeps extends HttpDeps {
  /** Waits between recovery fetches (tests make it immediate). */
  wait?(ms: number): Promise<void>;
}

/** Recovery fetches at most: a task lasts 2 minutes at most, polled no faster than once a second. */
const MAX_RECOVERY_FETCHES = 300;

export function createRequestResponseClient(deps: RequestResponseDeps = browserHttpDeps): TransportClient {
  return {
    id: 'request-response',
    run(spec, report, options) {
      return runRequestResponse(withTag(deps, options), spec, report);
    },
  };
}

function runRequestResponse(deps: RequestResponseDeps, spec: TaskSpec, report: Report): LaneRun {
  const controller = new AbortController();
  let recoverFrom: string | undefined;
  const fail = (error: LaneError) => report({ type: 'error', error, at: deps.now() });

  report({ type: 'link', detail: 'Waiting for the one answer…', at: deps.now() });
  const done = (async () => {
    let answer: Awaited<ReturnType<typeof meteredFetch>>;
    try {
      answer = await meteredFetch(
        deps,
        API_PATHS.run,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...traceHeaders(deps) },
          body: JSON.stringify(spec),
          signal: controller.signal,
        },
        report,
      );
    } catch (error) {
      if (controller.signal.aborted) {
        report({
          type: 'note',
          text: 'Request abandoned: no answer came, so no bytes were measured.',
          at: deps.now(),
        });
        report({ type: 'aborted', at: deps.now() });
      } else fail({ code: 'NETWORK', message: messageOf(error), fromServer: false });
      return;
    }
    const { response, body, receivedAt } = answer;
    const json = parseJson(body);
    if (response.ok) {
      const parsed = RunResponse.safeParse(json);
      if (parsed.success) report({ type: 'task', task: parsed.data.task, at: receivedAt });
      else fail(badResponse(response.status));
    } else {
      const error = errorFromAnswer(response.status, json, response.headers.get('location'));
      recoverFrom = error.location;
      fail(error);
    }
    await answer.measured;
  })();

  return {
    done,
    cancel() {
      controller.abort();
    },
    async recover() {
      const from = recoverFrom;
      if (from === undefined) return;
      recoverFrom = undefined; // one follow at a time
      const wait = deps.wait ?? ((ms: number) => sleep(ms));
      try {
        for (let fetches = 1; fetches <= MAX_RECOVERY_FETCHES; fetches++) {
          const answer = await meteredFetch(deps, from, { method: 'GET' }, report);
          const parsed = TaskResponse.safeParse(parseJson(answer.body));
          if (!answer.response.ok || !parsed.success) {
            report({
              type: 'note',
              text: `Recovery fetch answered ${answer.response.status}: task state not recovered.`,
              at: answer.receivedAt,
            });
            await answer.measured;
            recoverFrom = from;
            return;
          }
          const { task } = parsed.data;
          report({ type: 'recovered', task, at: answer.receivedAt });
          await answer.measured;
          if (TERMINAL_STATUSES.has(task.status)) return;
          const retryAfterS = Number(answer.response.headers.get('retry-after'));
          await wait(Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1_000 : 1_000);
        }
      } catch (error) {
        report({ type: 'note', text: `Recovery fetch failed: ${messageOf(error)}`, at: deps.now() });
        recoverFrom = from;
      }
    },
  };
}

export default { id: 'request-response', create: () => createRequestResponseClient() } satisfies ClientLane;
