import {
  API_PATHS,
  ERROR_STATUS,
  ErrorEnvelope,
  RunResponse,
  SyncTimeoutDetails,
  TaskResponse,
  type TaskSpec,
} from '@transport-lab/shared';
import { browserHttpDeps, type HttpDeps, meteredFetch } from './http.ts';
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
    run(spec, report) {
      return runRequestResponse(deps, spec, report);
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

/** Turns a non-2xx answer into a lane error; a 504 SYNC_TIMEOUT carries the task id and where it lives. */
export function errorFromAnswer(status: number, json: unknown, locationHeader: string | null): LaneError {
  const envelope = ErrorEnvelope.safeParse(json);
  if (!envelope.success) return badResponse(status);
  const { code, message, details } = envelope.data.error;
  const error: LaneError = { code, message, status, fromServer: true };
  if (code === 'SYNC_TIMEOUT' && status === ERROR_STATUS.SYNC_TIMEOUT) {
    const sync = SyncTimeoutDetails.safeParse(details);
    if (sync.success) error.taskId = sync.data.taskId;
    const location = locationHeader ?? (sync.success ? sync.data.location : undefined);
    if (location) error.location = location;
  }
  return error;
}

function badResponse(status: number): LaneError {
  return {
    code: 'BAD_RESPONSE',
    message: `The server answered ${status} with a body that does not match the protocol.`,
    status,
    fromServer: true,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
