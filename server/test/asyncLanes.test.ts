import { request } from 'node:http';
import {
  API_PATHS,
  chunkBytes,
  ErrorEnvelope,
  EventsResponse,
  HTTP_HEADERS,
  isTerminalEvent,
  LAST_CHUNK_BYTES,
  labTagHeaders,
  SSE,
  SSE_PREAMBLE_BYTES,
  sseMessageBytes,
  type TaskEvent,
  TaskResponse,
} from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, streamBreaches, type TestServer } from './harness.ts';
import { countingProxy, createTask, longPollToEnd, readSse, shortPollToEnd } from './httpClients.ts';
import { newRunId } from './wireHarness.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ POLL_INTERVAL_MS: '1500' });
});

afterAll(async () => {
  await server.close();
});

/** An asynchronous push lane, driven by its real client from a task id and a cursor. */
interface FollowLane {
  /** Every event after `after` until the terminal one. */
  follow(id: string, after: number): Promise<TaskEvent[]>;
}

const longPolling: FollowLane = {
  async follow(id, after) {
    return (await longPollToEnd(server.baseUrl, id, after)).events;
  },
};

const sse: FollowLane & {
  followWithDrop(id: string, dropAfter: number): Promise<{ events: TaskEvent[]; reconnects: number }>;
} = {
  async follow(id, after) {
    const read = await readSse(server.baseUrl, id, { after });
    expect(read.endedByServer).toBe(true);
    return read.events;
  },
  async followWithDrop(id, dropAfter) {
    const first = await readSse(server.baseUrl, id, { stopAfter: dropAfter });
    expect(first.endedByServer).toBe(false);
    const resumed = await readSse(server.baseUrl, id, { lastEventId: first.ids.at(-1) ?? '0' });
    return { events: [...first.events, ...resumed.events], reconnects: 1 };
  },
};

describe.each([
  ['long polling', longPolling],
  ['Server-Sent Events', sse],
] as const)('%s after POST /api/tasks', (_name, lane) => {
  it('delivers every event once, in seq order, with one terminal event last', async () => {
    const { res, json } = await createTask(server.baseUrl, { spec: { durationMs: 300, steps: 6 } });
    expect(res.status).toBe(202);
    const events = await lane.follow(json.task.id, 0);
    expect(streamBreaches(events, 6)).toEqual([]);
    expect(events.at(-1)?.type).toBe('succeeded');
  });

  it('ends with one cancelled event when the task is cancelled midway', async () => {
    const { json } = await createTask(server.baseUrl, { spec: { durationMs: 3_000, steps: 30 } });
    const following = lane.follow(json.task.id, 0);
    const cancel = await fetch(`${server.baseUrl}${API_PATHS.cancel(json.task.id)}`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    const events = await following;
    expect(events.filter(isTerminalEvent).map((e) => e.type)).toEqual(['cancelled']);
    expect(streamBreaches(events, 30)).toEqual([]);
  });

  it('reports a failed task once, at its failAtStep', async () => {
    const { json } = await createTask(server.baseUrl, { spec: { durationMs: 100, steps: 4, failAtStep: 2 } });
    const events = await lane.follow(json.task.id, 0);
    expect(events.filter(isTerminalEvent).map((e) => e.type)).toEqual(['failed']);
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(1);
  });
});

describe('resuming after a forced disconnect mid-task', () => {
  it('SSE resumes from Last-Event-ID: every event once across the two connections', async () => {
    const { json } = await createTask(server.baseUrl, { spec: { durationMs: 600, steps: 12 } });
    const { events, reconnects } = await sse.followWithDrop(json.task.id, 5);
    expect(reconnects).toBe(1);
    expect(streamBreaches(events, 12)).toEqual([]);
  });

  it('long polling resumes from its cursor after a held poll is dropped: nothing lost or repeated', async () => {
    const { json } = await createTask(server.baseUrl, { spec: { durationMs: 2_000, steps: 4 } });
    const id = json.task.id;
    const first = await fetch(`${server.baseUrl}${API_PATHS.events(id)}?after=0&waitMs=0`);
    const got = (await first.json()) as { events: TaskEvent[]; nextAfter: number };
    // The next poll is held (no step is due for ~500 ms); the network drops it midway.
    const dropped = new AbortController();
    const held = fetch(`${server.baseUrl}${API_PATHS.events(id)}?after=${got.nextAfter}&waitMs=20000`, {
      signal: dropped.signal,
    }).catch((error: unknown) => error);
    dropped.abort();
    expect(await held).toMatchObject({ name: 'AbortError' });
    const rest = await longPollToEnd(server.baseUrl, id, got.nextAfter);
    expect(streamBreaches([...got.events, ...rest.events], 4)).toEqual([]);
  });
});

describe('short polling', () => {
  it('answers 202 with Location and Retry-After, then ETag polls end in the final state with 304s between', async () => {
    const { res, json } = await createTask(server.baseUrl, { spec: { durationMs: 400, steps: 4 } });
    expect(res.status).toBe(202);
    expect(res.headers.get(HTTP_HEADERS.location)).toBe(API_PATHS.task(json.task.id));
    expect(res.headers.get(HTTP_HEADERS.retryAfter)).toBe('2'); // 1 500 ms, rounded up to whole seconds
    expect(json.task.status).toBe('queued');
    const { states, notModified } = await shortPollToEnd(server.baseUrl, API_PATHS.task(json.task.id), 20);
    expect(states.at(-1)).toMatchObject({ status: 'succeeded', step: 4, percent: 100 });
    // Each state seen is newer than the one before: a 304 stands for every poll that brought nothing.
    for (let i = 1; i < states.length; i++) {
      expect(states[i]?.lastSeq).toBeGreaterThan(states[i - 1]?.lastSeq ?? 0);
    }
    expect(notModified).toBeGreaterThan(0);
  });
});

describe('Idempotency-Key on POST /api/tasks', () => {
  const body = { spec: { durationMs: 50, steps: 1 } };

  it('replays the first answer for the same key and body, and creates nothing more', async () => {
    let created = 0;
    const off = server.app.engine.onEvent((event) => {
      if (event.type === 'queued') created++;
    });
    const key = `key-${crypto.randomUUID()}`;
    const first = await createTask(server.baseUrl, body, { [HTTP_HEADERS.idempotencyKey]: key });
    const again = await createTask(server.baseUrl, body, { [HTTP_HEADERS.idempotencyKey]: key });
    off();
    expect(again.res.status).toBe(first.res.status);
    expect(again.json).toEqual(first.json);
    expect(again.res.headers.get(HTTP_HEADERS.location)).toBe(first.res.headers.get(HTTP_HEADERS.location));
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    expect(created).toBe(1);
  });

  it('answers 422 for the same key with another body', async () => {
    const key = `key-${crypto.randomUUID()}`;
    await createTask(server.baseUrl, body, { [HTTP_HEADERS.idempotencyKey]: key });
    const res = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HTTP_HEADERS.idempotencyKey]: key },
      body: JSON.stringify({ spec: { durationMs: 51, steps: 1 } }),
    });
    expect(res.status).toBe(422);
    expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('answers 409 while the first request with the key is still being handled', async () => {
    const key = `key-${crypto.randomUUID()}`;
    const headers = { [HTTP_HEADERS.idempotencyKey]: key, [HTTP_HEADERS.prefer]: 'respond-async, wait=5' };
    const slow = { spec: { durationMs: 400, steps: 2 } };
    // The first is held by its Prefer wait; once the server has its task, the second arrives.
    const queued = new Promise<void>((resolve) => {
      const off = server.app.engine.onEvent((event) => {
        if (event.type === 'queued') {
          off();
          resolve();
        }
      });
    });
    const first = createTask(server.baseUrl, slow, headers);
    await queued;
    const res = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(slow),
    });
    expect(res.status).toBe(409);
    expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('IDEMPOTENCY_KEY_IN_USE');
    expect((await first).res.status).toBe(200);
  });

  it('refuses a malformed key with 400 and releases a key whose request failed', async () => {
    const bad = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HTTP_HEADERS.idempotencyKey]: 'a b' },
      body: JSON.stringify(body),
    });
    expect(bad.status).toBe(400);
    const key = `key-${crypto.randomUUID()}`;
    const invalid = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HTTP_HEADERS.idempotencyKey]: key },
      body: JSON.stringify({ spec: { durationMs: -1, steps: 1 } }),
    });
    expect(invalid.status).toBe(400);
    const corrected = await createTask(server.baseUrl, body, { [HTTP_HEADERS.idempotencyKey]: key });
    expect(corrected.res.status).toBe(202);
  });
});

describe('Idempotency-Key is scoped to its client', () => {
  /** A create whose answer carries a generated webhook secret: what a replay must not hand to anyone else. */
  const body = () => ({
    spec: { durationMs: 0, steps: 1 },
    webhook: { url: server.app.receiver.urls()?.webhookUrl ?? '' },
  });
  const asRun = (runId: string, key: string) => ({
    ...labTagHeaders({ lane: 'webhook', runId }),
    [HTTP_HEADERS.idempotencyKey]: key,
  });

  it('gives another run with the same key and body its own new task, and each run its own replay', async () => {
    const key = `key-${crypto.randomUUID()}`;
    const [runA, runB] = [newRunId(), newRunId()];
    const a = await createTask(server.baseUrl, body(), asRun(runA, key));
    const b = await createTask(server.baseUrl, body(), asRun(runB, key));
    expect([a.res.status, b.res.status]).toEqual([202, 202]);
    expect(a.json.webhook?.secret).toMatch(/^whsec_/);
    // B did not get A's answer: not a replay, another task, another secret.
    expect(b.res.headers.get('idempotent-replayed')).toBeNull();
    expect(b.json.task.id).not.toBe(a.json.task.id);
    expect(b.json.webhook?.secret).toMatch(/^whsec_/);
    expect(b.json.webhook?.secret).not.toBe(a.json.webhook?.secret);
    // Each replays its own.
    const aAgain = await createTask(server.baseUrl, body(), asRun(runA, key));
    const bAgain = await createTask(server.baseUrl, body(), asRun(runB, key));
    expect(aAgain.res.headers.get('idempotent-replayed')).toBe('true');
    expect(aAgain.json).toEqual(a.json);
    expect(bAgain.res.headers.get('idempotent-replayed')).toBe('true');
    expect(bAgain.json).toEqual(b.json);
  });

  it('keeps the draft’s rules within a scope: another body is 422 for the run that used the key, not for another run', async () => {
    const key = `key-${crypto.randomUUID()}`;
    const [runA, runB] = [newRunId(), newRunId()];
    await createTask(server.baseUrl, body(), asRun(runA, key));
    const other = { spec: { durationMs: 1, steps: 1 } };
    const sameRun = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asRun(runA, key) },
      body: JSON.stringify(other),
    });
    expect(sameRun.status).toBe(422);
    expect(ErrorEnvelope.parse(await sameRun.json()).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const otherRun = await createTask(server.baseUrl, other, asRun(runB, key));
    expect(otherRun.res.status).toBe(202);
  });

  it('scopes an untagged client by its address: 127.0.0.2 does not replay 127.0.0.1’s answer', async () => {
    const key = `key-${crypto.randomUUID()}`;
    const payload = JSON.stringify(body());
    const postFrom = (localAddress: string) =>
      new Promise<{
        replayed: string | undefined;
        json: { task: { id: string }; webhook?: { secret?: string } };
      }>((resolve, reject) => {
        const req = request(
          `${server.baseUrl}${API_PATHS.tasks}`,
          {
            method: 'POST',
            localAddress,
            agent: false,
            headers: { 'content-type': 'application/json', [HTTP_HEADERS.idempotencyKey]: key },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              text += chunk;
            });
            res.on('end', () =>
              resolve({
                replayed: res.headers['idempotent-replayed'] as string | undefined,
                json: JSON.parse(text),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    const first = await postFrom('127.0.0.1');
    const elsewhere = await postFrom('127.0.0.2');
    const again = await postFrom('127.0.0.1');
    expect(elsewhere.replayed).toBeUndefined();
    expect(elsewhere.json.task.id).not.toBe(first.json.task.id);
    expect(elsewhere.json.webhook?.secret).not.toBe(first.json.webhook?.secret);
    expect(again.replayed).toBe('true');
    expect(again.json).toEqual(first.json);
  });
});

describe('hybrid: Prefer: respond-async, wait=N', () => {
  it('answers 200 with the final state and Preference-Applied: wait=N when the task ends in time', async () => {
    const { res, json } = await createTask(
      server.baseUrl,
      { spec: { durationMs: 100, steps: 2, resultBytes: 10 } },
      { [HTTP_HEADERS.prefer]: 'respond-async, wait=2' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get(HTTP_HEADERS.preferenceApplied)).toBe('wait=2');
    expect(json.task).toMatchObject({ status: 'succeeded', result: { steps: 2 } });
    expect(json.task.result?.payload).toHaveLength(10);
  });

  it('answers 202 with Preference-Applied: respond-async past N, and SSE follows it to the end losing nothing', async () => {
    const { res, json } = await createTask(
      server.baseUrl,
      { spec: { durationMs: 1_600, steps: 8 } },
      { [HTTP_HEADERS.prefer]: 'respond-async, wait=1' },
    );
    expect(res.status).toBe(202);
    expect(res.headers.get(HTTP_HEADERS.preferenceApplied)).toBe('respond-async');
    expect(json.task.status).toBe('running');
    // The client has everything up to the 202's lastSeq from its state; it streams the rest.
    const read = await readSse(server.baseUrl, json.task.id, { after: json.task.lastSeq });
    expect(read.events[0]?.seq).toBe(json.task.lastSeq + 1);
    const all = await server.app.engine.eventsAfter(json.task.id, 0);
    expect(read.events).toEqual(all.slice(json.task.lastSeq));
    expect(all.at(-1)?.type).toBe('succeeded');
  });

  it('ignores malformed preferences rather than failing (RFC 7240 §2)', async () => {
    const { res } = await createTask(
      server.baseUrl,
      { spec: { durationMs: 0, steps: 1 } },
      { [HTTP_HEADERS.prefer]: 'wait=soon, respond-async;;, =x' },
    );
    expect(res.status).toBe(202);
    expect(res.headers.get(HTTP_HEADERS.preferenceApplied)).toBe('respond-async');
  });
});

describe('the SSE stream itself', () => {
  it('is an uncompressed, unbuffered event stream with a retry hint and seq ids', async () => {
    const { json } = await createTask(server.baseUrl, { spec: { durationMs: 50, steps: 2 } });
    const read = await readSse(server.baseUrl, json.task.id);
    expect(read.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(read.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(read.headers.get('x-accel-buffering')).toBe('no');
    expect(read.headers.get('content-encoding')).toBeNull();
    expect(read.retryMs).toBeGreaterThan(0);
    expect(read.ids).toEqual(read.events.map((e) => String(e.seq)));
  });

  it('carries exactly the bytes the shared framing arithmetic counts, chunks included, on the wire', async () => {
    // A TCP proxy counts what really crosses the wire; the page's arithmetic must land on it.
    const proxy = await countingProxy(server.baseUrl);
    try {
      const { json } = await createTask(server.baseUrl, {
        spec: { durationMs: 30, steps: 3, resultBytes: 200 },
      });
      const read = await readSse(proxy.url, json.task.id, { after: 0 });
      expect(read.endedByServer).toBe(true);
      await proxy.settled();
      const events = await server.app.engine.eventsAfter(json.task.id, 0);
      expect(read.events).toEqual(events);
      const wire = read.wire;
      if (!wire || !read.wireMessage) throw new Error('no wire message on the stream');
      // What the page can add up: its own request and the answer's head (reported by the server),
      // then every message it saw framed and chunked, the opening retry hint, and the last chunk.
      const messages = [
        SSE_PREAMBLE_BYTES,
        sseMessageBytes({ data: read.wireMessage.data, lastEventId: '', type: SSE.wireEvent }),
        ...events.map((event) =>
          sseMessageBytes({ data: JSON.stringify(event), lastEventId: String(event.seq) }),
        ),
      ];
      const down =
        wire.responseHeadBytes +
        messages.reduce((sum, bytes) => sum + chunkBytes(bytes), 0) +
        LAST_CHUNK_BYTES;
      expect(wire.requestBytes).toBe(proxy.bytesUp());
      expect(down).toBe(proxy.bytesDown());
    } finally {
      await proxy.close();
    }
  });

  it('answers 204 to a reconnect after the end, and 400 to a malformed Last-Event-ID', async () => {
    const { json } = await createTask(server.baseUrl, { spec: { durationMs: 0, steps: 1 } });
    const all = await readSse(server.baseUrl, json.task.id);
    const again = await readSse(server.baseUrl, json.task.id, { lastEventId: all.ids.at(-1) ?? '' });
    expect(again.status).toBe(204);
    const bad = await fetch(`${server.baseUrl}${API_PATHS.stream(json.task.id)}`, {
      headers: { [HTTP_HEADERS.lastEventId]: 'seven' },
    });
    expect(bad.status).toBe(400);
  });
});

describe('the long poll itself', () => {
  it('holds up to waitMs, then answers no events with the cursor unchanged', async () => {
    const { json } = await createTask(server.baseUrl, { spec: { durationMs: 10_000, steps: 2 } });
    // Its first step is 5 s away: once `started` (seq 2) is in, nothing comes for a while.
    const startedPoll = await fetch(`${server.baseUrl}${API_PATHS.events(json.task.id)}?after=1&waitMs=5000`);
    expect(EventsResponse.parse(await startedPoll.json()).events.map((e) => e.type)).toEqual(['started']);
    const task = TaskResponse.parse(
      await (await fetch(`${server.baseUrl}${API_PATHS.task(json.task.id)}`)).json(),
    ).task;
    expect(task.lastSeq).toBe(2);
    const started = performance.now();
    const res = await fetch(
      `${server.baseUrl}${API_PATHS.events(json.task.id)}?after=${task.lastSeq}&waitMs=200`,
    );
    const elapsed = performance.now() - started;
    expect(await res.json()).toEqual({ events: [], nextAfter: task.lastSeq });
    expect(elapsed).toBeGreaterThanOrEqual(195); // it was held, not answered at once
    await fetch(`${server.baseUrl}${API_PATHS.cancel(json.task.id)}`, { method: 'POST' });
  });

  it('refuses a waitMs over 30 000 and an unknown task with the envelope', async () => {
    const { json } = await createTask(server.baseUrl, { spec: { durationMs: 0, steps: 1 } });
    const tooLong = await fetch(`${server.baseUrl}${API_PATHS.events(json.task.id)}?waitMs=30001`);
    expect(tooLong.status).toBe(400);
    const unknown = await fetch(`${server.baseUrl}${API_PATHS.events('no-such-task')}`);
    expect(unknown.status).toBe(404);
  });
});
