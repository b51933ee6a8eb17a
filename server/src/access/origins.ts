import type { IncomingMessage } from 'node:http';

/**
 * Which browser pages may talk to the lab's sockets and to its receiver (docs/security.md,
 * "Origins"). A browser says which page a request comes from in `Origin`, and a page on another site
 * can open a WebSocket to any address (WebSockets have no CORS) or read a credentialed answer that
 * names its origin. So only the lab's own page is let in: the origin the page itself is served from,
 * and what ALLOWED_ORIGINS adds. A request without `Origin` is not a browser page's cross-origin
 * request (the tests', the benchmark's and any API client's Node sockets send none) and is let in.
 */
export interface OriginPolicy {
  /** socket.io's `allowRequest`: undefined to let the connection in, else why it is refused. */
  socketRefusal(req: IncomingMessage): string | undefined;
  /**
   * Whether the receiver, on its own port, may answer a page at `origin` (CORS with credentials):
   * the lab's page is on the same host as the receiver was reached by, on the app's port.
   */
  receiverAllows(origin: string, receiverHost: string | undefined): boolean;
}

/** An `Origin` header as a URL; undefined for `null` (a sandboxed frame, a file, a redirect's
 *  opaque origin), for anything but http(s), and for what does not parse. */
function parseOrigin(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A `Host` header as a URL (host and port, lower-cased, default port dropped); undefined if absent
 *  or malformed. */
export function parseHost(host: string | undefined): URL | undefined {
  if (host === undefined || host === '') return undefined;
  try {
    const url = new URL(`http://${host}`);
    // `new URL` would read `a/b` or `a@b` as more than a host: a Host header is only a host.
    return url.host === host.toLowerCase().replace(/:80$/, '') ? url : undefined;
  } catch {
    return undefined;
  }
}

const portOf = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

export function createOriginPolicy({
  allowedOrigins,
  appPort,
}: {
  /** ALLOWED_ORIGINS, each in the browser's own spelling (`URL.origin`). */
  allowedOrigins: readonly string[];
  /** Where the page is served (the app's listening port); undefined before it listens. */
  appPort: () => number | undefined;
}): OriginPolicy {
  const listed = new Set(allowedOrigins);
  return {
    socketRefusal(req) {
      const origin = req.headers.origin;
      if (origin === undefined) return undefined;
      const url = parseOrigin(origin);
      if (url && listed.has(url.origin)) return undefined;
      // Same origin: the page was loaded from the very host (and port) this connection is addressed
      // to. The scheme is left out: behind a TLS proxy the page is https and the Host the same.
      const host = parseHost(req.headers.host);
      if (url && host && url.host === host.host) return undefined;
      // The refused Origin is not echoed back: the answer says what would be let in instead.
      return 'This Origin is not the lab’s own page: socket.io accepts the page it serves (same host and port) and the origins listed in ALLOWED_ORIGINS.';
    },
    receiverAllows(origin, receiverHost) {
      const url = parseOrigin(origin);
      if (!url) return false;
      if (listed.has(url.origin)) return true;
      // The page reaches the receiver on its own hostname (client/src/transports/webhook.ts, relayUrl),
      // so the page's origin is that hostname on the app's port.
      const host = parseHost(receiverHost);
      const port = appPort();
      return (
        host !== undefined && port !== undefined && url.hostname === host.hostname && portOf(url) === port
      );
    },
  };
}
