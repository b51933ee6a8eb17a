import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import {
  API_PATHS,
  ErrorEnvelope,
  LAB_TAGS,
  REQUEST_BYTES_HEADER,
  SyncTimeoutDetails,
  TaskResponse,
} from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ SYNC_TIMEOUT_MS: '150', BODY_LIMIT_BYTES: '1024' });
});

afterAll(async () => {
  await server.close();
});

const post = (path: string, body: string, contentType = 'application/json') =>
  fetch(`${server.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

async function envelope(res: Response) {
  return ErrorEnvelope.parse(await res.json()).error;
}

describe('POST /api/tasks/run past SYNC_TIMEOUT_MS', () => {
  it('answers 504 with the task id and a Location, and the task finishes there', async () => {
    const res = await post(API_PATHS.run, JSON.stringify({ durationMs: 600, steps: 3 }));
    expect(res.status).toBe(504);
    const error = await envelope(res);
    expect(error.code).toBe('SYNC_TIMEOUT');
    const details = SyncTimeoutDetails.parse(error.details);
    expect(res.headers.get('location')).toBe(details.location);
    expect(details.location).toBe(API_PATHS.task(details.taskId));

    // The work was not lost: it goes on, and the Location shows it finished.
    await server.app.engine.waitForEnd(details.taskId, 10_000);
    const recovered = await fetch(`${server.baseUrl}${details.location}`);
    expect(recovered.status).toBe(200);
    const { task } = TaskResponse.parse(await recovered.json());
    expect(task.status).toBe('succeeded');
    expect(task.lastSeq).toBe(6);
  });
});

describe('GET /api/tasks/{id}', () => {
  it('sends a strong ETag and answers If-None-Match with 304 and no body until the task changes', async () => {
    const created = await post(API_PATHS.run, JSON.stringify({ durationMs: 0, steps: 1 }));
    const { task } = TaskResponse.parse(await created.json());
    const url = `${server.baseUrl}${API_PATHS.task(task.id)}`;
    const first = await fetch(url);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await fetch(url, { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const other = await fetch(url, { headers: { 'if-none-match': '"something-else"' } });
    expect(other.status).toBe(200);
  });

  it('answers 404 in the envelope for an unknown task and 400 for a malformed id', async () => {
    const missing = await fetch(`${server.baseUrl}${API_PATHS.task('00000000-0000-0000-0000-000000000000')}`);
    expect(missing.status).toBe(404);
    expect((await envelope(missing)).code).toBe('NOT_FOUND');
    const malformed = await fetch(`${server.baseUrl}/api/tasks/${encodeURIComponent('x y')}`);
    expect(malformed.status).toBe(400);
    expect((await envelope(malformed)).code).toBe('VALIDATION_FAILED');
  });

  it('refuses to cancel a finished task with 409', async () => {
    const created = await post(API_PATHS.run, JSON.stringify({ durationMs: 0, steps: 1 }));
    const { task } = TaskResponse.parse(await created.json());
    const res = await post(API_PATHS.cancel(task.id), '');
    expect(res.status).toBe(409);
    expect((await envelope(res)).code).toBe('TASK_FINISHED');
  });
});

describe('bad input at the HTTP edge', () => {
  it.each([
    ['an unknown API route', 404, 'NOT_FOUND', () => fetch(`${server.baseUrl}/api/nothing-here`)],
    [
      'a body over BODY_LIMIT_BYTES',
      413,
      'PAYLOAD_TOO_LARGE',
      () => post(API_PATHS.run, JSON.stringify({ durationMs: 1, steps: 1, pad: 'x'.repeat(2_000) })),
    ],
    [
      'a body that is not JSON',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      () => post(API_PATHS.run, 'durationMs=1', 'application/x-www-form-urlencoded'),
    ],
    ['malformed JSON', 400, 'MALFORMED_JSON', () => post(API_PATHS.run, '{"durationMs": 1,')],
    ['a JSON array instead of a spec', 400, 'VALIDATION_FAILED', () => post(API_PATHS.run, '[1,2]')],
    [
      'an unknown field in the spec',
      400,
      'VALIDATION_FAILED',
      () => post(API_PATHS.run, '{"durationMs":1,"steps":1,"extra":true}'),
    ],
  ] as const)('answers %s with %i %s in the envelope', async (_what, status, code, send) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect((await envelope(res)).code).toBe(code);
  });

  it('keeps serving after bad input: a valid run still succeeds', async () => {
    const res = await post(API_PATHS.run, JSON.stringify({ durationMs: 10, steps: 2 }));
    expect(res.status).toBe(200);
    expect(TaskResponse.parse(await res.json()).task.status).toBe('succeeded');
  });
});

describe('wire accounting', () => {
  it('reports the request size the server read off the socket, headers and body included', async () => {
    const body = JSON.stringify({ durationMs: 0, steps: 1 });
    const res = await post(API_PATHS.run, body);
    const reported = Number(res.headers.get(REQUEST_BYTES_HEADER));
    // Request line + at least the headers fetch always sends + the body itself.
    expect(reported).toBeGreaterThan(body.length + `POST ${API_PATHS.run} HTTP/1.1\r\n`.length + 40);
    // `,"resultBytes":12345` is 20 bytes more body; the content-length keeps its 2 digits.
    const bigger = await post(
      API_PATHS.run,
      JSON.stringify({ durationMs: 0, steps: 1, resultBytes: 12_345 }),
    );
    expect(Number(bigger.headers.get(REQUEST_BYTES_HEADER)) - reported).toBe(20);
  });

  it('reports each request of one keep-alive connection exactly, a long poll read live mid-flight included', async () => {
    const runId = 'xrb-keepalive-1';
    const created = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { durationMs: 400, steps: 1 } }),
    });
    const { task: queued } = TaskResponse.parse(await created.json());
    // Running: its next event is the step 400 ms away, so the long poll below is held.
    await expect
      .poll(
        async () =>
          TaskResponse.parse(await (await fetch(`${server.baseUrl}${API_PATHS.task(queued.id)}`)).json()).task
            .status,
      )
      .toBe('running');
    const task = TaskResponse.parse(
      await (await fetch(`${server.baseUrl}${API_PATHS.task(queued.id)}`)).json(),
    ).task;
    const { port } = new URL(server.baseUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    const answers = answerReader(socket);
    try {
      // One plain GET, then a tagged long poll held until the task ends, on the same connection.
      const first = `GET ${API_PATHS.task(task.id)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
      socket.write(first);
      expect((await answers.next()).headers[REQUEST_BYTES_HEADER]).toBe(String(Buffer.byteLength(first)));

      const poll =
        `GET ${API_PATHS.events(task.id)}?after=${task.lastSeq}&waitMs=5000 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `${LAB_TAGS.laneHeader}: long-polling\r\n${LAB_TAGS.runHeader}: ${runId}\r\n\r\n`;
      socket.write(poll);
      let answered = false;
      const held = answers.next().then((answer) => {
        answered = true;
        return answer;
      });
      // The run's report is read while the poll is held (the ledger then reads open exchanges live);
      // the poll's own figure stays its request's bytes.
      await expect
        .poll(async () => (await fetch(`${server.baseUrl}${API_PATHS.wire(runId)}`)).status)
        .toBe(200);
      expect(answered, 'the poll was still held when its run was read').toBe(false);
      expect((await held).headers[REQUEST_BYTES_HEADER]).toBe(String(Buffer.byteLength(poll)));
    } finally {
      socket.destroy();
    }
  });

  it('serves liveness and Prometheus metrics', async () => {
    const health = await fetch(`${server.baseUrl}${API_PATHS.health}`);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'sqlite' });
    const metrics = await (await fetch(`${server.baseUrl}${API_PATHS.metrics}`)).text();
    expect(metrics).toMatch(/transport_lab_task_events_total\{type="succeeded"\} \d+/);
  });
});

/** Reads HTTP/1.1 answers with a Content-Length off a raw socket, one at a time, in order. */
function answerReader(socket: Socket) {
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  const more = () =>
    new Promise<void>((resolve, reject) => {
      wake = resolve;
      socket.once('close', () => reject(new Error('the connection closed before a whole answer')));
    });
  return {
    async next(): Promise<{ status: number; headers: Record<string, string>; body: string }> {
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end !== -1) {
          const [statusLine = '', ...lines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
          const headers = Object.fromEntries(
            lines.map((line) => {
              const colon = line.indexOf(':');
              return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
            }),
          );
          const length = Number(headers['content-length'] ?? 0);
          if (buffered.length >= end + 4 + length) {
            const body = buffered.subarray(end + 4, end + 4 + length).toString('utf8');
            buffered = buffered.subarray(end + 4 + length);
            return { status: Number(statusLine.split(' ')[1]), headers, body };
          }
        }
        await more();
      }
    },
  };
}
