import type { TaskEvent } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { progress, queued, SPEC, started, succeeded, TASK_ID, taskState } from '../../testing/fixtures.ts';
import { DEFAULT_LANE_SETTINGS, type LaneReport } from '../types.ts';
import { createWebSocketClient, type FrameMeter, instrumentWebSocket, type LaneSocket } from './index.ts';

type Handler = (...args: never[]) => void;

/** Just enough of a socket.io socket to drive a lane run by hand. */
class FakeSocket {
  recovered = false;
  disconnected = false;
  connected = false;
  reconnecting: boolean | undefined;
  readonly emitted: Array<{ event: string; payload: unknown; ack: (res: unknown) => void }> = [];
  private readonly handlers = new Map<string, Handler[]>();
  readonly io = {
    on: (event: string, handler: Handler) => this.on(event, handler),
    reconnection: (on: boolean) => {
      this.reconnecting = on;
    },
  };

  on(event: string, handler: Handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return this;
  }
  emit(event: string, payload: unknown, ack: (res: unknown) => void) {
    this.emitted.push({ event, payload, ack });
    return this;
  }
  connect() {
    return this;
  }
  disconnect() {
    this.disconnected = true;
    return this;
  }
  fire(event: string, ...args: unknown[]) {
    for (const handler of this.handlers.get(event) ?? []) (handler as (...a: unknown[]) => void)(...args);
  }
  last(event: string) {
    const found = this.emitted.filter((e) => e.event === event).at(-1);
    if (!found) throw new Error(`nothing emitted as ${event}`);
    return found;
  }
}

function setup() {
  const socket = new FakeSocket();
  const reports: LaneReport[] = [];
  let meter: FrameMeter | undefined;
  const client = createWebSocketClient({
    now: () => 42,
    ackTimeoutMs: 60_000,
    createSocket: (m) => {
      meter = m;
      return socket as unknown as LaneSocket;
    },
  });
  const run = client.run(SPEC, (r) => reports.push(r));
  const events = () => reports.flatMap((r) => (r.type === 'event' ? [r.event.seq] : []));
  const connectAndAck = (lastSeq = 0) => {
    socket.fire('connect');
    socket.last('task:start').ack({ ok: true, task: taskState({ lastSeq }) });
  };
  const push = (event: TaskEvent) => socket.fire('task:event', event);
  return { socket, reports, run, events, connectAndAck, push, meter: () => meter };
}

describe('websocket lane', () => {
  it('adds the upgrade bytes the server measured, and drops a malformed report with a note', () => {
    const { socket, reports } = setup();
    socket.fire('connection:wire', { requestBytes: 512, responseBytes: 129 });
    expect(reports).toContainEqual({ type: 'wire', delta: { bytesUp: 512, bytesDown: 129 }, at: 42 });
    socket.fire('connection:wire', { requestBytes: -1 });
    expect(reports.filter((r) => r.type === 'wire')).toHaveLength(1);
    expect(reports.at(-1)).toMatchObject({ type: 'note' });
  });

  it('emits task:start with the spec and reports the acknowledged task', () => {
    const { socket, reports, connectAndAck } = setup();
    expect(socket.last('task:start').payload).toEqual(SPEC);
    connectAndAck();
    expect(reports).toContainEqual({ type: 'task', task: taskState(), at: 42 });
  });

  it('applies pushed events once each and in seq order, holding one that jumps a gap', () => {
    const { events, connectAndAck, push } = setup();
    connectAndAck();
    push(queued());
    push(progress(3, 1, 10_010));
    push(queued());
    push(started());
    push(started());
    expect(events()).toEqual([1, 2, 3]);
  });

  it('applies events pushed before the acknowledgement once the task is known', () => {
    const { socket, events, push } = setup();
    socket.fire('connect');
    push(queued());
    expect(events()).toEqual([]);
    socket.last('task:start').ack({ ok: true, task: taskState({ lastSeq: 1 }) });
    expect(events()).toEqual([1]);
  });

  it('fetches stored events when the acknowledgement says events were sent before it could hear them', () => {
    const { socket, connectAndAck } = setup();
    connectAndAck(2);
    expect(socket.last('task:subscribe').payload).toEqual({ taskId: TASK_ID, afterSeq: 0 });
  });

  it('after a reconnect that was not recovered, re-subscribes from the last applied seq and drops replays', () => {
    const { socket, events, connectAndAck, push } = setup();
    connectAndAck();
    push(queued());
    push(started());
    socket.fire('disconnect', 'transport close');
    socket.recovered = false;
    socket.fire('connect');
    const subscribe = socket.last('task:subscribe');
    expect(subscribe.payload).toEqual({ taskId: TASK_ID, afterSeq: 2 });
    subscribe.ack({ ok: true, task: taskState(), events: [started(), progress(3, 1, 10_010)] });
    push(progress(3, 1, 10_010));
    push(progress(4, 2, 10_020));
    expect(events()).toEqual([1, 2, 3, 4]);
  });

  it('does not re-subscribe when socket.io recovered the session', () => {
    const { socket, connectAndAck } = setup();
    connectAndAck();
    socket.fire('disconnect', 'transport close');
    socket.recovered = true;
    socket.fire('connect');
    expect(socket.emitted.some((e) => e.event === 'task:subscribe')).toBe(false);
  });

  it('ends the run and disconnects on the terminal event', async () => {
    const { socket, run, connectAndAck, push } = setup();
    connectAndAck();
    push(queued());
    push(succeeded(2, 10_100));
    await run.done;
    expect(socket.disconnected).toBe(true);
  });

  it('cancels by task id, and waits for the acknowledgement when the task is not known yet', () => {
    const { socket, run } = setup();
    socket.fire('connect');
    run.cancel();
    expect(socket.emitted.some((e) => e.event === 'task:cancel')).toBe(false);
    socket.last('task:start').ack({ ok: true, task: taskState() });
    expect(socket.last('task:cancel').payload).toEqual({ taskId: TASK_ID });
  });

  it('reports a refused start as an error carrying the server code', () => {
    const { socket, reports } = setup();
    socket.fire('connect');
    socket.last('task:start').ack({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'no' } });
    expect(reports).toContainEqual({
      type: 'error',
      error: { code: 'VALIDATION_FAILED', message: 'no', fromServer: true },
      at: 42,
    });
    expect(socket.disconnected).toBe(true);
  });

  it('reports a connection that never opens as CONNECT_FAILED', () => {
    const { socket, reports } = setup();
    socket.fire('connect_error', new Error('websocket error'));
    expect(reports.find((r) => r.type === 'error')).toMatchObject({
      error: { code: 'CONNECT_FAILED', fromServer: false },
    });
  });

  it('reports nothing more for events pushed after the run ended', async () => {
    const { socket, reports, run, connectAndAck, push } = setup();
    connectAndAck();
    push(queued());
    push(succeeded(2, 10_100));
    await run.done;
    const count = reports.length;
    socket.fire('task:event', succeeded(2, 10_100));
    socket.fire('task:event', progress(3, 1, 10_200));
    expect(reports.length).toBe(count);
  });
});

describe('websocket lane, with the socket opened ahead of its race', () => {
  const TAG = { lane: 'websocket' as const, runId: 'race-0001-ahead' };

  function ahead() {
    const sockets: Array<{ socket: FakeSocket; meter: FrameMeter; reconnection: boolean | undefined }> = [];
    let now = 10;
    const client = createWebSocketClient({
      now: () => now,
      ackTimeoutMs: 60_000,
      createSocket: (meter, _tag, options) => {
        const socket = new FakeSocket();
        sockets.push({ socket, meter, reconnection: options?.reconnection });
        return socket as unknown as LaneSocket;
      },
    });
    const at = (ms: number) => {
      now = ms;
    };
    return { client, sockets, at };
  }

  it('hands the run everything the socket carried before it, with its times, and starts the task at once', () => {
    const { client, sockets, at } = ahead();
    client.preconnect?.(TAG);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.reconnection).toBe(false);
    const { socket, meter } = sockets[0] as (typeof sockets)[number];
    meter.handshake();
    at(25);
    meter.opened?.();
    meter.frame('down', 90);
    socket.fire('connection:wire', { requestBytes: 400, responseBytes: 129 });
    socket.connected = true;
    socket.fire('connect');
    expect(client.preconnected?.()).toEqual(TAG);

    at(1_000);
    const reports: LaneReport[] = [];
    client.run(SPEC, (r) => reports.push(r), { settings: DEFAULT_LANE_SETTINGS, tag: TAG });
    expect(sockets).toHaveLength(1);
    expect(client.preconnected?.()).toBeUndefined();
    expect(reports.slice(0, 6)).toEqual([
      { type: 'sent', id: expect.any(Number), kind: 'socket', label: 'WebSocket upgrade', at: 10 },
      { type: 'wire', delta: { requests: 1, connections: 1 }, at: 10 },
      { type: 'opened', id: expect.any(Number), at: 25 },
      { type: 'frame', direction: 'down', bytes: 90, at: 25 },
      { type: 'wire', delta: { bytesDown: 90 }, at: 25 },
      { type: 'wire', delta: { bytesUp: 400, bytesDown: 129 }, at: 25 },
    ]);
    expect(reports).toContainEqual({
      type: 'note',
      text: expect.stringContaining('opened before Start'),
      at: 1_000,
    });
    expect(reports.some((r) => r.type === 'link' && r.detail === 'Connecting…')).toBe(false);
    expect(socket.reconnecting).toBe(true);
    expect(socket.last('task:start').payload).toEqual(SPEC);
    socket.last('task:start').ack({ ok: true, task: taskState() });
    expect(reports).toContainEqual({ type: 'task', task: taskState(), at: 1_000 });
  });

  it('connects on its own when the socket ahead was for another race, and closes that one', () => {
    const { client, sockets } = ahead();
    client.preconnect?.(TAG);
    client.run(SPEC, () => {}, {
      settings: DEFAULT_LANE_SETTINGS,
      tag: { lane: 'websocket', runId: 'race-0002-other' },
    });
    expect(sockets).toHaveLength(2);
    expect(sockets[0]?.socket.disconnected).toBe(true);
    expect(sockets[1]?.reconnection).toBeUndefined();
  });

  it('does not adopt a socket that dropped before its race', () => {
    const { client, sockets } = ahead();
    client.preconnect?.(TAG);
    sockets[0]?.socket.fire('disconnect', 'io server disconnect');
    expect(client.preconnected?.()).toBeUndefined();
    client.run(SPEC, () => {}, { settings: DEFAULT_LANE_SETTINGS, tag: TAG });
    expect(sockets).toHaveLength(2);
    expect(sockets[0]?.socket.disconnected).toBe(true);
  });

  it('keeps a socket already opened for the same race, and replaces it for another', () => {
    const { client, sockets } = ahead();
    client.preconnect?.(TAG);
    client.preconnect?.(TAG);
    expect(sockets).toHaveLength(1);
    client.preconnect?.({ lane: 'websocket', runId: 'race-0003-next' });
    expect(sockets).toHaveLength(2);
    expect(sockets[0]?.socket.disconnected).toBe(true);
  });
});

/** A WebSocket stand-in: an EventTarget with send() and extensions. */
class FakeWebSocket extends EventTarget {
  extensions = '';
  readonly sent: unknown[] = [];
  send(data: unknown) {
    this.sent.push(data);
  }
}

describe('instrumentWebSocket', () => {
  function meter() {
    const frames: Array<[string, number]> = [];
    let handshakes = 0;
    const notes: string[] = [];
    const m: FrameMeter = {
      handshake: () => {
        handshakes += 1;
      },
      frame: (direction, bytes) => frames.push([direction, bytes]),
      note: (text) => notes.push(text),
    };
    return { m, frames, notes, handshakes: () => handshakes };
  }

  it('counts the handshake as one request and every frame each way with its framing', () => {
    const { m, frames, handshakes } = meter();
    const ws = new FakeWebSocket();
    instrumentWebSocket(ws as unknown as WebSocket, m);
    expect(handshakes()).toBe(1);
    ws.send('40');
    ws.dispatchEvent(new MessageEvent('message', { data: '0{"sid":"abc"}' }));
    ws.dispatchEvent(new MessageEvent('message', { data: 'x'.repeat(130) }));
    expect(ws.sent).toEqual(['40']);
    expect(frames).toEqual([
      ['up', 2 + 4 + 2],
      ['down', 2 + 14],
      ['down', 4 + 130],
    ]);
  });

  it('does not count a frame that send() refused', () => {
    const { m, frames } = meter();
    const ws = new FakeWebSocket();
    ws.send = () => {
      throw new DOMException('still connecting', 'InvalidStateError');
    };
    instrumentWebSocket(ws as unknown as WebSocket, m);
    expect(() => ws.send('40')).toThrow();
    expect(frames).toEqual([]);
  });

  it('notes a negotiated compression extension when the socket opens', () => {
    const { m, notes } = meter();
    const ws = new FakeWebSocket();
    ws.extensions = 'permessage-deflate';
    instrumentWebSocket(ws as unknown as WebSocket, m);
    ws.dispatchEvent(new Event('open'));
    expect(notes).toHaveLength(1);
  });
});
