import type { IncomingMessage } from 'node:http';
import { tagOf } from '../observability/wireLedger.ts';
import { normalizedAddress } from './addresses.ts';
import { forwardedFor, isLoopbackAddress } from './operator.ts';

/**
 * Whose request this is, for what a client keeps to itself: its Idempotency-Keys (http/createTask.ts).
 * A page's request names its run (the lab tag, `x-lab-run` or `labRun`): 128 random bits only that
 * page knows, the same capability that owns the run's tasks (docs/security.md). An untagged client
 * (curl, an API client) is its address; behind a proxy on this machine (Vite's dev server forwards
 * with `xfwd`), the addresses that proxy says it forwards for. `X-Forwarded-For` is believed from a
 * loopback peer only: from anywhere else it is whatever the sender wrote.
 */
export function clientScope(req: IncomingMessage): string {
  const runId = tagOf(req)?.runId;
  if (runId !== undefined) return `run:${runId}`;
  const address = req.socket.remoteAddress;
  const forwarded = isLoopbackAddress(address) ? forwardedFor(req.headers) : [];
  if (forwarded.length > 0) return `forwarded:${forwarded.join(',')}`;
  // One spelling per peer: a dual-stack socket sees an IPv4 peer as ::ffff:a.b.c.d.
  const peer = address !== undefined ? normalizedAddress(address) : address;
  return `address:${peer ?? 'unknown'}`;
}
