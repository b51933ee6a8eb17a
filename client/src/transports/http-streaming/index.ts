import {
  chunkBytes,
  HTTP_HEADERS,
  HTTP_STREAMING,
  isTerminalEvent,
  LAST_CHUNK_BYTES,
  REQUEST_BYTES_HEADER,
  TaskEvent,
  type TaskState,
  utf8Bytes,
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
  exchangeLabel,
  messageOf,
  nextExchangeId,
  parseJson,
  RESOURCE_ENTRY_WAIT_MS,
  responseHeadBytes,
  taggedInit,
  withTag,
} from '../http.ts';
import { createRetryBudget } from '../retry-budget.ts';
import { createSeqOrderer } from '../seq-orderer.ts';
import type { ClientLane, LaneError, Report, TransportClient } from '../types.ts';
import { connectionDelta, parseRequestBytes } from '../wire.ts';

/** How one stream ended: the server finished its answer, an error status, or the connection failed. */
type StreamEnd =
  | { kind: 'finished' }
  | { kind: 'status'; status: number; body: string; retryAfter: string | null }
  | { kind: 'failed'; error: unknown };

/**
 * One `GET …/ndjson?after=SEQ`, read as it arrives (`fetch` + `ReadableStream`): each line handed to
 * `line` with its receipt time, blank lines (heartbeats) skipped; `line` returning false (a line that
 * is no event) cancels the answer. Its cost is reported as the page's
 * other requests' is: one request when sent, bytes up from the server's `x-request-bytes`, bytes down
 * as they crossed the wire — the answer's head (rebuilt from the headers fetch shows) and each line as
 * the chunk the server wrote it in (one write per line: `chunkBytes`), the last chunk if the server
 * ended the answer — and the connection from the Resource Timing entry once the answer is over.
 */
async function readStream(
  deps: AsyncDeps,
  path: string,
  signal: AbortSignal,
  report: Report,
  line: (text: string, at: number) => boolean,
): Promise<{ end: StreamEnd; measured: Promise<void> }> {
  const url = new URL(path, location.href).href;
  const watch = deps.watchResource(url, deps.perfNow());
  const id = nextExchangeId();
  let bytesDown = 0;
  const measure = (outcome: 'answered' | 'failed' | 'aborted', status?: number) => {
    report({ type: 'ended', id, outcome, ...(status !== undefined ? { status } : {}), at: deps.now() });
    return watch.entry(RESOURCE_ENTRY_WAIT_MS).then((entry) => {
      report({ type: 'wire', delta: { bytesDown, ...connectionDelta(entry) }, at: deps.now() });
    });
  };
  let response: Response;
  try {
    const pending = deps.fetch(url, taggedInit({ method: 'GET', cache: 'no-store', signal }, deps.tag));
    report({ type: 'sent', id, kind: 'stream', label: exchangeLabel('GET', url), at: deps.now() });
    report({ type: 'wire', delta: { requests: 1 }, at: deps.now() });
    response = await pending;
  } catch (error) {
    return { end: { kind: 'failed', error }, measured: measure(signal.aborted ? 'aborted' : 'failed') };
  }
  report({ type: 'opened', id, at: deps.now() });
  const bytesUp = parseRequestBytes(response.headers.get(REQUEST_BYTES_HEADER));
  report({
    type: 'wire',
    delta: bytesUp === undefined ? { unmeasuredUp: 1 } : { bytesUp },
    at: deps.now(),
  });
  bytesDown = responseHeadBytes(response);
  if (response.status !== 200 || !response.body) {
    let body = '';
    try {
      body = await response.text();
    } catch {
      // The status is what matters; an unread error body changes nothing.
    }
    bytesDown += utf8Bytes(body);
    const retryAfter = response.headers.get(HTTP_HEADERS.retryAfter);
    return {
      end: { kind: 'status', status: response.status, body, retryAfter },
      measured: measure('answered', response.status),
    };
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const at = deps.now();
      pending += value;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const text = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        bytesDown += chunkBytes(utf8Bytes(text) + 1);
        if (text.trim() !== '' && !line(text, at)) {
          await reader.cancel();
          return { end: { kind: 'finished' }, measured: measure('aborted', 200) };
        }
        newline = pending.indexOf('\n');
      }
    }
  } catch (error) {
    return { end: { kind: 'failed', error }, measured: measure(signal.aborted ? 'aborted' : 'failed', 200) };
  }
  bytesDown += LAST_CHUNK_BYTES;
  return { end: { kind: 'finished' }, measured: measure('answered', 200) };
}

/**
 * Follows a task on one streamed answer of newline-delimited JSON (`GET /api/tasks/{id}/ndjson`),
 * read line by line as it arrives, the way many streaming APIs answer today. The cursor is the seq of
 * the last event applied: when the answer ends before the terminal event (a dropped connection, a
 * proxy's cut), the lane asks again from it after a capped, jittered backoff, so nothing is lost and
 * a repeat is dropped. It gives up after `MAX_POLL_FAILURES` failures in a row.
 */
export function followHttpStream(deps: AsyncDeps, task: TaskState, report: Report): Follower {
  const orderer = createSeqOrderer(task.lastSeq);
  const stopped = new AbortController();
  report({ type: 'link', detail: 'Reading the streamed answer…', at: deps.now() });

  const done = (async () => {
    const measuring: Array<Promise<void>> = [];
    const fail = (error: LaneError) => report({ type: 'error', error, at: deps.now() });
    const budget = createRetryBudget(MAX_POLL_FAILURES, deps.random);
    let streams = 0;
    let ended = false;
    while (!stopped.signal.aborted && !ended) {
      if (streams > 0) report({ type: 'reconnect', count: streams, at: deps.now() });
      streams += 1;
      let malformed = false;
      const { end, measured } = await readStream(
        deps,
        `${HTTP_STREAMING.path(task.id)}?after=${orderer.lastSeq}`,
        stopped.signal,
        report,
        (text, at) => {
          const parsed = TaskEvent.safeParse(parseJson(text));
          if (!parsed.success) {
            malformed = true;
            return false;
          }
          if (parsed.data.taskId !== task.id) return true;
          budget.succeed();
          for (const event of orderer.push(parsed.data)) {
            report({ type: 'event', event, at });
            if (isTerminalEvent(event)) ended = true;
          }
          // After the terminal event the server ends the answer at once: read on to that end, so that
          // the connection closes cleanly and its last chunk is counted as it crossed the wire.
          return true;
        },
      );
      measuring.push(measured);
      if (malformed) {
        fail(badResponse(200));
        break;
      }
      if (ended || stopped.signal.aborted) break;
      let label: string;
      let hintMs: number | undefined;
      if (end.kind === 'status') {
        // 204: the task had ended and this page has every event (the terminal one was applied).
        if (end.status === 204) break;
        if (!isRetryableStatus(end.status)) {
          fail(errorFromAnswer(end.status, parseJson(end.body), null));
          break;
        }
        label = `HTTP ${end.status}`;
        hintMs = parseRetryAfterMs(end.retryAfter, deps.now());
      } else {
        label = end.kind === 'failed' ? `network: ${messageOf(end.error)}` : 'the answer ended early';
      }
      const delay = budget.fail(hintMs);
      if (delay === undefined) {
        fail({
          code: 'NETWORK',
          message: `The stream failed ${budget.failures} times in a row (${label}).`,
          fromServer: false,
        });
        break;
      }
      report({
        type: 'link',
        detail: `Stream cut (${label}); asking again after seq ${orderer.lastSeq} in ${Math.round(delay)} ms…`,
        at: deps.now(),
      });
      await sleep(delay, stopped.signal);
    }
    await Promise.all(measuring);
  })();

  return { done, stop: () => stopped.abort() };
}

/** The HTTP streaming lane: `POST /api/tasks` → 202, then one `fetch` read as a stream to the end. */
export function createHttpStreamingClient(deps: AsyncDeps = browserAsyncDeps): TransportClient {
  return {
    id: 'http-streaming',
    run(spec, report, options) {
      const tagged = withTag(deps, options);
      return runAsyncLane(tagged, spec, report, {
        follow: (created) =>
          isTerminalState(created.task) ? undefined : followHttpStream(tagged, created.task, report),
      });
    },
    follow: (followDeps, task, report) => followHttpStream(followDeps, task, report),
  };
}

export default { id: 'http-streaming', create: () => createHttpStreamingClient() } satisfies ClientLane;
