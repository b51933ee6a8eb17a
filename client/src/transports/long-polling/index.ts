import {
  API_PATHS,
  EventsResponse,
  HTTP_HEADERS,
  isTerminalEvent,
  MAX_LONG_POLL_WAIT_MS,
  type TaskState,
} from '@transport-lab/shared';
import {
  type AsyncDeps,
  browserAsyncDeps,
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
import { createSeqOrderer } from '../seq-orderer.ts';
import {
  type ClientLane,
  DEFAULT_LANE_SETTINGS,
  type LaneError,
  type Report,
  type RunOptions,
  type TransportClient,
} from '../types.ts';

/**
 * A held poll that outlives its wait by this much has lost its answer somewhere (a proxy, a sleeping
 * laptop's dead socket): the page abandons it and asks again from the same cursor.
 */
const HOLD_MARGIN_MS = 10_000;

export interface LongPollOptions {
  /** How long the server may hold each poll, ms. */
  waitMs: number;
  /** The server's own ceiling (`maxLongPollWaitMs`), when known. */
  serverMaxWaitMs?: number;
}

/**
 * Follows a task with `GET /api/tasks/{id}/events?after=CURSOR&waitMs=N` in a loop. The cursor is the
 * seq of the last event applied (the seq orderer's), never the server's `nextAfter` alone: after any
 * failure the next poll asks again from that cursor, so an answer lost on the way loses no event, and
 * an event that comes twice is dropped. Failures back off (capped, jittered); the run ends when a poll
 * fails again after `MAX_POLL_FAILURES` retries in a row. Each answer is drawn as a poll; an empty one is a wasted poll.
 */
export function followLongPoll(
  deps: AsyncDeps,
  task: TaskState,
  report: Report,
  options: LongPollOptions,
): Follower {
  const orderer = createSeqOrderer(task.lastSeq);
  const stopped = new AbortController();
  const waitMs = Math.min(options.waitMs, options.serverMaxWaitMs ?? MAX_LONG_POLL_WAIT_MS);
  if (waitMs < options.waitMs) {
    report({
      type: 'note',
      text: `Long-poll wait lowered to the server's ceiling of ${waitMs} ms.`,
      at: deps.now(),
    });
  }
  report({ type: 'link', detail: `Long polling (held up to ${waitMs / 1000} s)…`, at: deps.now() });

  const done = (async () => {
    const measuring: Array<Promise<void>> = [];
    const budget = createRetryBudget(MAX_POLL_FAILURES, deps.random);
    const fail = (error: LaneError) => report({ type: 'error', error, at: deps.now() });
    /** Counts one failure; false when the lane should give up. */
    const retryAfterFailure = async (label: string, status: number | undefined, hintMs?: number) => {
      report({
        type: 'poll',
        poll: { outcome: 'error', label, ...(status !== undefined ? { status } : {}) },
        at: deps.now(),
      });
      const delay = budget.fail(hintMs);
      if (delay === undefined) return false;
      report({
        type: 'link',
        detail: `Poll failed (${label}); resuming after seq ${orderer.lastSeq} in ${Math.round(delay)} ms…`,
        at: deps.now(),
      });
      await sleep(delay, stopped.signal);
      return true;
    };

    while (!stopped.signal.aborted) {
      const attempt = new AbortController();
      const abandon = () => attempt.abort();
      stopped.signal.addEventListener('abort', abandon, { once: true });
      const timer = setTimeout(abandon, waitMs + HOLD_MARGIN_MS);
      const sentAt = deps.now();
      let answer: MeteredAnswer;
      try {
        answer = await meteredFetch(
          deps,
          `${API_PATHS.events(task.id)}?after=${orderer.lastSeq}&waitMs=${waitMs}`,
          { method: 'GET', cache: 'no-store', signal: attempt.signal },
          report,
        );
      } catch (error) {
        if (stopped.signal.aborted) break;
        const label = attempt.signal.aborted ? 'no answer in time' : `network: ${messageOf(error)}`;
        if (await retryAfterFailure(label, undefined)) continue;
        fail({ code: 'NETWORK', message: messageOf(error), fromServer: false });
        break;
      } finally {
        clearTimeout(timer);
        stopped.signal.removeEventListener('abort', abandon);
      }
      measuring.push(answer.measured);
      const { response, receivedAt } = answer;
      const json = parseJson(answer.body);
      if (!response.ok) {
        if (isRetryableStatus(response.status)) {
          const hint = parseRetryAfterMs(response.headers.get(HTTP_HEADERS.retryAfter), deps.now());
          if (await retryAfterFailure(`HTTP ${response.status}`, response.status, hint)) continue;
        }
        fail(errorFromAnswer(response.status, json, null));
        break;
      }
      const parsed = EventsResponse.safeParse(json);
      if (!parsed.success) {
        fail(badResponse(response.status));
        break;
      }
      budget.succeed();
      const released = parsed.data.events.filter((e) => e.taskId === task.id).flatMap((e) => orderer.push(e));
      report({
        type: 'poll',
        poll:
          released.length > 0
            ? {
                outcome: 'news',
                status: response.status,
                label: `${released.length} ${released.length === 1 ? 'event' : 'events'}`,
              }
            : {
                outcome: 'wasted',
                status: response.status,
                label: `empty after ${((receivedAt - sentAt) / 1000).toFixed(1)} s`,
              },
        at: receivedAt,
      });
      for (const event of released) report({ type: 'event', event, at: receivedAt });
      if (released.some(isTerminalEvent)) break;
    }
    await Promise.all(measuring);
  })();

  return {
    done,
    stop: () => stopped.abort(),
  };
}

/** The long-poll options a run's settings and the server's ceiling give. */
function longPollOptions(options: RunOptions | undefined): LongPollOptions {
  const waitMs = options?.settings.longPollWaitMs ?? DEFAULT_LANE_SETTINGS.longPollWaitMs;
  const serverMaxWaitMs = options?.server?.maxLongPollWaitMs;
  return { waitMs, ...(serverMaxWaitMs !== undefined ? { serverMaxWaitMs } : {}) };
}

/** The long-polling lane: `POST /api/tasks` → 202, then held `GET …/events` until the terminal event. */
export function createLongPollingClient(deps: AsyncDeps = browserAsyncDeps): TransportClient {
  return {
    id: 'long-polling',
    run(spec, report, options) {
      const tagged = withTag(deps, options);
      return runAsyncLane(tagged, spec, report, {
        follow: (created) =>
          isTerminalState(created.task)
            ? undefined
            : followLongPoll(tagged, created.task, report, longPollOptions(options)),
      });
    },
    follow: (followDeps, task, report, options) =>
      followLongPoll(followDeps, task, report, longPollOptions(options)),
  };
}

export default { id: 'long-polling', create: () => createLongPollingClient() } satisfies ClientLane;
