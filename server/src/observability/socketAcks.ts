import { ErrorBody } from '@transport-lab/shared';
import type { Server } from 'socket.io';
import { NAMESPACES } from '../access/socketLimits.ts';
import { splitAck } from '../socketHandler.ts';

/**
 * Tells `onRefused` of every `{ok: false, error}` acknowledgement a socket on `/`, `/room` or
 * `/board` is answered with, whoever answers it (a handler, a rate limit's `refusePacket`): each
 * packet's ack is wrapped as it arrives, before any of the namespace's own middleware or handlers:
 * called before the lanes, rooms and boards register, this `connection` listener is each namespace's
 * first (a namespace middleware would miss the sockets that connection state recovery brings back,
 * which skip middlewares).
 */
export function watchAckRefusals(io: Server, onRefused: (body: ErrorBody) => void): void {
  for (const name of NAMESPACES) {
    io.of(name).on('connection', (socket) => {
      socket.use((packet, nextPacket) => {
        const { reply } = splitAck(packet.slice(1));
        if (reply) {
          packet[packet.length - 1] = (answer: unknown) => {
            const failed = (answer as { ok?: unknown; error?: unknown } | undefined)?.ok === false;
            const body = failed ? ErrorBody.safeParse((answer as { error: unknown }).error) : undefined;
            if (body?.success) onRefused(body.data);
            reply(answer);
          };
        }
        nextPacket();
      });
    });
  }
}
