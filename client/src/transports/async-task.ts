import {
  API_PATHS,
  type CreateTaskBody,
  CreateTaskResponse,
  ERROR_STATUS,
  HTTP_HEADERS,
  type PublicSettings,
  PublicSettings as PublicSettingsSchema,
  TaskResponse,
  type TaskSpec,
  type TaskState,
  TERMINAL_STATUSES,
  type WebhookSubscription,
} from '@transport-lab/shared';
import { OBSERVATION } from '../lib/observation.ts';
import { clientNow } from '../lib/time.ts';
import {
  badResponse,
  browserWatchResource,
  errorFromAnswer,
  type HttpDeps,
  type MeteredAnswer,
  messageOf,
  meteredFetch,
  parseJson,
  traceHeaders,
} from './http.ts';
import { createRetryBudget } from './retry-budget.ts';
import type { LaneRun, Report } from './types.ts';

/** The part of `EventSource` a lane uses, so that tests can hand in a fake. */
export interface EventSourceLike {
  /** 0 connecting, 1 open, 2 closed (the browser gave up, or `close()`). */
  readonly readyState: number;
  addEventListener(type: 'open' | 'error', listener: (event: Event) => void): void;
  addEventListener(type: 'message' | 'wire', listener: (event: MessageEvent<string>) => void): void;
  close(): void;
}

export const EVENT_SOURCE_CONNECTING = 0;
export const EVENT_SOURCE_CLOSED = 2;

/** Everything the asynchronous lanes (short and long polling, SSE, webhook, hybrid) reach out through. */
export interface AsyncDeps extends HttpDeps {
  /** In [0, 1): the backoff's jitter. */
  random(): number;
  newIdempotencyKey(): string;
  createEventSource(url: string): EventSourceLike;
  /**
   * `GET /api/settings`, for a lane that needs the server's settings before the page has them. The lab's
   * own request: not metered, not a lane's cost.
   */
  loadSettings(): Promise<PublicSettings>;
}

/**
 * A v4 UUID. `crypto.randomUUID` exists only in secure contexts (https, localhost), and an audience's
 * phone opens the page from the presenter's LAN address over plain http; `getRandomValues` exists in both.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function fetchPublicSettings(
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): Promise<PublicSettings> {
  const response = await fetchImpl(API_PATHS.settings, OBSERVATION);
  if (!response.ok) throw new Error(`GET ${API_PATHS.settings} answered ${response.status}`);
  return PublicSettingsSchema.parse(await response.json());
}

let settingsOnce: Promise<PublicSettings> | undefined;

export const browserAsyncDeps: AsyncDeps = {
  fetch: (input, init) => fetch(input, init),
  now: clientNow,
  watchResource: browserWatchResource,
  perfNow: () => performance.now(),
  random: Math.random,
  newIdempotencyKey,
  // The webhook relay is on the receiver's port, another origin: only with credentials does the
  // browser send it the network link's cookie (cookies ignore ports), so that the relay hop is shaped
  // like every other. Same-origin streams send cookies anyway.
  createEventSource: (url) =>
    new EventSource(url, { withCredentials: new URL(url, location.href).origin !== location.origin }),
  loadSettings() {
    settingsOnce ??= fetchPublicSettings().catch((error: unknown) => {
      settingsOnce = undefined; // a later run may try again
      throw error;
    });
    return settingsOnce;
  },
};

/** Resolves after `ms`, or at once when `signal` aborts (callers then check the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, Math.max(0, ms));
    signal?.addEventListener('abort', finish, { once: true });
  });
}

/** `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; anything else is no hint. */
export function parseRetryAfterMs(header: string | null, nowEpochMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowEpochMs);
}

/**
 * Retries after failures in a row before a following lane (short and long polling, HTTP streaming)
 * gives up: about 40 s of backoff by default. Each lane counts them with `createRetryBudget`.
 */
export const MAX_POLL_FAILURES = 8;

/** Statuses worth asking again after (the server or a proxy may recover); others end the run. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export const isTerminalState = (task: TaskState) => TERMINAL_STATUSES.has(task.status);

/** What `POST /api/tasks` answered. */
export type Created =
  | {
      kind: 'accepted';
      task: TaskState;
      /** Where the task lives (`Location`), resolved against the API. */
      location: string;
      /** The server's suggested polling interval (`Retry-After`), ms. */
      retryAfterMs?: number;
      preferenceApplied?: string;
      webhook?: WebhookSubscription;
      receivedAt: number;
    }
  | { kind: 'final'; task: TaskState; preferenceApplied?: string; receivedAt: number };

/**
 * A network failure or a 409 "key in use" is retried with the same Idempotency-Key, at most this often.
 * With the default backoff the waits add up to 8–16 s: long enough to ride out a server restart (the
 * supervisor starts a new process, which took several seconds on a loaded machine), where 4 attempts
 * gave up after about 1.75 s and a hybrid held in its wait was lost to a restart.
 */
const CREATE_ATTEMPTS = 7;

/**
 * `POST /api/tasks` with a fresh Idempotency-Key for this run. When the request fails on the network,
 * the server may or may not have created the task; the retry carries the same key, so the server
 * answers with the first request's answer and never creates a second task. Reports an error and
 * returns undefined when no task could be created.
 */
export async function createTask(
  deps: AsyncDeps,
  body: CreateTaskBody,
  report: Report,
  options: { prefer?: string; measuring?: Array<Promise<void>> } = {},
): Promise<Created | undefined> {
  const measuring = options.measuring ?? [];
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [HTTP_HEADERS.idempotencyKey]: deps.newIdempotencyKey(),
    // The task joins the page's trace; a retry (same key) answers the same task, so the same span.
    ...traceHeaders(deps),
  };
  if (options.prefer) headers[HTTP_HEADERS.prefer] = options.prefer;
  const init: RequestInit = { method: 'POST', headers, body: JSON.stringify(body), cache: 'no-store' };
  // Every request but the first is a retry.
  const retries = createRetryBudget(CREATE_ATTEMPTS - 1, deps.random);
  for (;;) {
    let answer: MeteredAnswer;
    try {
      answer = await meteredFetch(deps, API_PATHS.tasks, init, report);
    } catch (error) {
      const delay = retries.fail();
      if (delay === undefined) {
        report({
          type: 'error',
          error: { code: 'NETWORK', message: messageOf(error), fromServer: false },
          at: deps.now(),
        });
        return undefined;
      }
      report({
        type: 'link',
        detail: 'Create failed on the network; retrying with the same Idempotency-Key…',
        at: deps.now(),
      });
      await sleep(delay);
      continue;
    }
    const { response, receivedAt } = answer;
    const json = parseJson(answer.body);
    measuring.push(answer.measured);
    if (response.status === ERROR_STATUS.IDEMPOTENCY_KEY_IN_USE) {
      // The first attempt is still being handled (a hybrid's wait): ask again once it may be done. The
      // last 409, once the budget is spent, is reported below like every other refusal.
      const delay = retries.fail(
        parseRetryAfterMs(response.headers.get(HTTP_HEADERS.retryAfter), deps.now()),
      );
      if (delay !== undefined) {
        await sleep(delay);
        continue;
      }
    }
    if (response.status !== 200 && response.status !== 202) {
      report({
        type: 'error',
        error: errorFromAnswer(response.status, json, response.headers.get(HTTP_HEADERS.location)),
        at: receivedAt,
      });
      return undefined;
    }
    const parsed = CreateTaskResponse.safeParse(json);
    if (!parsed.success) {
      report({ type: 'error', error: badResponse(response.status), at: receivedAt });
      return undefined;
    }
    const { task, webhook } = parsed.data;
    const preferenceApplied = response.headers.get(HTTP_HEADERS.preferenceApplied) ?? undefined;
    if (response.status === 200 || isTerminalState(task)) {
      return { kind: 'final', task, receivedAt, ...(preferenceApplied ? { preferenceApplied } : {}) };
    }
    const retryAfterMs = parseRetryAfterMs(response.headers.get(HTTP_HEADERS.retryAfter), deps.now());
    return {
      kind: 'accepted',
      task,
      location: response.headers.get(HTTP_HEADERS.location) ?? API_PATHS.task(task.id),
      receivedAt,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(preferenceApplied ? { preferenceApplied } : {}),
      ...(webhook ? { webhook } : {}),
    };
  }
}

/** Follows one task to its end on some channel; the asynchronous lanes differ only here. */
export interface Follower {
  /** Stops following: closes the stream or abandons the poll in flight. */
  stop(): void;
  /** Settles when the follower has nothing more to report, its byte counts included. */
  readonly done: Promise<void>;
}

export interface AsyncLanePlan {
  /** `Prefer` header of the create (the hybrid's `respond-async, wait=N`). */
  prefer?: string;
  /** The status line while the create is on its way. */
  creating?: string;
  /**
   * Fields of the create body beyond the spec, found before the POST (the webhook's receiver URL). A
   * plain value when they are known already: the POST then leaves in the start's own tick, with the
   * other lanes', not after the page has rendered the start.
   */
  prepare?(): Omit<CreateTaskBody, 'spec'> | Promise<Omit<CreateTaskBody, 'spec'>>;
  /** Given the create's answer (already reported), follows the task; undefined when there is nothing to follow. */
  follow(created: Created): Follower | undefined;
}

/**
 * The shape every asynchronous lane shares: create the task (`POST /api/tasks` → 202, or 200 for a
 * hybrid that got its answer), report that answer as the first feedback, then follow the task on the
 * lane's own channel. Cancelling asks the server (`POST …/cancel`, a request of the lane's own); a
 * cancel pressed before the task exists is sent as soon as the create answers.
 */
export function runAsyncLane(deps: AsyncDeps, spec: TaskSpec, report: Report, plan: AsyncLanePlan): LaneRun {
  let taskId: string | undefined;
  let cancelWanted = false;
  let ended = false;
  let follower: Follower | undefined;
  /** Cancels sent and byte counts still to come: the run is done only once they are in. */
  const pending: Array<Promise<void>> = [];

  /** Asks the server to cancel; settles true when its answer shows the task ended. */
  const sendCancel = (id: string): Promise<boolean> => {
    const sent = (async () => {
      try {
        const answer = await meteredFetch(deps, API_PATHS.cancel(id), { method: 'POST' }, report);
        const json = parseJson(answer.body);
        const parsed = TaskResponse.safeParse(json);
        let taskEnded = false;
        if (answer.response.ok && parsed.success) {
          report({ type: 'task', task: parsed.data.task, at: answer.receivedAt });
          taskEnded = isTerminalState(parsed.data.task);
          if (taskEnded) follower?.stop();
        } else {
          const error = errorFromAnswer(answer.response.status, json, null);
          // A task that ended first says TASK_FINISHED: its terminal event is on its way.
          if (error.code !== 'TASK_FINISHED') {
            report({ type: 'note', text: `Cancel refused: ${error.message}`, at: answer.receivedAt });
          }
        }
        pending.push(answer.measured);
        return taskEnded;
      } catch (error) {
        report({ type: 'note', text: `Cancel failed: ${messageOf(error)}`, at: deps.now() });
        return false;
      }
    })();
    pending.push(sent.then(() => {}));
    return sent;
  };

  report({ type: 'link', detail: plan.creating ?? 'Creating the task…', at: deps.now() });
  /** Creates the task and follows it to its end; returns early when there is nothing to follow. */
  const createAndFollow = async () => {
    let extras: Omit<CreateTaskBody, 'spec'> = {};
    if (plan.prepare) {
      try {
        const prepared = plan.prepare();
        extras = prepared instanceof Promise ? await prepared : prepared;
      } catch (error) {
        report({
          type: 'error',
          error: { code: 'CLIENT', message: messageOf(error), fromServer: false },
          at: deps.now(),
        });
        return;
      }
    }
    if (cancelWanted) {
      report({ type: 'aborted', at: deps.now() });
      return;
    }
    const created = await createTask(
      deps,
      { spec, ...extras },
      report,
      plan.prefer ? { prefer: plan.prefer, measuring: pending } : { measuring: pending },
    );
    if (!created) return;
    taskId = created.task.id;
    report({ type: 'task', task: created.task, at: created.receivedAt });
    // Cancel pressed while the create was on its way: ask first, and follow only if the task goes on.
    if (cancelWanted && created.kind === 'accepted' && (await sendCancel(created.task.id))) return;
    follower = plan.follow(created);
    await follower?.done;
  };

  const done = (async () => {
    await createAndFollow();
    ended = true;
    // Byte counts still to come, and what cancels add while these settle.
    let settled = 0;
    while (settled < pending.length) {
      const batch = pending.slice(settled);
      settled = pending.length;
      await Promise.all(batch);
    }
  })();

  return {
    done,
    cancel() {
      if (ended) return;
      if (taskId !== undefined) void sendCancel(taskId);
      else cancelWanted = true;
    },
  };
}
