import type { IncomingMessage } from 'node:http';
import { isLoopbackAddress } from '../access/addresses.ts';

/**
 * Behind `npm run start:cluster`'s nginx an instance reads the request nginx forwarded, whose head
 * is not the browser's (nginx adds X-Forwarded-For, Connection: close, …), so the bytes its socket
 * counted are not the bytes the browser sent. nginx tells it those in this header (`$request_length`:
 * request line, headers and body as nginx read them from the browser, the body whole because nginx
 * buffers it before forwarding: scripts/cluster/nginx.mjs).
 */
export const CLIENT_REQUEST_BYTES_HEADER = 'x-lab-client-request-bytes';

/**
 * The bytes the browser sent for this request as a proxy on this machine reports them, or undefined
 * when there is no such report. Believed from a loopback peer only, as X-Forwarded-For is
 * (access/clientLimits.ts): anyone else could only misreport their own upload anyway, but a proxy
 * elsewhere is not this lab's.
 */
export function proxiedRequestBytes(req: IncomingMessage): number | undefined {
  const value = req.headers[CLIENT_REQUEST_BYTES_HEADER];
  if (typeof value !== 'string' || !/^\d{1,12}$/.test(value)) return undefined;
  if (!isLoopbackAddress(req.socket.remoteAddress ?? '')) return undefined;
  return Number(value);
}
