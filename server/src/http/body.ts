import type { IncomingMessage } from 'node:http';

/**
 * How much of a refused body is read and thrown away after its 413 has been answered. A server that
 * answers and closes while the client is still sending makes the kernel reset the connection (unread
 * data on close sends RST), and the client then often sees ECONNRESET instead of the 413; reading the
 * rest lets the answer arrive and the connection be reused. Past this much, reading on would let one
 * client keep the server busy for as long as it likes, so the connection is cut.
 */
export const DISCARD_LIMIT_BYTES = 4 * 1_048_576;

/** Reads the rest of a refused request's body and throws it away; past `limitBytes` more, cuts the
 *  connection. Call before answering. */
export function discardBody(req: IncomingMessage, limitBytes = DISCARD_LIMIT_BYTES): void {
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limitBytes) req.socket.destroy();
  });
  req.on('error', () => undefined); // a cut connection is the end of it, nothing to report
  req.resume();
}

/**
 * The raw body as bytes (a webhook's signature is over exactly what came on the wire), or
 * `undefined` as soon as it passes `limitBytes`: the caller answers 413 at once while the rest is
 * discarded (`discardBody`). Rejects when the connection fails mid-body.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', reject);
      chunks.length = 0;
      discardBody(req);
      resolve(undefined);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** One path segment, percent-decoded; undefined when it is not valid percent-encoding (`%ZZ`, a lone
 *  `%E0`), which `decodeURIComponent` would throw on. */
export function decodePathSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
