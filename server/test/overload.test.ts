import {
  API_PATHS,
  type ErrorBody,
  ErrorEnvelope,
  HTTP_HEADERS,
  OverloadDetails,
  type OverloadReason,
  SOCKET_EVENTS,
  SSE,
  TaskEvent,
  TaskResponse,
  type TaskSpec,
} from '@transport-lab/shared';
import { createParser } from 'eventsource-parser';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.ts';
import {
  connectClient,
  EventCollector,
  emitAck,
  type LabClient,
  startTestServer,
  streamBreaches,
  type TestServer,
} from './harness.ts';
import { createTask } from './httpClients.ts';

/**
 * Issue 10, item 4: past what the server can serve truthfully, a new task is refused on every lane
 * (503 + Retry-After, or the socket ack's UNAVAILABLE), while the tasks already running finish with
 * every event.
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(env: Partial<Record<keyof Config, string>>): Promise<TestServer> {
  const started = await startTestServer(env);
  cleanups.push(() => started.close());
  return started;
}

async function client(baseUrl: string): Promise<{ socket: LabClient; seen: EventCollector }> {
  const socket = await connectClient(baseUrl);
  cleanups.push(() => void socket.disconnect());
  return { socket, seen: new EventCollector(socket) };
}

const post = (baseUrl: string, path: string, body: unknown) =>
  fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Checks one HTTP refusal: 503, Retry-After, and the envelope naming the reason. */
async function expectRefused(res: Response, reason: OverloadReason, retryAfterS: number): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe(String(retryAfterS));
  const { error } = ErrorEnvelope.parse(await res.json());
  expect(error.code).toBe('UNAVAILABLE');
  expect(OverloadDetails.parse(error.details)).toEqual({ reason, retryAfterS });
}

function expectRefusedAck(error: ErrorBody, reason: OverloadReason): void {
  expect(error.code).toBe('UNAVAILABLE');
  expect(OverloadDetails.parse(error.details).reason).toBe(reason);
}

/** Starts a task on the socket and follows it; resolves with its id. */
async function startOnSocket(socket: LabClient, spec: TaskSpec): Promise<string> {
  const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
  if (!ack.ok) throw new Error(`task:start refused: ${ack.error.code}`);
  return ack.task.id;
}

/** Follows a task on the socket from its first event (the ack's replay, then live). */
async function follow(socket: LabClient, taskId: string): Promise<TaskEvent[]> {
  const ack = await emitAck(socket, SOCKET_EVENTS.subscribe, { taskId, afterSeq: 0 });
  if (!ack.ok) throw new Error(`task:subscribe refused: ${ack.error.code}`);
  return ack.events;
}

/** Every event of the task once, in order: what one socket saw, merged with a replay. */
function merged(...lists: TaskEvent[][]): TaskEvent[] {
  const bySeq = new Map<number, TaskEvent>();
  for (const event of lists.flat()) bySeq.set(event.seq, event);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Lets the event loop turn (the in-process server with it) until `done()` holds; fails past `max`
 *  turns. What it waits for is the server's own count, not an amount of time. */
async function turnsUntil(done: () => boolean, max = 10_000): Promise<void> {
  for (let turn = 0; turn < max; turn++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`still not so after ${max} turns of the event loop`);
}

/** Busy-waits `ms`: nothing else runs in this process meanwhile, the in-process server included. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/** Holds the event loop busy in slices of `sliceMs`, yielding between them so that timers still fire
 *  (late), until `done()` holds or `maxSlices` have passed. */
async function busyUntil(done: () => boolean, sliceMs: number, maxSlices: number): Promise<void> {
  for (let slice = 0; slice < maxSlices && !done(); slice++) {
    stall(sliceMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('a server past MAX_RUNNING_TASKS', () => {
  it('refuses a new task on every lane with 503 + Retry-After (socket: UNAVAILABLE) while the running ones finish with every event', async () => {
    const { app, baseUrl } = await server({ MAX_RUNNING_TASKS: '2' });
    const { socket, seen } = await client(baseUrl);
    // Long enough that both are still running through the refusals below on a loaded 2-core
    // machine (at 600 ms they sometimes ended first, and the third task was rightly accepted).
    const spec: TaskSpec = { durationMs: 3_000, steps: 6 };

    const onSocket = await startOnSocket(socket, spec);
    const created = await createTask(baseUrl, { spec });
    expect(created.res.status).toBe(202);
    const onHttp = created.json.task.id;
    const replayed = await follow(socket, onHttp);
    expect(app.engine.runningCount).toBe(2);

    await expectRefused(await post(baseUrl, API_PATHS.tasks, { spec }), 'running-tasks', 2);
    await expectRefused(await post(baseUrl, API_PATHS.run, spec), 'running-tasks', 2);
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    expect(ack.ok).toBe(false);
    if (!ack.ok) expectRefusedAck(ack.error, 'running-tasks');
    expect(app.engine.runningCount).toBe(2); // the refusals created nothing

    const [socketTask, httpTask] = await Promise.all([seen.terminal(onSocket), seen.terminal(onHttp)]);
    expect(streamBreaches(socketTask, spec.steps)).toEqual([]);
    expect(streamBreaches(merged(replayed, httpTask), spec.steps)).toEqual([]);

    // Both ended: the cap frees, and a new task is accepted again.
    expect((await createTask(baseUrl, { spec })).res.status).toBe(202);
  });
});

describe('a server whose workers are busy (WORKERS, MAX_QUEUED_TASKS)', () => {
  it('queues tasks first in, first out with their place on every lane, and past the queue bound refuses with 503 + Retry-After (socket: UNAVAILABLE)', async () => {
    const { app, baseUrl } = await server({ WORKERS: '1', MAX_QUEUED_TASKS: '2' });
    const { socket, seen } = await client(baseUrl);
    const spec: TaskSpec = { durationMs: 600, steps: 2 };
    // The first task holds the worker until the test cancels it, so that the queue stays full through
    // the refusals however slow the machine (a 600 ms first task sometimes ended before them on a
    // loaded CI machine, a place freed, and a refused POST would have been queued).
    const blocker: TaskSpec = { durationMs: 120_000, steps: 1 };

    // One worker: the first task runs, the next two wait, each told its place.
    const running = await createTask(baseUrl, { spec: blocker });
    expect(running.json.task.queuePosition).toBeUndefined();
    const queuedOnHttp = await createTask(baseUrl, { spec });
    expect(queuedOnHttp.res.status).toBe(202);
    expect(queuedOnHttp.json.task).toMatchObject({ status: 'queued', queuePosition: 1 });
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    if (!ack.ok) throw new Error(`task:start refused: ${ack.error.code}`);
    expect(ack.task).toMatchObject({ status: 'queued', queuePosition: 2 });
    expect(app.engine.queuedCount).toBe(2);

    // The queue is full: every lane is refused, and nothing is created.
    await expectRefused(await post(baseUrl, API_PATHS.tasks, { spec }), 'queue-full', 2);
    await expectRefused(await post(baseUrl, API_PATHS.run, spec), 'queue-full', 2);
    const refused = await emitAck(socket, SOCKET_EVENTS.start, spec);
    if (refused.ok) throw new Error('task:start was accepted past MAX_QUEUED_TASKS');
    expectRefusedAck(refused.error, 'queue-full');
    expect(app.engine.runningCount).toBe(3);
    expect(app.engine.queuedCount).toBe(2);
    expect((await post(baseUrl, API_PATHS.cancel(running.json.task.id), {})).status).toBe(200);

    // The socket's task: its queued event carries its place; it starts only after the HTTP one, which
    // started only after the first had ended (first in, first out on one worker).
    const socketEvents = await seen.terminal(ack.task.id);
    expect(socketEvents[0]).toMatchObject({ type: 'queued', position: 2 });
    expect(streamBreaches(socketEvents, spec.steps)).toEqual([]);
    const [first, second, third] = await Promise.all(
      [running.json.task.id, queuedOnHttp.json.task.id, ack.task.id].map((id) => app.engine.getOrThrow(id)),
    );
    expect(second?.startedAt).toBeGreaterThanOrEqual(first?.finishedAt ?? Number.POSITIVE_INFINITY);
    expect(third?.startedAt).toBeGreaterThanOrEqual(second?.finishedAt ?? Number.POSITIVE_INFINITY);
    // The stored log says when each was queued and when it started: its queue time.
    const log = await app.engine.eventsAfter(third?.id as string, 0);
    expect(log[0]).toMatchObject({ type: 'queued', at: third?.createdAt, position: 2 });
    expect(log[1]).toMatchObject({ type: 'started', at: third?.startedAt });
    // The queue emptied: a new task is accepted again.
    expect((await createTask(baseUrl, { spec })).res.status).toBe(202);
  });

  it('changes a queued task’s ETag when its place moves, so a short poll sees it move with no event of its own', async () => {
    const { baseUrl } = await server({ WORKERS: '1' });
    const spec: TaskSpec = { durationMs: 10_000, steps: 1 };
    const running = (await createTask(baseUrl, { spec })).json.task;
    const ahead = (await createTask(baseUrl, { spec })).json.task;
    const behind = (await createTask(baseUrl, { spec })).json.task;
    const url = `${baseUrl}${API_PATHS.task(behind.id)}`;
    const first = await fetch(url);
    const etag = first.headers.get('etag') as string;
    expect(TaskResponse.parse(await first.json()).task.queuePosition).toBe(2);
    expect((await fetch(url, { headers: { [HTTP_HEADERS.ifNoneMatch]: etag } })).status).toBe(304);
    // The task ahead leaves the queue: this one moves up, its seq unchanged.
    expect((await post(baseUrl, API_PATHS.cancel(ahead.id), {})).status).toBe(200);
    const moved = await fetch(url, { headers: { [HTTP_HEADERS.ifNoneMatch]: etag } });
    expect(moved.status).toBe(200);
    const { task } = TaskResponse.parse(await moved.json());
    expect([task.lastSeq, task.queuePosition]).toEqual([1, 1]);
    for (const id of [running.id, behind.id]) await post(baseUrl, API_PATHS.cancel(id), {});
  });

  it("gives a run with a busy backend its own workers and backlog, leaving other runs' tasks unqueued", async () => {
    const { baseUrl } = await server({});
    const runId = 'run-busy0001';
    const fault = await post(baseUrl, '/api/faults', {
      kind: 'busy-backend',
      runId,
      workers: 2,
      backlog: 3,
      backlogTaskMs: 5_000,
    });
    expect(fault.status).toBe(201);
    const tagged = { 'x-lab-lane': 'short-polling', 'x-lab-run': runId };
    const spec: TaskSpec = { durationMs: 100, steps: 1 };
    // Behind the backlog: 2 of it run, 1 waits, so this one is 2nd in the run's queue.
    const own = await createTask(baseUrl, { spec }, tagged);
    expect(own.json.task).toMatchObject({ status: 'queued', queuePosition: 2 });
    // Another run's task takes one of the process's workers at once.
    const other = await createTask(
      baseUrl,
      { spec },
      { 'x-lab-lane': 'short-polling', 'x-lab-run': 'run-other001' },
    );
    expect(other.json.task.queuePosition).toBeUndefined();
    // Once per run.
    const again = await post(baseUrl, '/api/faults', {
      kind: 'busy-backend',
      runId,
      workers: 2,
      backlog: 0,
      backlogTaskMs: 1,
    });
    expect(again.status).toBe(409);
  });
});

describe('a server past MAX_OPEN_STREAMS', () => {
  it('counts SSE streams, held long polls and sockets, and refuses new tasks while they are at the cap', async () => {
    const { app, baseUrl } = await server({ MAX_OPEN_STREAMS: '3' });
    const { socket } = await client(baseUrl); // one socket.io connection: 1 open stream
    // A task whose next step is a minute away, so that no stream the test holds ends by the clock
    // while the refusals are checked (a short task's next step released the held long poll, or its
    // end closed the SSE stream, before a POST on a loaded CI machine, and the POST was admitted).
    // The test ends it by cancelling it.
    const held: TaskSpec = { durationMs: 120_000, steps: 2 };
    const spec: TaskSpec = { durationMs: 800, steps: 4 };
    const { json } = await createTask(baseUrl, { spec: held });
    const id = json.task.id;

    // An SSE stream (2), read until the task's `started` event: after it nothing comes for a minute.
    // The long poll below is held after the last event published; read before `started` was (its
    // commit waits for the store's spacing, ≤ 5 ms, longer on a loaded machine), it was `queued`,
    // and `started` released the poll before the POSTs below, which were then rightly admitted.
    const sse = await fetch(`${baseUrl}${API_PATHS.stream(id)}?after=0`);
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"type":"started"')) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the SSE stream ended before the task started: ${text}`);
      text += decoder.decode(chunk.value, { stream: true });
    }
    expect(app.admission.status().openStreams).toBe(2);

    // A long poll held after the last event (3): the refusal comes while it is held.
    const lastSeq = (await app.engine.getOrThrow(id)).lastSeq;
    expect(lastSeq).toBe(2);
    const longPoll = fetch(`${baseUrl}${API_PATHS.events(id)}?after=${lastSeq}&waitMs=30000`);
    await turnsUntil(() => app.admission.status().openStreams === 3);
    await expectRefused(await post(baseUrl, API_PATHS.tasks, { spec }), 'open-streams', 2);
    await expectRefused(await post(baseUrl, API_PATHS.run, spec), 'open-streams', 2);
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    if (ack.ok) throw new Error('task:start was accepted past MAX_OPEN_STREAMS');
    expectRefusedAck(ack.error, 'open-streams');
    expect(app.admission.status().openStreams).toBe(3);

    // Cancelling the running task releases the held long poll and ends its SSE stream, each with
    // every event once.
    expect((await post(baseUrl, API_PATHS.cancel(id), {})).status).toBe(200);
    const released = await longPoll;
    expect(released.status).toBe(200);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      text += decoder.decode(chunk.value, { stream: true });
    }
    const events: TaskEvent[] = [];
    createParser({
      onEvent: (message) => {
        if (message.event !== SSE.wireEvent) events.push(TaskEvent.parse(JSON.parse(message.data)));
      },
    }).feed(text);
    expect(streamBreaches(events, held.steps)).toEqual([]);
    expect(events.at(-1)?.type).toBe('cancelled');
    expect(app.admission.status().openStreams).toBe(1); // the socket alone
    expect((await createTask(baseUrl, { spec })).res.status).toBe(202);
  });
});

describe('a server whose event loop is late', () => {
  it('refuses new tasks once two windows in a row were late, lets running tasks finish, and accepts again after a quiet window', async () => {
    const { app, baseUrl } = await server({ MAX_EVENT_LOOP_DELAY_MS: '150' });
    const { socket, seen } = await client(baseUrl);

    // One stall alone is a pause (a GC, an import), not overload: at most one window is late for it,
    // and nothing is refused.
    stall(300);
    const windows = [await app.admission.nextWindow(), await app.admission.nextWindow()];
    expect(windows.map((w) => w.refusing)).toEqual([undefined, undefined]);
    expect(Math.max(...windows.map((w) => w.lateWindows))).toBeLessThanOrEqual(1);

    const spec: TaskSpec = { durationMs: 3_000, steps: 6 };
    const running = await startOnSocket(socket, spec);
    // 300 ms slices: every sample of the loop-delay monitor comes ≈ 300 ms late (bound: 150 ms).
    await busyUntil(() => app.admission.status().refusing !== undefined, 300, 40);
    expect(app.admission.status()).toMatchObject({ refusing: 'event-loop-delay' });
    expect(app.admission.status().lateWindows).toBeGreaterThanOrEqual(2);

    await expectRefused(await post(baseUrl, API_PATHS.tasks, { spec }), 'event-loop-delay', 1);
    await expectRefused(await post(baseUrl, API_PATHS.run, spec), 'event-loop-delay', 1);
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    if (ack.ok) throw new Error('task:start was accepted while the loop was late');
    expectRefusedAck(ack.error, 'event-loop-delay');

    // Quiet now: the window the block ended in may still be late; the next one is not.
    let status = await app.admission.nextWindow();
    if (status.refusing) status = await app.admission.nextWindow();
    expect(status.refusing).toBeUndefined();
    expect((await createTask(baseUrl, { spec: { durationMs: 0, steps: 1 } })).res.status).toBe(202);

    const events = await seen.terminal(running);
    expect(streamBreaches(events, spec.steps)).toEqual([]);
    expect(events.at(-1)?.type).toBe('succeeded');
  });
});
