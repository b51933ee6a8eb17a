import { HTTP_HEADERS, TaskResponse, type TaskState } from '@transport-lab/shared';
import {
  type AsyncDeps,
  browserAsyncDeps,
  type Created,
  type Follower,
  isRetryableStatus,
  isTerminalState,
  MAX_POLL_FAILURES,
  parseRetryAfterMs,
  runAsyncLane,
  sleep,
} from '../async-task.ts';
import {
  badResponse,
  errorFromAnswer,
  type MeteredAnswer,
  messageOf,
  meteredFetch,
  parseJson,
  withTag,
} from '../http.ts';
import { createRetryBudget } from '../retry-budget.ts';
import type { ClientLane, LaneError, Report, TransportClient } from '../types.ts';

/** The interval when neither the person nor the server (`Retry-After`) named one, ms. */
const FALLBACK_INTERVAL_MS = 1_000;

/**
 * The server time of the progress value a polled state shows.
 *
 * What staleness means for a polled lane: a pushed event carries its own time; a polled state carries
 * `updatedAt`, the server time of its newest event, so a running state's progress is timed exactly
 * and its age on screen is the wait for the next poll (up to one interval) plus the trip back.
 *
 * A server that predates `updatedAt` leaves only `startedAt`; the engine emits step k no earlier than
 * its scheduled time, `startedAt + k × durationMs / steps` (its timers can be late, never early), so
 * that time is a lower bound of the event's and the age computed from it an upper bound: `exact:
 * false`, and the card says so. A terminal state feeds completion lag, not staleness.
 */
export function polledProgressAt(task: TaskState): { serverAt: number; exact: boolean } | undefined {
  if (task.status !== 'running' || task.step < 1) return undefined;
  if (task.updatedAt !== undefined) return { serverAt: task.updatedAt, exact: true };
  if (task.startedAt === undefined) return undefined;
  return { serverAt: task.startedAt + (task.step * task.spec.durationMs) / task.steps, exact: false };
}

/** Said once on the card when a polled state has no `updatedAt` and its age had to be bounded. */
export const UPPER_BOUND_NOTE =
  'Delay per update is an upper bound here: this server’s polled state does not say when its step happened, so it is timed from the step’s schedule, which the step can only follow.';

export interface ShortPollOptions {
  /** The person's interval, ms; absent: the server's `Retry-After`. */
  intervalMs?: number;
}

/**
 * Polls the task's `Location` at an interval with `If-None-Match`. A 304, or a 200 whose state has
 * not moved (same `lastSeq`), is a wasted poll. Polls keep a steady rate: each is sent one interval
 * after the previous one was sent, or at once if that answer came later, so that polls never overlap.
 */
export function followShortPoll(
  deps: AsyncDeps,
  created: Extract<Created, { kind: 'accepted' }>,
  report: Report,
  options: ShortPollOptions,
): Follower {
  const stopped = new AbortController();
  const intervalMs = options.intervalMs ?? created.retryAfterMs ?? FALLBACK_INTERVAL_MS;
  const source =
    options.intervalMs !== undefined
      ? 'lane setting'
      : created.retryAfterMs !== undefined
        ? 'the server’s Retry-After'
        : 'no Retry-After came: fallback';
  report({ type: 'link', detail: `Polling every ${intervalMs} ms (${source})…`, at: deps.now() });

  const done = (async () => {
    const measuring: Array<Promise<void>> = [];
    let etag: string | undefined;
    let lastSeq = created.task.lastSeq;
    const budget = createRetryBudget(MAX_POLL_FAILURES, deps.random);
    let notedBound = false;
    let nextAt = created.receivedAt + intervalMs;
    const fail = (error: LaneError) => report({ type: 'error', error, at: deps.now() });
    const failedPoll = (label: string, status?: number) =>
      report({
        type: 'poll',
        poll: { outcome: 'error', label, ...(status !== undefined ? { status } : {}) },
        at: deps.now(),
      });

    while (!stopped.signal.aborted) {
      await sleep(nextAt - deps.now(), stopped.signal);
      if (stopped.signal.aborted) break;
      const sentAt = deps.now();
      nextAt = sentAt + intervalMs;
      const headers: Record<string, string> = {};
      if (etag) headers[HTTP_HEADERS.ifNoneMatch] = etag;
      let answer: MeteredAnswer;
      try {
        answer = await meteredFetch(
          deps,
          created.location,
          // With If-None-Match set by the page, fetch bypasses the HTTP cache (Fetch §4.5), and the 304
          // reaches the page as a 304: the cheapest wasted poll, made visible.
          { method: 'GET', headers, cache: 'no-store', signal: stopped.signal },
          report,
        );
      } catch (error) {
        if (stopped.signal.aborted) break;
        failedPoll(`network: ${messageOf(error)}`);
        const delay = budget.fail();
        if (delay !== undefined) {
          nextAt = Math.max(nextAt, deps.now() + delay);
          continue;
        }
        fail({ code: 'NETWORK', message: messageOf(error), fromServer: false });
        break;
      }
      measuring.push(answer.measured);
      const { response, receivedAt } = answer;
      if (response.status === 304) {
        budget.succeed();
        report({
          type: 'poll',
          poll: { outcome: 'wasted', status: 304, label: '304 Not Modified' },
          at: receivedAt,
        });
        continue;
      }
      const json = parseJson(answer.body);
      if (!response.ok) {
        if (isRetryableStatus(response.status)) {
          failedPoll(`HTTP ${response.status}`, response.status);
          const delay = budget.fail(
            parseRetryAfterMs(response.headers.get(HTTP_HEADERS.retryAfter), deps.now()),
          );
          if (delay !== undefined) {
            nextAt = Math.max(nextAt, deps.now() + delay);
            continue;
          }
        }
        fail(errorFromAnswer(response.status, json, null));
        break;
      }
      const parsed = TaskResponse.safeParse(json);
      if (!parsed.success) {
        fail(badResponse(response.status));
        break;
      }
      budget.succeed();
      etag = response.headers.get(HTTP_HEADERS.etag) ?? undefined;
      const { task } = parsed.data;
      if (task.lastSeq === lastSeq) {
        report({
          type: 'poll',
          poll: { outcome: 'wasted', status: 200, label: '200, unchanged' },
          at: receivedAt,
        });
        continue;
      }
      lastSeq = task.lastSeq;
      report({
        type: 'poll',
        poll: { outcome: 'news', status: 200, label: `200, ${task.status} ${Math.round(task.percent)}%` },
        at: receivedAt,
      });
      const progress = polledProgressAt(task);
      if (progress && !progress.exact && !notedBound) {
        notedBound = true;
        report({ type: 'note', text: UPPER_BOUND_NOTE, at: receivedAt });
      }
      report({ type: 'task', task, at: receivedAt, ...(progress ? { progress } : {}) });
      if (isTerminalState(task)) break;
    }
    await Promise.all(measuring);
  })();

  return { done, stop: () => stopped.abort() };
}

/** The short-polling lane: `POST /api/tasks` → 202 + Location + Retry-After, then `GET` at an interval. */
export function createShortPollingClient(deps: AsyncDeps = browserAsyncDeps): TransportClient {
  return {
    id: 'short-polling',
    run(spec, report, options) {
      const intervalMs = options?.settings.pollIntervalMs;
      const tagged = withTag(deps, options);
      return runAsyncLane(tagged, spec, report, {
        follow: (created) =>
          created.kind === 'final'
            ? undefined
            : followShortPoll(tagged, created, report, intervalMs !== undefined ? { intervalMs } : {}),
      });
    },
  };
}

export default { id: 'short-polling', create: () => createShortPollingClient() } satisfies ClientLane;
