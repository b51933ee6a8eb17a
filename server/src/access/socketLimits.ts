import { BOARD_NAMESPACE, type ErrorBody, ROOM_NAMESPACE } from '@transport-lab/shared';
import type { Namespace, Server, Socket } from 'socket.io';
import type { ClientLimits } from './clientLimits.ts';
import { peerOf } from './operator.ts';

/** The namespaces a page connects to; each refuses a connection past its client's share. */
export const NAMESPACES = ['/', ROOM_NAMESPACE, BOARD_NAMESPACE] as const;

/**
 * socket.io connections count among their client's streams (MAX_STREAMS_PER_CLIENT). What holds a
 * file descriptor is the engine.io connection (one per page's manager, whatever namespaces it
 * multiplexes), so that is what is counted, from its handshake until it closes. One past the share
 * is refused on its first namespace with a connect error whose `data` is the error body
 * (`RATE_LIMITED`, reason `streams`, and a sentence for the page), then closed: refusing in
 * `allowRequest` instead would close it before any coded answer could be read (a browser sees
 * "websocket error" only).
 */
export function limitSocketsPerClient(
  io: Server,
  limits: ClientLimits,
  /** Told of each refusal (the metrics count refusals by reason). */
  onRefused: (body: ErrorBody) => void = () => {},
): void {
  const overBound = new WeakSet<object>();

  io.engine.on(
    'connection',
    (conn: { request: Parameters<typeof peerOf>[0]; once: (event: 'close', fn: () => void) => void }) => {
      const client = limits.clientOf(peerOf(conn.request));
      if (client === undefined) return;
      const { withinBound, release } = limits.countStream(client);
      conn.once('close', release);
      if (!withinBound) overBound.add(conn);
    },
  );

  const refuse = (socket: Socket, next: (error?: Error) => void) => {
    if (!overBound.has(socket.conn)) {
      next();
      return;
    }
    const refusal = limits.streamRefusal();
    next(Object.assign(new Error(refusal.message), { data: refusal.toBody() }));
    onRefused(refusal.toBody());
    // socket.io writes the connect error on the next tick; closing after it lets it go out first.
    setImmediate(() => socket.conn.close());
  };
  for (const name of NAMESPACES) io.of(name).use(refuse);
}

type NamespaceAdapter = Namespace['adapter'];
/** socket.io-adapter's SessionAwareAdapter keeps every broadcast here, for connection state recovery. */
type RecoveryBuffer = NamespaceAdapter & { packets?: unknown[] };

/**
 * Bounds socket.io's recovery buffer (issue 11): with connectionStateRecovery on, the in-memory
 * adapter keeps every broadcast packet of the namespace for SOCKET_RECOVERY_MS, and prunes only once
 * a minute, so 100 fast tasks of 1 000 steps held ≈ 100 000 packets (RSS 158 → 327 MB). Past
 * `maxPackets` the oldest are dropped. A socket whose missed packets were dropped is not recovered
 * (socket.io finds no offset and connects it afresh), and the lanes already handle that: the task
 * lane re-subscribes from its last seq and the store answers the rest; rooms and boards send their
 * state on (re)join. Trimmed in steps of a quarter, so that a full buffer costs one splice per
 * `maxPackets / 4` broadcasts rather than one per broadcast.
 */
export function boundRecoveryBuffer(io: Server, maxPackets: number): void {
  const configured = io.adapter();
  // Only socket.io's own adapter classes are extended; a factory (a Redis adapter) keeps its own.
  if (typeof configured !== 'function' || !configured.prototype) return;
  const Base = configured as Extract<
    NonNullable<typeof configured>,
    abstract new (
      ...args: never[]
    ) => unknown
  >;
  const slack = Math.max(1, Math.ceil(maxPackets / 4));
  class BoundedRecoveryAdapter extends Base {
    override broadcast(...args: Parameters<NamespaceAdapter['broadcast']>): void {
      super.broadcast(...args);
      const kept = (this as RecoveryBuffer).packets;
      if (kept && kept.length > maxPackets + slack) kept.splice(0, kept.length - maxPackets);
    }
  }
  // Setting the adapter re-creates each existing namespace's adapter (nothing is in them yet).
  io.adapter(BoundedRecoveryAdapter);
}
