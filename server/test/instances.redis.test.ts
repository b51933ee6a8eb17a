import { performance } from 'node:perf_hooks';
import {
  API_PATHS,
  EventsResponse,
  HTTP_STREAMING,
  isTerminalEvent,
  labTagHeaders,
  SOCKET_EVENTS,
  SSE,
  TaskEvent,
  TaskResponse,
  type TaskState,
} from '@transport-lab/shared';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { EventCollector, emitAck, streamBreaches } from './harness.ts';
import { createTask, shortPollToEnd } from './httpClients.ts';
import { serversOnOneRedis } from './redisServers.ts';
import { switchableProxy } from './switchableProxy.ts';

/**
 * Two instances on one Redis (issue 14): same REDIS_URL and REDIS_PREFIX, each its own DATA_DIR, in
 * this process. A task created through A runs on A; every lane of B must show it live (an event
 * reaches B's client before the task has ended on A), every event once and in order. And
 * socket.io's rooms span both (its Redis Streams adapter). In CI these fail when no Redis answers.
 */
describe('two instances on one Redis', () => {
  const { server, client, cleanup } = serversOnOneRedis();

  /** Instances A and B, and a socket behind a balancer (one address for the client; a test moves it
   *  from A to B) that started a task on A of 16 steps, 100 ms apart (several are broadcast while the
   *  socket is away), two of which it has seen. */
  async function socketTaskOnA() {
    const a = await server();
    const b = await server();
    const balancer = await switchableProxy(a.baseUrl);
    cleanup(() => balancer.close());
    const socket = await client(balancer.url);
    const seen = new EventCollector(socket);
    const ack = await emitAck(socket, SOCKET_EVENTS.start, { durationMs: 1_600, steps: 16 });
    if (!ack.ok) throw new Error(ack.error.message);
    const id = ack.task.id;
    await seen.until(id, (events) => events.filter((e) => e.type === 'progress').length >= 2);
    return { a, b, balancer, socket, seen, id };
  }

  it('serve a task run on A through every lane of B, live, each event once and in order', async () => {
    const a = await server();
    const b = await server();
    const steps = 12;
    const { res, json } = await createTask(a.baseUrl, { spec: { durationMs: 1_800, steps } });
    expect(res.status).toBe(202);
    const id = json.task.id;
    expect(a.app.engine.runsHere(id)).toBe(true);
    expect(b.app.engine.runsHere(id)).toBe(false);
    // When A published the task's end, on this process's clock (both instances live here).
    let endedOnA = Number.POSITIVE_INFINITY;
    const offA = a.app.engine.onTaskEvent(id, (event) => {
      if (isTerminalEvent(event)) endedOnA = performance.now();
    });
    cleanup(offA);
    /** When each lane's client on B first got something of the run before its end. */
    const firstLive: Record<string, number> = {};
    const live = (lane: string) => (event: TaskEvent) => {
      if (event.type === 'progress') firstLive[lane] ??= performance.now();
    };

    const socket = await client(b.baseUrl);
    const pushed = new EventCollector(socket);
    socket.on(SOCKET_EVENTS.event, live('websocket'));
    const subscribed = await emitAck(socket, SOCKET_EVENTS.subscribe, { taskId: id, afterSeq: 0 });
    if (!subscribed.ok) throw new Error(subscribed.error.message);

    const shortPolled: TaskState[] = [];
    const [longPolled, sse, ndjson, , waited] = await Promise.all([
      longPollLive(b.baseUrl, id, live('long-polling')),
      readSseLive(b.baseUrl, id, live('sse')),
      readNdjsonLive(`${b.baseUrl}${HTTP_STREAMING.path(id)}?after=0`, live('http-streaming')),
      shortPollToEnd(b.baseUrl, API_PATHS.task(id), 100, {
        onState: (state) => {
          shortPolled.push(state);
          if (state.status === 'running' && state.step > 0) firstLive['short-polling'] ??= performance.now();
        },
      }),
      b.app.engine.waitForEnd(id, 10_000),
      pushed.terminal(id),
    ]);

    // Every event once, in order, on each lane that carries events.
    for (const [lane, events] of [
      ['long-polling', longPolled],
      ['sse', sse],
      ['http-streaming', ndjson],
    ] as const) {
      expect(streamBreaches(events, steps), lane).toEqual([]);
      expect(events, lane).toHaveLength(steps + 3);
    }
    // The websocket lane: pushed events once each, in order; with the ack's catch-up, every event.
    const pushedSeqs = pushed.events(id).map((event) => event.seq);
    expect(pushedSeqs).toEqual([...new Set(pushedSeqs)].sort((x, y) => x - y));
    const merged = new Map<number, TaskEvent>();
    for (const event of [...subscribed.events, ...pushed.events(id)]) merged.set(event.seq, event);
    expect(
      streamBreaches(
        [...merged.values()].sort((x, y) => x.seq - y.seq),
        steps,
      ),
    ).toEqual([]);
    expect(merged.size).toBe(steps + 3);
    // Short polling: the state moves forward only, through the steps of the run (folded from the
    // log on B), and ends in the final state.
    const seqs = shortPolled.map((state) => state.lastSeq);
    expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
    expect(shortPolled.at(-1)).toMatchObject({ status: 'succeeded', step: steps, lastSeq: steps + 3 });
    // waitForEnd on B: the end, with the final state.
    expect(waited).toMatchObject({
      ended: true,
      task: { status: 'succeeded', step: steps, lastSeq: steps + 3 },
    });

    // Live, not after the fact: each lane's client on B had a step of the run before A ended it.
    for (const lane of ['websocket', 'long-polling', 'sse', 'http-streaming', 'short-polling']) {
      expect(firstLive[lane], lane).toBeLessThan(endedOnA);
    }
  });

  it('recover a socket dropped from A onto B, which replays what it missed, each event once', async () => {
    const { a, b, balancer, socket, seen, id } = await socketTaskOnA();
    expect(a.app.engine.runsHere(id)).toBe(true);

    // A keeps the session in Redis when it sees the transport go; only then may the client reach B.
    const onA = [...a.app.io.of('/').sockets.values()][0];
    const goneFromA = new Promise<void>((resolve) => onA?.once('disconnect', () => resolve()));
    const reconnected = new Promise<boolean>((resolve) =>
      socket.once('connect', () => resolve(socket.recovered)),
    );
    balancer.hold();
    balancer.cut();
    await goneFromA;
    balancer.release(b.baseUrl);
    expect(await reconnected).toBe(true);
    expect(b.app.io.of('/').sockets.size).toBe(1);
    expect(a.app.io.of('/').sockets.size).toBe(0);

    const events = await seen.terminal(id);
    expect(streamBreaches(events, 16)).toEqual([]);
    expect(events).toHaveLength(16 + 3);
  });

  it('cancel through B a task A runs: A cancels it, and B answers with its cancelled state', async () => {
    const a = await server();
    const b = await server();
    // A phone behind a proxy on this machine (not the operator), its task tagged with its run.
    const phone = { 'x-forwarded-for': '203.0.113.9' };
    const tag = { lane: 'short-polling', runId: 'run-of-the-phone-0001' } as const;
    const { json } = await createTask(
      a.baseUrl,
      { spec: { durationMs: 10_000, steps: 10 } },
      { ...phone, ...labTagHeaders(tag) },
    );
    const id = json.task.id;
    expect(a.app.engine.runsHere(id)).toBe(true);
    // The run tags are shared on Redis: B knows whose the task is. Another run is refused there…
    const stranger = await fetch(`${b.baseUrl}${API_PATHS.cancel(id)}`, {
      method: 'POST',
      headers: { ...phone, ...labTagHeaders({ ...tag, runId: 'run-of-someone-else-02' }) },
    });
    expect(stranger.status).toBe(403);
    // …and the task's own run may cancel it through B.
    const res = await fetch(`${b.baseUrl}${API_PATHS.cancel(id)}`, {
      method: 'POST',
      headers: { ...phone, ...labTagHeaders(tag) },
    });
    expect(res.status).toBe(200);
    const { task } = TaskResponse.parse(await res.json());
    expect(task).toMatchObject({ id, status: 'cancelled' });
    // A publishes its own end once its write has settled, a moment after B read it from the log.
    expect(await a.app.engine.waitForEnd(id, 5_000)).toMatchObject({
      ended: true,
      task: { status: 'cancelled', lastSeq: task.lastSeq },
    });
    // Again: it has ended.
    const again = await fetch(`${b.baseUrl}${API_PATHS.cancel(id)}`, {
      method: 'POST',
      headers: { ...phone, ...labTagHeaders(tag) },
    });
    expect(again.status).toBe(409);
  });

  it('hand a task over from A stopping to B, and a socket recovered from A onto B hears the rest of it once', async () => {
    const { a, b, balancer, socket, seen, id } = await socketTaskOnA();

    const reconnected = new Promise<boolean>((resolve) =>
      socket.once('connect', () => resolve(socket.recovered)),
    );
    balancer.hold();
    // A graceful stop: A keeps the socket's session in Redis and hands the task over at once.
    await a.close();
    balancer.release(b.baseUrl);
    expect(await reconnected).toBe(true);

    const events = await seen.terminal(id);
    expect(streamBreaches(events, 16)).toEqual([]);
    expect(events).toHaveLength(16 + 3);
  });

  it('broadcast to a socket.io room from A reaches its socket on B', async () => {
    const a = await server();
    const b = await server();
    const socket = await client(b.baseUrl);
    const seen = new EventCollector(socket);
    const outside = await client(b.baseUrl);
    const other = new EventCollector(outside);
    const onB = b.app.io.of('/').sockets.get(socket.id ?? '');
    expect(onB).toBeDefined();
    onB?.join('lab-test-room');
    const event: TaskEvent = { type: 'started', taskId: 'room-check', seq: 2, at: 1 };
    // The adapter's reader on a new instance starts at the stream's end ('$', re-issued until it has
    // read a first entry), so a broadcast in its first moments can pass it by; the broadcast is sent
    // again every 200 ms until one arrives (a started cluster has entries flowing: heartbeats every 5 s).
    const again = setInterval(() => a.app.io.to('lab-test-room').emit(SOCKET_EVENTS.event, event), 200);
    cleanup(() => clearInterval(again));
    a.app.io.to('lab-test-room').emit(SOCKET_EVENTS.event, event);
    await seen.until('room-check', (events) => events.length > 0);
    clearInterval(again);
    expect(seen.events('room-check')[0]).toEqual(event);
    // Not to a socket outside the room.
    expect(other.events('room-check')).toEqual([]);
  });
});

/** Long polling from the start to the end, telling each event as its poll answers. */
async function longPollLive(baseUrl: string, id: string, onEvent: (event: TaskEvent) => void) {
  const events: TaskEvent[] = [];
  let after = 0;
  while (!events.some(isTerminalEvent)) {
    const res = await fetch(`${baseUrl}${API_PATHS.events(id)}?after=${after}&waitMs=5000`);
    const answer = EventsResponse.parse(await res.json());
    for (const event of answer.events) onEvent(event);
    events.push(...answer.events);
    after = answer.nextAfter;
  }
  return events;
}

/** An SSE stream read to its end, telling each task event as it arrives. */
async function readSseLive(baseUrl: string, id: string, onEvent: (event: TaskEvent) => void) {
  const events: TaskEvent[] = [];
  const parser = createParser({
    onEvent(message) {
      if (message.event === SSE.wireEvent) return;
      const event = TaskEvent.parse(JSON.parse(message.data));
      events.push(event);
      onEvent(event);
    },
  });
  const res = await fetch(`${baseUrl}${API_PATHS.stream(id)}`);
  const decoder = new TextDecoder();
  for await (const chunk of res.body ?? [])
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  return events;
}

/** An HTTP streaming answer read to its end, telling each line's event as it arrives. */
async function readNdjsonLive(url: string, onEvent: (event: TaskEvent) => void) {
  const events: TaskEvent[] = [];
  const res = await fetch(url);
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of res.body ?? []) {
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim() !== '') {
        const event = TaskEvent.parse(JSON.parse(line));
        events.push(event);
        onEvent(event);
      }
      newline = pending.indexOf('\n');
    }
  }
  return events;
}
