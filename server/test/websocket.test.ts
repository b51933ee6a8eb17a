import { type AddressInfo, connect as connectTcp, createServer as createNetServer } from 'node:net';
import { type HandshakeWire, SOCKET_EVENTS, type TaskEvent } from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  EventCollector,
  emitAck,
  type LabClient,
  startTestServer,
  streamBreaches,
  type TestServer,
} from './harness.ts';

let server: TestServer;
const sockets: LabClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await server.close();
});

async function client(reconnectionDelayMs?: number) {
  const socket = await connectClient(server.baseUrl, reconnectionDelayMs);
  sockets.push(socket);
  return { socket, events: new EventCollector(socket) };
}

/** Events merged by seq, as a client that drops duplicates would apply them. */
function bySeq(...lists: TaskEvent[][]): TaskEvent[] {
  const seen = new Map<number, TaskEvent>();
  for (const list of lists) for (const event of list) if (!seen.has(event.seq)) seen.set(event.seq, event);
  return [...seen.values()].sort((a, b) => a.seq - b.seq);
}

describe('task:subscribe', () => {
  it('gives a second client every event after afterSeq, stored ones in the ack and live ones pushed', async () => {
    const a = await client();
    const ack = await emitAck(a.socket, SOCKET_EVENTS.start, { durationMs: 600, steps: 12 });
    if (!ack.ok) throw new Error(ack.error.message);
    const id = ack.task.id;
    await a.events.until(id, (events) => events.filter((e) => e.type === 'progress').length >= 3);

    const b = await client();
    const sub = await emitAck(b.socket, SOCKET_EVENTS.subscribe, { taskId: id, afterSeq: 2 });
    if (!sub.ok) throw new Error(sub.error.message);
    expect(sub.events[0]?.seq).toBe(3);
    const live = await b.events.terminal(id);
    const seen = bySeq(sub.events, live);
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 12 + 1 }, (_, i) => i + 3));
    expect(seen).toEqual((await a.events.terminal(id)).slice(2));
  });

  it('answers a finished task with all of its events and an unknown one with NOT_FOUND', async () => {
    const a = await client();
    const ack = await emitAck(a.socket, SOCKET_EVENTS.start, { durationMs: 0, steps: 2 });
    if (!ack.ok) throw new Error(ack.error.message);
    await a.events.terminal(ack.task.id);
    const sub = await emitAck(a.socket, SOCKET_EVENTS.subscribe, { taskId: ack.task.id, afterSeq: 0 });
    expect(sub.ok && sub.events.map((e) => e.type)).toEqual([
      'queued',
      'started',
      'progress',
      'progress',
      'succeeded',
    ]);
    const missing = await emitAck(a.socket, SOCKET_EVENTS.subscribe, {
      taskId: 'no-such-task-here',
      afterSeq: 0,
    });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('connection state recovery', () => {
  it('delivers what a dropped socket missed when it comes back, each event exactly once', async () => {
    // Steps every 50 ms and at least 300 ms away: several events are emitted while it is gone.
    const a = await client(300);
    const ack = await emitAck(a.socket, SOCKET_EVENTS.start, { durationMs: 800, steps: 16 });
    if (!ack.ok) throw new Error(ack.error.message);
    const id = ack.task.id;
    await a.events.until(id, (events) => events.filter((e) => e.type === 'progress').length >= 2);
    let emittedWhileAway = 0;
    const stopWatching = server.app.engine.onEvent((event) => {
      if (event.taskId === id && !a.socket.connected) emittedWhileAway++;
    });

    const reconnected = new Promise<boolean>((resolve) =>
      a.socket.once('connect', () => resolve(a.socket.recovered)),
    );
    a.socket.io.engine.close(); // the transport drops, as on a network change; the manager reconnects
    expect(await reconnected).toBe(true);
    stopWatching();
    expect(emittedWhileAway).toBeGreaterThan(0);

    const events = await a.events.terminal(id);
    expect(streamBreaches(events, 16)).toEqual([]);
    expect(events).toHaveLength(16 + 3);
  });
});

describe('task:start with the page’s trace context', () => {
  const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

  it('adopts the trace-id of {spec, traceparent}, and makes one for a bare spec', async () => {
    const a = await client();
    const traced = await emitAck(a.socket, SOCKET_EVENTS.start, {
      spec: { durationMs: 0, steps: 1 },
      traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
    });
    expect(traced).toMatchObject({
      ok: true,
      task: { traceId: TRACE_ID, spec: { durationMs: 0, steps: 1 } },
    });
    const bare = await emitAck(a.socket, SOCKET_EVENTS.start, { durationMs: 0, steps: 1 });
    expect(bare.ok && bare.task.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(bare.ok && bare.task.traceId).not.toBe(TRACE_ID);
  });

  it('starts a new trace for an unparsable traceparent, and refuses a bad spec inside the wrapper by its path', async () => {
    const a = await client();
    const odd = await emitAck(a.socket, SOCKET_EVENTS.start, {
      spec: { durationMs: 0, steps: 1 },
      traceparent: 'not-a-traceparent',
    });
    expect(odd.ok && odd.task.traceId).toMatch(/^[0-9a-f]{32}$/);
    const bad = await emitAck(a.socket, SOCKET_EVENTS.start, { spec: { durationMs: -1, steps: 1 } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(!bad.ok && bad.error.message).toContain('spec.durationMs');
    const extra = await emitAck(a.socket, SOCKET_EVENTS.start, {
      spec: { durationMs: 0, steps: 1 },
      traceId: TRACE_ID,
    } as never);
    expect(extra).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });
});

describe('malformed socket payloads', () => {
  it('are refused with an error ack, crash nothing, and leave another client’s task untouched', async () => {
    const bystander = await client();
    const ack = await emitAck(bystander.socket, SOCKET_EVENTS.start, { durationMs: 300, steps: 5 });
    if (!ack.ok) throw new Error(ack.error.message);

    const rogue = await client();
    const raw = rogue.socket as unknown as { emit: (...args: unknown[]) => void };
    raw.emit(SOCKET_EVENTS.start, { durationMs: 10 }); // no ack function at all
    raw.emit(SOCKET_EVENTS.cancel, null, 'not a function');
    raw.emit('no:such-event', { anything: true });
    const garbage = await emitAck(rogue.socket, SOCKET_EVENTS.start, 'garbage' as never);
    expect(garbage).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const badCancel = await emitAck(rogue.socket, SOCKET_EVENTS.cancel, { taskId: 42 } as never);
    expect(badCancel).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const bigSeq = await emitAck(rogue.socket, SOCKET_EVENTS.subscribe, {
      taskId: ack.task.id,
      afterSeq: -1,
    });
    expect(bigSeq).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });

    const events = await bystander.events.terminal(ack.task.id);
    expect(events.at(-1)?.type).toBe('succeeded');
    expect(streamBreaches(events, 5)).toEqual([]);
    expect(rogue.socket.connected).toBe(true);
  });
});

describe('handshake wire accounting', () => {
  it('reports the upgrade request and 101 answer sizes that a TCP proxy counts on the wire', async () => {
    // An independent count: a TCP proxy between client and server notes the bytes the client sent
    // before the server's first byte (the upgrade request), and the server's bytes up to the blank
    // line that ends the 101 answer.
    const target = new URL(server.baseUrl);
    let requestBytes = 0;
    let responseHead = Buffer.alloc(0);
    let serverSpoke = false;
    const proxy = createNetServer((downstream) => {
      const upstream = connectTcp(Number(target.port), target.hostname);
      downstream.on('data', (chunk) => {
        if (!serverSpoke) requestBytes += chunk.length;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        serverSpoke = true;
        if (!responseHead.includes('\r\n\r\n')) responseHead = Buffer.concat([responseHead, chunk]);
        downstream.write(chunk);
      });
      downstream.on('close', () => upstream.destroy());
      upstream.on('close', () => downstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;

    const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
    const reported = await new Promise<HandshakeWire>((resolve) => socket.once(SOCKET_EVENTS.wire, resolve));
    socket.disconnect();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));

    expect(reported.requestBytes).toBe(requestBytes);
    expect(reported.responseBytes).toBe(responseHead.indexOf('\r\n\r\n') + 4);
    expect(responseHead.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  });
});
