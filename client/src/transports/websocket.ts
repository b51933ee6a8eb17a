import {
  CancelAck,
  type ClientToServerEvents,
  HandshakeWire,
  isTerminalEvent,
  type LabTag,
  labTagQuery,
  type ServerToClientEvents,
  StartAck,
  SubscribeAck,
  TaskEvent,
  type TaskSpec,
} from '@transport-lab/shared';
import { WebSocket as EngineWebSocket, io, type Socket } from 'socket.io-client';
import { clientNow } from '../lib/time.ts';
import { nextExchangeId } from './http.ts';
import { createSeqOrderer } from './seq-orderer.ts';
import type { LaneError, LaneRun, Report, TransportClient } from './types.ts';
import { type FrameData, frameWireBytes, webSocketCompressionNote } from './wire.ts';

export type LaneSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Receives every frame of the raw WebSocket(s) under one run's socket.io connection. */
export interface FrameMeter {
  /** A WebSocket opening handshake was sent (one HTTP Upgrade request). */
  handshake(): void;
  /** One frame's bytes on the wire, framing included. */
  frame(direction: 'up' | 'down', wireBytes: number): void;
  note(text: string): void;
  /** The raw WebSocket opened: the upgrade was answered. */
  opened?(): void;
  /** The raw WebSocket closed, for whatever reason. */
  closed?(): void;
}

export interface WebSocketDeps {
  now(): number;
  /**
   * A socket.io socket, not yet connected, whose WebSocket frames go to `meter`; its handshake query
   * carries `tag` (engine.io repeats it on the upgrade), so the server counts it for the lane.
   */
  createSocket(meter: FrameMeter, tag?: LabTag): LaneSocket;
  /** How long to wait for an acknowledgement once connected. */
  ackTimeoutMs: number;
}

/** The card's note when socket.io recovered the session after a drop. */
export const WS_RECOVERED_NOTE_PREFIX = 'Reconnected: socket.io recovered the session';
/** The card's note when it could not, and the lane asked for what it missed itself. */
export const WS_RESUBSCRIBED_NOTE_PREFIX = 'Reconnected: socket.io could not recover the session';

/** Reconnection attempts before the lane gives up (socket.io's default is to try forever). */
const RECONNECTION_ATTEMPTS = 10;
const ACK_TIMEOUT_MS = 10_000;

/** Counts the handshake and every frame a raw WebSocket sends or receives, as it happens. */
export function instrumentWebSocket(ws: WebSocket, meter: FrameMeter): void {
  meter.handshake();
  const send = ws.send.bind(ws);
  // engine.io writes each packet with `ws.send` (one frame each); count only what send() accepted.
  ws.send = (data: Parameters<WebSocket['send']>[0]) => {
    send(data);
    meter.frame('up', frameWireBytes(data, true));
  };
  ws.addEventListener('message', (event: MessageEvent<FrameData>) => {
    meter.frame('down', frameWireBytes(event.data, false));
  });
  ws.addEventListener('open', () => {
    meter.opened?.();
    const note = webSocketCompressionNote(ws.extensions);
    if (note) meter.note(note);
  });
  ws.addEventListener('close', () => meter.closed?.());
}

/**
 * engine.io's own WebSocket transport (its name is "websocket", so this is `transports: ['websocket']`)
 * with the raw socket wrapped the moment it is created, before its first frame: a reconnection makes a
 * new raw socket, and it is wrapped too.
 */
export function meteredWebSocketTransport(meter: FrameMeter): typeof EngineWebSocket {
  return class MeteredWebSocket extends EngineWebSocket {
    override createSocket(
      uri: string,
      protocols: string | string[] | undefined,
      opts: Record<string, unknown>,
    ) {
      const ws: WebSocket = super.createSocket(uri, protocols, opts);
      instrumentWebSocket(ws, meter);
      return ws;
    }
  };
}

export function createSocketIo(meter: FrameMeter, tag?: LabTag): LaneSocket {
  return io({
    ...(tag ? { query: labTagQuery(tag) } : {}),
    // One connection per run, never the cached shared Manager: its frames and its handshake are then
    // this run's cost alone, and it starts cold as a first visit would.
    forceNew: true,
    autoConnect: false,
    transports: [meteredWebSocketTransport(meter)],
    reconnectionAttempts: RECONNECTION_ATTEMPTS,
  });
}

export const browserWebSocketDeps: WebSocketDeps = {
  now: clientNow,
  createSocket: createSocketIo,
  ackTimeoutMs: ACK_TIMEOUT_MS,
};

/**
 * socket.io: `task:start` with an acknowledgement, events pushed as `task:event`, `task:cancel`, and
 * recovery. When a reconnection is not `socket.recovered` (the server could not replay what was
 * missed), the task is re-subscribed from the last applied seq; the orderer drops what comes twice.
 */
export function createWebSocketClient(deps: WebSocketDeps = browserWebSocketDeps): TransportClient {
  return {
    id: 'websocket',
    run(spec, report, options) {
      return runWebSocket(deps, spec, report, options?.tag);
    },
  };
}

function runWebSocket(deps: WebSocketDeps, spec: TaskSpec, report: Report, tag?: LabTag): LaneRun {
  const orderer = createSeqOrderer();
  /** Events pushed before the start ack named the task: this socket carries only this run's task. */
  const early: Array<{ event: TaskEvent; at: number }> = [];
  let taskId: string | undefined;
  let finished = false;
  let everConnected = false;
  let cancelWanted = false;
  let ackTimer: ReturnType<typeof setTimeout> | undefined;
  let settle: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    settle = resolve;
  });

  /** The raw WebSocket now carrying the run, as an exchange on the timeline. */
  let connection: number | undefined;
  let reconnects = 0;
  const socket = deps.createSocket(
    {
      handshake: () => {
        const at = deps.now();
        connection = nextExchangeId();
        report({ type: 'sent', id: connection, kind: 'socket', label: 'WebSocket upgrade', at });
        // A WebSocket has a connection of its own: one per handshake.
        report({ type: 'wire', delta: { requests: 1, connections: 1 }, at });
      },
      frame: (direction, wireBytes) => {
        const at = deps.now();
        report({ type: 'frame', direction, bytes: wireBytes, at });
        report({
          type: 'wire',
          delta: direction === 'up' ? { bytesUp: wireBytes } : { bytesDown: wireBytes },
          at,
        });
      },
      note: (text) => report({ type: 'note', text, at: deps.now() }),
      opened: () => {
        if (connection !== undefined) report({ type: 'opened', id: connection, at: deps.now() });
      },
      closed: () => {
        if (connection !== undefined)
          report({ type: 'ended', id: connection, outcome: 'closed', at: deps.now() });
        connection = undefined;
      },
    },
    tag,
  );

  const end = () => {
    finished = true;
    clearTimeout(ackTimer);
    socket.disconnect();
    settle();
  };
  const fail = (error: LaneError) => {
    if (finished) return;
    report({ type: 'error', error, at: deps.now() });
    end();
  };
  const offer = (event: TaskEvent, at: number) => {
    if (finished) return;
    if (taskId === undefined) {
      early.push({ event, at });
      return;
    }
    if (event.taskId !== taskId) return;
    for (const next of orderer.push(event)) {
      report({ type: 'event', event: next, at });
      if (isTerminalEvent(next)) {
        end();
        return;
      }
    }
  };
  const subscribe = (id: string) => {
    socket.emit('task:subscribe', { taskId: id, afterSeq: orderer.lastSeq }, (res) => {
      const at = deps.now();
      const ack = SubscribeAck.safeParse(res);
      if (!ack.success) return fail(badAck('task:subscribe'));
      if (!ack.data.ok) return fail(serverError(ack.data.error));
      for (const event of ack.data.events) offer(event, at);
    });
  };
  const sendCancel = (id: string) => {
    socket.emit('task:cancel', { taskId: id }, (res) => {
      const at = deps.now();
      const ack = CancelAck.safeParse(res);
      // The `cancelled` event follows on the push channel; a task that ended first says TASK_FINISHED.
      if (!ack.success) report({ type: 'note', text: 'The task:cancel acknowledgement was malformed.', at });
      else if (ack.data.ok) report({ type: 'task', task: ack.data.task, at });
      else if (ack.data.error.code !== 'TASK_FINISHED') {
        report({ type: 'note', text: `Cancel refused: ${ack.data.error.message}`, at });
      }
    });
  };

  // The HTTP upgrade is invisible to a page; the server measures it on its socket and says so.
  socket.on('connection:wire', (raw) => {
    const at = deps.now();
    const wire = HandshakeWire.safeParse(raw);
    if (wire.success) {
      report({
        type: 'wire',
        delta: { bytesUp: wire.data.requestBytes, bytesDown: wire.data.responseBytes },
        at,
      });
    } else report({ type: 'note', text: 'A malformed connection:wire report was dropped.', at });
  });
  socket.on('task:event', (raw) => {
    const at = deps.now();
    const parsed = TaskEvent.safeParse(raw);
    if (parsed.success) offer(parsed.data, at);
    else report({ type: 'note', text: 'A malformed task:event was dropped.', at });
  });
  socket.on('connect', () => {
    if (!everConnected) {
      everConnected = true;
      report({ type: 'link', detail: 'Connected, waiting for the acknowledgement…', at: deps.now() });
      ackTimer = setTimeout(
        () => fail({ code: 'ACK_TIMEOUT', message: 'task:start was never acknowledged.', fromServer: false }),
        deps.ackTimeoutMs,
      );
      return;
    }
    const at = deps.now();
    report({
      type: 'link',
      detail: socket.recovered ? 'Reconnected, session recovered' : 'Reconnected, re-subscribing…',
      at,
    });
    // Kept on the card: which of the two ways back this run took (socket.io's recovery "will not always
    // be successful", its documentation says; the lane's own re-subscribe by seq is the one it can count on).
    report({
      type: 'note',
      text: socket.recovered
        ? `${WS_RECOVERED_NOTE_PREFIX}: it replayed what the dropped socket missed.`
        : `${WS_RESUBSCRIBED_NOTE_PREFIX}; the lane re-subscribed from the last event it applied (seq ${orderer.lastSeq}).`,
      at,
    });
    if (taskId !== undefined && !finished && !socket.recovered) subscribe(taskId);
  });
  socket.on('disconnect', (reason) => {
    if (finished) return;
    if (reason === 'io server disconnect') {
      fail({ code: 'DISCONNECTED', message: 'The server closed the connection.', fromServer: true });
    } else {
      report({ type: 'link', detail: `Connection lost (${reason}), reconnecting…`, at: deps.now() });
    }
  });
  socket.on('connect_error', (error) => {
    if (!everConnected) fail({ code: 'CONNECT_FAILED', message: error.message, fromServer: false });
  });
  socket.io.on('reconnect_attempt', () => {
    reconnects += 1;
    report({ type: 'reconnect', count: reconnects, at: deps.now() });
  });
  socket.io.on('reconnect_failed', () =>
    fail({
      code: 'CONNECT_FAILED',
      message: 'The connection was lost and could not be re-established.',
      fromServer: false,
    }),
  );

  report({ type: 'link', detail: 'Connecting…', at: deps.now() });
  // socket.io holds the emit until connected and sends it as the first packet after the handshake.
  socket.emit('task:start', spec, (res) => {
    const at = deps.now();
    clearTimeout(ackTimer);
    if (finished) return;
    const ack = StartAck.safeParse(res);
    if (!ack.success) return fail(badAck('task:start'));
    if (!ack.data.ok) return fail(serverError(ack.data.error));
    const task = ack.data.task;
    taskId = task.id;
    report({ type: 'task', task, at });
    if (cancelWanted) sendCancel(task.id);
    for (const { event, at: receivedAt } of early.splice(0)) offer(event, receivedAt);
    // Events the server sent before this socket joined the task's room never come as pushes: fetch them.
    if (!finished && orderer.lastSeq < task.lastSeq) subscribe(task.id);
  });
  socket.connect();

  return {
    done,
    cancel() {
      if (finished) return;
      if (taskId !== undefined) sendCancel(taskId);
      else if (everConnected) cancelWanted = true;
      else {
        // Not connected yet: no task exists that the server could cancel.
        report({ type: 'aborted', at: deps.now() });
        end();
      }
    },
  };
}

function serverError(error: { code: string; message: string }): LaneError {
  return { code: error.code, message: error.message, fromServer: true };
}

function badAck(event: string): LaneError {
  return {
    code: 'BAD_RESPONSE',
    message: `The ${event} acknowledgement does not match the protocol.`,
    fromServer: true,
  };
}
