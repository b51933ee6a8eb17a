import { BOARD_NAMESPACE, ROOM_NAMESPACE } from '@transport-lab/shared';
import type { Server, Socket } from 'socket.io';
import type { ClientLimits } from './clientLimits.ts';
import { peerOf } from './operator.ts';

/** The namespaces a page connects to; each refuses a connection past its client's share. */
const NAMESPACES = ['/', ROOM_NAMESPACE, BOARD_NAMESPACE] as const;

/**
 * socket.io connections count among their client's streams (MAX_STREAMS_PER_CLIENT). What holds a
 * file descriptor is the engine.io connection (one per page's manager, whatever namespaces it
 * multiplexes), so that is what is counted, from its handshake until it closes. One past the share
 * is refused on its first namespace with a connect error whose `data` is the error body
 * (`RATE_LIMITED`, reason `streams`, and a sentence for the page), then closed: refusing in
 * `allowRequest` instead would close it before any coded answer could be read (a browser sees
 * "websocket error" only).
 */
export function limitSocketsPerClient(io: Server, limits: ClientLimits): void {
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
    // socket.io writes the connect error on the next tick; closing after it lets it go out first.
    setImmediate(() => socket.conn.close());
  };
  for (const name of NAMESPACES) io.of(name).use(refuse);
}
