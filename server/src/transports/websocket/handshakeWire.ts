import type { IncomingMessage } from 'node:http';
import type { HandshakeWire } from '@transport-lab/shared';
import type { Server } from 'socket.io';
import { proxiedRequestBytes } from '../../observability/proxiedBytes.ts';

const measured = new WeakMap<IncomingMessage, HandshakeWire>();

/** The `ws` server engine.io upgrades with; `ws` emits `headers` with the final answer lines. */
interface UpgradeEmitter {
  on(event: 'headers', listener: (lines: string[], req: IncomingMessage) => void): void;
}

/**
 * Measures each websocket upgrade as the server sees it: the request's bytes off the TCP socket
 * (the client sends nothing more until it has the 101, so `bytesRead` is exactly the request
 * head), and the 101 answer as `ws` will write it: its lines joined by CRLF, then a blank line.
 * engine.io makes a new `ws` server each time the HTTP server starts listening, so the hook is
 * laid again then (its own `listening` handler runs first: it was registered first).
 */
export function measureHandshakes(io: Server): (req: IncomingMessage) => HandshakeWire | undefined {
  let hooked: UpgradeEmitter | undefined;
  const hook = () => {
    const upgrades = (io.engine as unknown as { ws?: UpgradeEmitter }).ws;
    if (!upgrades || upgrades === hooked) return;
    hooked = upgrades;
    upgrades.on('headers', (lines, req) => {
      const responseBytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 2, 0) + 2;
      // Behind the cluster's nginx, the upgrade request as the browser sent it (proxiedBytes.ts).
      const requestBytes = proxiedRequestBytes(req) ?? req.socket.bytesRead;
      measured.set(req, { requestBytes, responseBytes });
    });
  };
  hook();
  io.httpServer?.on('listening', hook);
  return (req) => measured.get(req);
}
