import { API_PATHS, RunResponse, TaskResponse, type TaskSpec } from '@transport-lab/shared';
import {
  badResponse,
  browserHttpDeps,
  errorFromAnswer,
  type HttpDeps,
  messageOf,
  meteredFetch,
  parseJson,
  withTag,
} from './http.ts';
import type { LaneError, LaneRun, Report, TransportClient } from './types.ts';

/**
 * One `POST /api/tasks/run` that blocks until the task ends: no progress on the way, the answer is the
 * first and last thing the page hears. Cancelling aborts the request; the server cancels the task when
 * its client goes away. Past the server's sync timeout the answer is a 504 naming the task and where to
 * fetch it, and `recover()` does that once.
 */
export function createRequestResponseClient(deps: HttpDeps = browserHttpDeps): TransportClient {
  return {
    id: 'request-response',
    run(spec, report, options) {
      return runRequestResponse(withTag(deps, options?.tag), spec, report);
    },
  };
}

function runRequestResponse(deps: HttpDeps, spec: TaskSpec, report: Report): LaneRun {
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
          headers: { 'content-type': 'application/json' },
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
      if (recoverFrom === undefined) return;
      try {
        const answer = await meteredFetch(deps, recoverFrom, { method: 'GET' }, report);
        const parsed = TaskResponse.safeParse(parseJson(answer.body));
        if (answer.response.ok && parsed.success) {
          report({ type: 'recovered', task: parsed.data.task, at: answer.receivedAt });
        } else {
          report({
            type: 'note',
            text: `Recovery fetch answered ${answer.response.status}: task state not recovered.`,
            at: answer.receivedAt,
          });
        }
        await answer.measured;
      } catch (error) {
        report({ type: 'note', text: `Recovery fetch failed: ${messageOf(error)}`, at: deps.now() });
      }
    },
  };
}
