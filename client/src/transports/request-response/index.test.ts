import { REQUEST_BYTES_HEADER } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { finishedState, SPEC, TASK_ID, taskState } from '../../testing/fixtures.ts';
import { errorFromAnswer, responseHeadBytes } from '../http.ts';
import type { LaneReport } from '../types.ts';
import { createRequestResponseClient, type RequestResponseDeps } from './index.ts';

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', [REQUEST_BYTES_HEADER]: '290', ...headers },
  });
}

function setup(answer: (url: string, init: RequestInit) => Promise<Response>) {
  const requests: Array<{ url: string; init: RequestInit }> = [];
  const waits: number[] = [];
  const deps: RequestResponseDeps = {
    wait: async (ms) => {
      waits.push(ms);
    },
    now: () => 7,
    perfNow: () => 100,
    fetch: (input, init = {}) => {
      requests.push({ url: String(input), init });
      return answer(String(input), init);
    },
    watchResource: (url) => ({
      stop: () => {},
      entry: async () => ({
        name: url,
        startTime: 100,
        // transferSize is encodedBodySize + 300 in browsers, a stand-in for the head: not used.
        transferSize: 512,
        encodedBodySize: 212,
        connectStart: 101,
        connectEnd: 101.4,
      }),
    }),
  };
  const reports: LaneReport[] = [];
  const run = createRequestResponseClient(deps).run(SPEC, (r) => reports.push(r));
  const wire = () => reports.flatMap((r) => (r.type === 'wire' ? [r.delta] : []));
  return { run, reports, requests, wire, waits };
}

describe('request-response lane', () => {
  it('POSTs the spec once and reports the final task with its request and bytes each way', async () => {
    const done = finishedState(20_000);
    const { run, reports, requests, wire } = setup(async () => json(200, { task: done }));
    await run.done;
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toMatch(/\/api\/tasks\/run$/);
    expect(requests[0]?.init.method).toBe('POST');
    expect(JSON.parse(String(requests[0]?.init.body))).toEqual(SPEC);
    expect(reports).toContainEqual({ type: 'task', task: done, at: 7 });
    // Head: "HTTP/1.1 200 \r\n" (15: a constructed Response has no status text) + "content-type:
    // application/json\r\n" (32) + "x-request-bytes: 290\r\n" (22) + "\r\n" (2) = 71; body 212.
    expect(wire()).toEqual([{ requests: 1 }, { bytesUp: 290 }, { bytesDown: 71 + 212, connections: 1 }]);
  });

  it('turns a 504 into an error naming the task and its Location, and recover() follows it to its end', async () => {
    const location = `/api/tasks/${TASK_ID}`;
    let fetches = 0;
    const { run, reports, requests, waits } = setup(async (url) =>
      url.endsWith('/run')
        ? json(
            504,
            {
              error: {
                code: 'SYNC_TIMEOUT',
                message: 'still running',
                details: { taskId: TASK_ID, location, waitedMs: 30_000 },
              },
            },
            { location },
          )
        : ++fetches === 1
          ? json(
              200,
              { task: taskState({ status: 'running', step: 2, percent: 50 }) },
              { 'retry-after': '2' },
            )
          : json(200, { task: finishedState(20_000) }),
    );
    await run.done;
    expect(reports.find((r) => r.type === 'error')).toEqual({
      type: 'error',
      error: {
        code: 'SYNC_TIMEOUT',
        message: 'still running',
        status: 504,
        taskId: TASK_ID,
        location,
        fromServer: true,
      },
      at: 7,
    });
    await run.recover?.();
    const recovered = reports.flatMap((r) => (r.type === 'recovered' ? [r.task.status] : []));
    // Running at the first fetch, so it waited the server's Retry-After and fetched again: done.
    expect(recovered).toEqual(['running', 'succeeded']);
    expect(waits).toEqual([2_000]);
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual(['/api/tasks/run', location, location]);
  });

  it('reports an aborted run, not an error, when cancelled before the answer', async () => {
    const { run, reports } = setup(
      (_url, init) =>
        new Promise((_resolve, reject) =>
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
        ),
    );
    run.cancel();
    await run.done;
    expect(reports.map((r) => r.type)).toEqual(['link', 'sent', 'wire', 'ended', 'note', 'aborted']);
  });

  it('reports a network failure as a NETWORK error that the server never saw', async () => {
    const { run, reports } = setup(async () => {
      throw new TypeError('Failed to fetch');
    });
    await run.done;
    expect(reports.find((r) => r.type === 'error')).toMatchObject({
      error: { code: 'NETWORK', message: 'Failed to fetch', fromServer: false },
    });
  });
});

describe('errorFromAnswer', () => {
  it('keeps the code and message of a 400 envelope', () => {
    expect(errorFromAnswer(400, { error: { code: 'VALIDATION_FAILED', message: 'steps' } }, null)).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'steps',
      status: 400,
      fromServer: true,
    });
  });

  it('falls back to the Location in the details when the header is missing', () => {
    const details = { taskId: TASK_ID, location: '/api/tasks/x', waitedMs: 1 };
    expect(
      errorFromAnswer(504, { error: { code: 'SYNC_TIMEOUT', message: 'm', details } }, null),
    ).toMatchObject({
      taskId: TASK_ID,
      location: '/api/tasks/x',
    });
  });

  it('calls a body outside the protocol a BAD_RESPONSE', () => {
    expect(errorFromAnswer(502, '<html>', null).code).toBe('BAD_RESPONSE');
  });
});

describe('responseHeadBytes', () => {
  it('rebuilds the head as the server wrote it: status line, one line per header, blank line', () => {
    const head = responseHeadBytes({
      status: 304,
      statusText: 'Not Modified',
      headers: new Headers({ etag: '"abc.3"', 'x-request-bytes': '410' }),
    });
    // "HTTP/1.1 304 Not Modified\r\n" 27 + "etag: \"abc.3\"\r\n" 15 + "x-request-bytes: 410\r\n" 22 + 2.
    expect(head).toBe(27 + 15 + 22 + 2);
  });
});
