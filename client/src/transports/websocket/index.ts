import {
  CancelAck,
  type ClientToServerEvents,
  formatTraceparent,
  HandshakeWire,
  isTerminalEvent,
  type LabTag,
  labTagQuery,
  newSpanId,
  type ServerToClientEvents,
  StartAck,
  SubscribeAck,
  TaskEvent,
  type TaskSpec,
} from '@transport-lab/shared';
import { WebSocket as EngineWebSocket, io, type Socket } from 'socket.io-client';
import { clientNow } from '../../lib/time.ts';
import { nextExchangeId } from '../http.ts';
import { WS_RECOVERED_NOTE_PREFIX, WS_RESUBSCRIBED_NOTE_PREFIX } from '../lane-notes.ts';
import { createSeqOrderer } from '../seq-orderer.ts';
import type { ClientLane, LaneError, LaneReport, LaneRun, Report, TransportClient } from '../types.ts';
import { type FrameData, frameWireBytes, webSocketCompressionNote } from '../wire.ts';

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
  createSocket(meter: FrameMeter, tag?: LabTag, options?: SocketOptions): LaneSocket;
  /** How long to wait for an acknowledgement once connected. */
  ackTimeoutMs: number;
}

export interface SocketOptions {
  /** Whether socket.io reconnects by itself when the connection drops (default: yes). */
  reconnection?: boolean;
}

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

export function createSocketIo(meter: FrameMeter, tag?: LabTag, options: SocketOptions = {}): LaneSocket {
  return io({
    reconnection: options.reconnection ?? true,
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
 * One socket.io connection of the lane, tagged for one race: what it says (its handshake, every frame,
 * the server's count of its upgrade) goes to the run's report once a run has it, and is kept until
 * then, each with the time it happened.
 */
interface LaneConnection {
  readonly socket: LaneSocket;
  readonly tag: LabTag | undefined;
  /** Hands everything kept so far, and all that follows, to a run's report. */
  attach(report: Report): void;
  /** The upgrade, as the page timed it: sent, and opened once the server answered it. */
  readonly upgrade: { sentAt?: number; openedAt?: number };
  /** Dropped or refused before a run took it: a run does not adopt it. */
  readonly lost: boolean;
}

function openConnection(
  deps: WebSocketDeps,
  tag: LabTag | undefined,
  options?: SocketOptions,
): LaneConnection {
  let sink: Report | undefined;
  const kept: LaneReport[] = [];
  const report: Report = (r) => {
    if (sink) sink(r);
    else kept.push(r);
  };
  const upgrade: { sentAt?: number; openedAt?: number } = {};
  let lost = false;
  /** The raw WebSocket now carrying the connection, as an exchange on the timeline. */
  let exchange: number | undefined;
  const socket = deps.createSocket(
    {
      handshake: () => {
        const at = deps.now();
        exchange = nextExchangeId();
        upgrade.sentAt ??= at;
        report({ type: 'sent', id: exchange, kind: 'socket', label: 'WebSocket upgrade', at });
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
        const at = deps.now();
        if (upgrade.sentAt !== undefined) upgrade.openedAt ??= at;
        if (exchange !== undefined) report({ type: 'opened', id: exchange, at });
      },
      closed: () => {
        if (exchange !== undefined)
          report({ type: 'ended', id: exchange, outcome: 'closed', at: deps.now() });
        exchange = undefined;
      },
    },
    tag,
    options,
  );
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
  const loseUnattached = () => {
    if (sink === undefined) lost = true;
  };
  socket.on('disconnect', loseUnattached);
  socket.on('connect_error', loseUnattached);
  return {
    socket,
    tag,
    upgrade,
    get lost() {
      return lost;
    },
    attach(target) {
      sink = target;
      for (const r of kept.splice(0)) target(r);
    },
  };
}

/** The same lane and race. */
const sameTag = (a: LabTag | undefined, b: LabTag | undefined) =>
  a !== undefined && b !== undefined && a.lane === b.lane && a.runId === b.runId;

/**
 * socket.io: `task:start` with an acknowledgement, events pushed as `task:event`, `task:cancel`, and
 * recovery. When a reconnection is not `socket.recovered` (the server could not replay what was
 * missed), the task is re-subscribed from the last applied seq; the orderer drops what comes twice.
 *
 * The socket of the next race can be opened ahead of it (`preconnect`, while the page is idle), as an
 * application opens its socket when its page loads: the race then starts with `task:start` on an
 * open socket, and the connect is not on its clock. That socket is tagged for that race from its
 * first byte, so its handshake, its frames and the server's count of its upgrade are the race's all
 * the same, kept with the times they happened; the card says that the socket was opened before Start.
 * A socket that dropped before its race, or that was opened for another race, is closed instead, and
 * the run connects on its own as without one.
 */
export function createWebSocketClient(deps: WebSocketDeps = browserWebSocketDeps): TransportClient {
  let spare: LaneConnection | undefined;
  const dropSpare = () => {
    spare?.socket.disconnect();
    spare = undefined;
  };
  return {
    id: 'websocket',
    preconnect(tag) {
      if (spare && sameTag(spare.tag, tag) && !spare.lost) return;
      dropSpare();
      // No reconnection until a run adopts it: a spare that drops is replaced, never quietly reopened.
      spare = openConnection(deps, tag, { reconnection: false });
      spare.socket.connect();
    },
    preconnected() {
      return spare && !spare.lost ? spare.tag : undefined;
    },
    run(spec, report, options) {
      const tag = options?.tag;
      let adopted: LaneConnection | undefined;
      if (spare && !spare.lost && sameTag(spare.tag, tag)) adopted = spare;
      else dropSpare();
      spare = undefined;
      return runWebSocket(deps, spec, report, tag, adopted, options?.traceId);
    },
  };
}

function runWebSocket(
  deps: WebSocketDeps,
  spec: TaskSpec,
  report: Report,
  tag: LabTag | undefined,
  adopted: LaneConnection | undefined,
  traceId: string | undefined,
): LaneRun {
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

  let reconnects = 0;
  const connection = adopted ?? openConnection(deps, tag);
  const { socket } = connection;
  // What the socket said before this run (an adopted one: its handshake and first frames), then all
  // that follows.
  connection.attach(report);
  if (adopted) {
    const { sentAt, openedAt } = adopted.upgrade;
    report({
      type: 'note',
      text:
        openedAt !== undefined && sentAt !== undefined
          ? `The socket was opened before Start, while the page was idle (upgrade ${Math.round(openedAt - sentAt)} ms): its connect is not on this race's clock; its handshake and frames are counted.`
          : 'The socket was opened before Start and was still connecting: its handshake and frames are counted.',
      at: deps.now(),
    });
    // It may drop during the race like any other: from now on socket.io reconnects it.
    socket.io.reconnection?.(true);
  }

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

  socket.on('task:event', (raw) => {
    const at = deps.now();
    const parsed = TaskEvent.safeParse(raw);
    if (parsed.success) offer(parsed.data, at);
    else report({ type: 'note', text: 'A malformed task:event was dropped.', at });
  });
  const firstConnect = () => {
    everConnected = true;
    report({ type: 'link', detail: 'Connected, waiting for the acknowledgement…', at: deps.now() });
    ackTimer = setTimeout(
      () => fail({ code: 'ACK_TIMEOUT', message: 'task:start was never acknowledged.', fromServer: false }),
      deps.ackTimeoutMs,
    );
  };
  socket.on('connect', () => {
    if (!everConnected) {
      firstConnect();
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

  if (adopted && socket.connected) firstConnect();
  else report({ type: 'link', detail: 'Connecting…', at: deps.now() });
  // socket.io holds the emit until connected and sends it as the first packet after the handshake.
  // With a trace-id, the spec goes with its trace context (a socket's event has no headers of its own).
  const start = traceId ? { spec, traceparent: formatTraceparent(traceId, newSpanId()) } : spec;
  socket.emit('task:start', start, (res) => {
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
  if (!adopted) socket.connect();

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

export default { id: 'websocket', create: () => createWebSocketClient() } satisfies ClientLane;
