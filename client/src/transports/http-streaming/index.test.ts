import { chunkBytes, HTTP_HEADERS, LAST_CHUNK_BYTES, type TaskEvent, utf8Bytes } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { empty, fakeAsync, json } from '../../testing/async-fakes.ts';
import { progress, SPEC, started, succeeded, TASK_ID, taskState } from '../../testing/fixtures.ts';
import { MAX_POLL_FAILURES } from '../async-task.ts';
import { createHttpStreamingClient } from './index.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 100_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

const lineOf = (event: TaskEvent) => `${JSON.stringify(event)}\n`;

/** A streamed answer: these lines, then the end (`cut`: the connection fails after them instead). */
function ndjson(lines: string[], { cut = false } = {}): Response {
  const encoder = new TextEncoder();
  const queue = [...lines];
  // Line by line as the reader asks, so that a cut comes after what was read, as on a real connection.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const line = queue.shift();
      if (line !== undefined) controller.enqueue(encoder.encode(line));
      else if (cut) controller.error(new TypeError('network error'));
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
}

function scripted(answers: Response[]) {
  let served = 0;
  return fakeAsync((url, init) => {
    if (init.method === 'POST')
      return json(202, { task: taskState({ lastSeq: 1 }) }, { location: `/api/tasks/${TASK_ID}` });
    const next = answers[served++];
    if (next === undefined) throw new Error(`unexpected request ${url.pathname}${url.search}`);
    return next;
  });
}

describe('HTTP streaming lane', () => {
  it('reads each line as an event, and after a cut asks again from the last seq it applied', async () => {
    const lab = scripted([
      ndjson([lineOf(started()), lineOf(progress(3, 1, 10_100))], { cut: true }),
      // The server resends seq 3 (the page may not have applied it): it is dropped. A blank line is a heartbeat.
      ndjson([
        lineOf(progress(3, 1, 10_100)),
        '\n',
        lineOf(progress(4, 2, 10_200)),
        lineOf(succeeded(5, 10_400)),
      ]),
    ]);
    const run = createHttpStreamingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(1_000);
    await run.done;
    expect(lab.seqs()).toEqual([2, 3, 4, 5]);
    const streams = lab.requests.slice(1).map((r) => `${r.url.pathname}${r.url.search}`);
    expect(streams).toEqual([`/api/tasks/${TASK_ID}/ndjson?after=1`, `/api/tasks/${TASK_ID}/ndjson?after=3`]);
    expect(lab.of('reconnect').map((r) => r.count)).toEqual([1]);
    expect(lab.of('error')).toEqual([]);
  });

  it('counts a line as the chunk the server wrote it in, and the last chunk when the server ends', async () => {
    const lines = [lineOf(started()), '\n', lineOf(succeeded(3, 10_400))];
    const lab = scripted([ndjson(lines)]);
    await createHttpStreamingClient(lab.deps).run(SPEC, lab.report).done;
    const streamDown = lab.of('wire').reduce((sum, r) => sum + (r.delta.bytesDown ?? 0), 0);
    const body = lines.reduce((sum, line) => sum + chunkBytes(utf8Bytes(line)), 0) + LAST_CHUNK_BYTES;
    // The POST's answer is counted from its Resource Timing entry, which the fakes do not give.
    expect(streamDown).toBeGreaterThanOrEqual(body);
    expect(lab.seqs()).toEqual([2, 3]);
  });

  it('ends with a clear error on a line that is no event, without asking again', async () => {
    const lab = scripted([ndjson(['{"not":"an event"}\n'])]);
    await createHttpStreamingClient(lab.deps).run(SPEC, lab.report).done;
    expect(lab.of('error')[0]?.error.code).toBe('BAD_RESPONSE');
    expect(lab.requests).toHaveLength(2);
  });

  it('waits the longer of Retry-After and the backoff before asking again', async () => {
    const lab = scripted([
      empty(503, { [HTTP_HEADERS.retryAfter]: '2' }),
      ndjson([lineOf(started()), lineOf(succeeded(3, 10_400))]),
    ]);
    const run = createHttpStreamingClient(lab.deps).run(SPEC, lab.report);
    // random() = 0: the first backoff is 125 ms, Retry-After's 2 s the longer.
    await vi.advanceTimersByTimeAsync(1_999);
    expect(lab.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await run.done;
    expect(lab.requests).toHaveLength(3);
    expect(lab.seqs()).toEqual([2, 3]);
  });

  it(`gives up after ${MAX_POLL_FAILURES} retries in a row, counted from the last stream that carried an event`, async () => {
    const lab = scripted([
      empty(503),
      // An event came: the count starts again, and this cut is the first failure of the new run.
      ndjson([lineOf(started())], { cut: true }),
      ...Array.from({ length: MAX_POLL_FAILURES }, () => empty(503)),
    ]);
    const run = createHttpStreamingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(120_000);
    await run.done;
    expect(lab.requests).toHaveLength(1 + 2 + MAX_POLL_FAILURES);
    expect(lab.of('error').map((r) => r.error.message)).toEqual([
      `The stream failed ${MAX_POLL_FAILURES + 1} times in a row (HTTP 503).`,
    ]);
  });
});
