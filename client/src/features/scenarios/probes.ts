import {
  API_PATHS,
  CreateTaskResponse,
  type Fault,
  HTTP_HEADERS,
  isTerminalEvent,
  type LabTag,
  labTagHeaders,
  labTagQuery,
  StreamTokenResponse,
  TaskEvent,
  type TaskSpec,
  type WireReport,
} from '@transport-lab/shared';
import type { RetryTrial, TokenTrial } from './checks-lessons.ts';

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

/** What the expiring-token experiment needs of a browser besides `ProbeDeps`. */
export interface TokenProbeDeps extends Pick<ProbeDeps, 'fetch' | 'wireReport' | 'newRunId'> {
  openEventSource(url: string): EventSource;
  now(): number;
  setTimer(callback: () => void, ms: number): () => void;
}

/** The expiring-token experiment's token life: shorter than its task, so that the stream outlives it. */
export const EXPIRING_TOKEN_TTL_MS = 3_000;

/** How long the expiring-token experiment waits for its task's end before it gives up, ms. */
const TOKEN_PROBE_LIMIT_MS = 30_000;

async function streamToken(deps: TokenProbeDeps, ttlMs: number): Promise<string> {
  const response = await deps.fetch(API_PATHS.streamTokens, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ttlMs }),
  });
  const parsed = StreamTokenResponse.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new Error(`POST ${API_PATHS.streamTokens} answered ${response.status}`);
  return parsed.data.token;
}

/**
 * A token that expires during a long-lived stream: the page asks for a stream token of `ttlMs`, starts
 * a task longer than that, and follows it with an EventSource carrying the token in its URL. The server
 * ends the stream when the token expires; EventSource reconnects by itself with the same URL, so the
 * same expired token, and is refused (401), which closes it for good; the page then asks for a fresh
 * token and opens a new stream after the last seq it saw (`?after=`: a new EventSource cannot be given
 * a Last-Event-ID). Every seq it saw is kept, in order.
 */
export async function runExpiringToken(
  deps: TokenProbeDeps,
  spec: TaskSpec,
  ttlMs: number,
): Promise<TokenTrial> {
  const tag: LabTag = { lane: 'sse', runId: deps.newRunId() };
  // Read before the token is asked for: the server's expiry comes no sooner than ttlMs after this.
  const issuedAt = deps.now();
  const first = await streamToken(deps, ttlMs);
  const created = await deps.fetch(API_PATHS.tasks, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...labTagHeaders(tag) },
    body: JSON.stringify({ spec }),
  });
  const parsed = CreateTaskResponse.safeParse(await created.json().catch(() => undefined));
  if (!parsed.success) throw new Error(`POST ${API_PATHS.tasks} answered ${created.status}`);
  const taskId = parsed.data.task.id;
  const seqs: number[] = [];
  const trial: TokenTrial = {
    ttlMs,
    seqs,
    streamsOpened: 0,
    reconnectRefused: false,
    expectedEvents: spec.steps + 3,
  };
  await new Promise<void>((resolve) => {
    let done = false;
    let current: EventSource | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      current?.close();
      cancelLimit();
      resolve();
    };
    const cancelLimit = deps.setTimer(finish, TOKEN_PROBE_LIMIT_MS);
    const open = (token: string, after: number) => {
      trial.streamsOpened += 1;
      const which = trial.streamsOpened;
      const query = new URLSearchParams({ ...labTagQuery(tag), token, after: String(after) });
      const source = deps.openEventSource(`${API_PATHS.stream(taskId)}?${query}`);
      current = source;
      source.addEventListener('message', (message) => {
        const event = TaskEvent.safeParse(JSON.parse(String((message as MessageEvent).data)));
        if (!event.success) return;
        seqs.push(event.data.seq);
        if (isTerminalEvent(event.data)) {
          trial.terminal = event.data.type;
          finish();
        }
      });
      source.addEventListener('error', () => {
        if (done) return;
        // The first stream's first error is its end: the server ended it when its token expired.
        if (which === 1 && trial.firstStreamEndedMs === undefined)
          trial.firstStreamEndedMs = deps.now() - issuedAt;
        // CONNECTING: the browser reconnects by itself (same URL, same token). CLOSED: refused for good.
        if (source.readyState !== 2) return;
        if (which > 1) return finish();
        trial.reconnectRefused = true;
        streamToken(deps, 30_000).then(
          (fresh) => open(fresh, seqs.at(-1) ?? 0),
          () => finish(),
        );
      });
    };
    open(first, 0);
  });
  const counts = await deps.wireReport(tag.runId).then(
    (report) => report.lanes.sse,
    () => undefined,
  );
  // The lane's requests less its create: the streams the server was asked for, refused ones included.
  if (counts) trial.serverStreamRequests = counts.requests - 1;
  return trial;
}
