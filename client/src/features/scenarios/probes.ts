import {
  API_PATHS,
  CreateTaskResponse,
  type Fault,
  HTTP_HEADERS,
  type LabTag,
  labTagHeaders,
  type TaskSpec,
  type WireReport,
} from '@transport-lab/shared';
import type { RetryTrial } from './checks-lessons.ts';

/**
 * Experiments a guided scenario runs with the page's own requests rather than a race of lanes (issue
 * 12, "lessons still missing"): what they teach happens between one request and its retry, which no
 * lane's card shows. Each uses a run id of its own, so that the server's count of it (`GET
 * /api/wire/{runId}`) holds that experiment alone.
 */

/** Replayed answers carry this header (server/src/http/createTask.ts), after Stripe's and the draft's examples. */
export const REPLAYED_HEADER = 'idempotent-replayed';

export interface ProbeDeps {
  fetch: typeof fetch;
  injectFault(fault: Fault): Promise<{ summary: string }>;
  wireReport(runId: string): Promise<WireReport>;
  newRunId(): string;
  /** A new Idempotency-Key: unique per operation, as the draft asks (a UUID). */
  newKey(): string;
}

/** The lane whose request this is: `POST /api/tasks` is how the short-polling lane starts its task. */
const PROBE_LANE = 'short-polling' as const;

/** One `POST /api/tasks`: its answer, or the network error of an answer that never came. */
async function createOnce(
  deps: ProbeDeps,
  tag: LabTag,
  spec: TaskSpec,
  key: string | undefined,
): Promise<RetryTrial['answer']> {
  try {
    const response = await deps.fetch(API_PATHS.tasks, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...labTagHeaders(tag),
        ...(key ? { [HTTP_HEADERS.idempotencyKey]: key } : {}),
      },
      body: JSON.stringify({ spec }),
    });
    const parsed = CreateTaskResponse.safeParse(await response.json().catch(() => undefined));
    return {
      status: response.status,
      ...(parsed.success ? { taskId: parsed.data.task.id } : {}),
      replayed: response.headers.get(REPLAYED_HEADER) === 'true',
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * A retried POST: twice, once without an Idempotency-Key and once with one, the server is told to lose
 * the answer to the run's next task creation (the lose-answers fault: the task is created, then the
 * connection is cut before the 202 leaves), and the page sends `POST /api/tasks`, retrying once after a
 * network error with the same body and the same key, as a client library would. Chromium may retry by
 * itself first (a kept-alive connection that closes before any answer): then the page's one request
 * succeeds, and only the server's count shows the second. The server's count of the run says how many
 * POSTs arrived and how many tasks they created.
 */
export async function runRetriedPost(
  deps: ProbeDeps,
  spec: TaskSpec,
): Promise<{ trials: RetryTrial[]; faults: Array<{ kind: Fault['kind']; summary: string }> }> {
  const trials: RetryTrial[] = [];
  const faults: Array<{ kind: Fault['kind']; summary: string }> = [];
  for (const withKey of [false, true]) {
    const tag: LabTag = { lane: PROBE_LANE, runId: deps.newRunId() };
    const record = await deps.injectFault({ kind: 'lose-answers', runId: tag.runId, count: 1 });
    faults.push({
      kind: 'lose-answers',
      summary: `${withKey ? 'With a key' : 'Without a key'}: ${record.summary}`,
    });
    const key = withKey ? deps.newKey() : undefined;
    let pageRequests = 0;
    let answer: RetryTrial['answer'] = { error: 'not sent' };
    for (let attempt = 0; attempt < 2; attempt++) {
      pageRequests += 1;
      answer = await createOnce(deps, tag, spec, key);
      if (!('error' in answer)) break;
    }
    const counts = await deps.wireReport(tag.runId).then(
      (report) => report.lanes[PROBE_LANE],
      () => undefined,
    );
    trials.push({
      withKey,
      pageRequests,
      answer,
      ...(counts ? { serverRequests: counts.requests } : {}),
      ...(counts?.tasksCreated !== undefined ? { tasksCreated: counts.tasksCreated } : {}),
    });
  }
  return { trials, faults };
}
