import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { parseHost } from '../access/origins.ts';

/** A hostname a CSP host-source can name: CSP's grammar has letters, digits, `-` and `.` only, so
 *  an IPv6 literal cannot be written. */
const CSP_HOST = /^[a-z0-9.-]+$/;

/**
 * The built-in receiver as the page reaches it: the page opens its relay streams on the hostname it
 * was loaded from, on the receiver's port (client/src/transports/webhook.ts, `relayUrl`; the board's
 * `receiverOrigin`). Written without a scheme, a source matches the page's own (http, or https
 * behind a TLS proxy). For an IPv6 page address, which CSP cannot name, any host on that port.
 */
export function receiverSource(req: IncomingMessage, receiverPort: number): string {
  const hostname = parseHost(req.headers.host)?.hostname;
  return hostname !== undefined && CSP_HOST.test(hostname)
    ? `${hostname}:${receiverPort}`
    : `*:${receiverPort}`;
}

/**
 * The HTTP/2 demo port as the page reaches it (`H2_PORT`, server/src/scenes/h2.ts): https on the page's
 * hostname, the scheme written since the page's own is http. Empty when the port is off.
 */
export function h2Source(req: IncomingMessage, port: number | undefined): string {
  if (port === undefined) return '';
  const hostname = parseHost(req.headers.host)?.hostname;
  return hostname !== undefined && CSP_HOST.test(hostname)
    ? `https://${hostname}:${port}`
    : `https://*:${port}`;
}

/**
 * Security headers for the page and its static files (index.html, /assets/*, the single-page
 * fallback), and only for them: the API's lane answers, the task stream, socket.io and the
 * receiver's relay keep the headers they had, since each lane's bytes on the wire are measured
 * against Chromium's network log and the server's ledger, and a header added here would be counted
 * as that lane's cost.
 *
 * The Content-Security-Policy is what the built page needs and no more:
 * - `script-src 'self'`: module scripts from /assets (the entry, and the chunks it imports, some on
 *   first need: docs/architecture.md), nothing inline, no eval. The page sets zod to `jitless`
 *   (client/src/lib/zod-jitless.ts) so that zod never probes `new Function`.
 * - `style-src 'self'`: stylesheets from /assets (the page's, and the shared board's once it loads). React sets `style={…}` props (the lanes'
 *   `--lane-color`, a progress bar's width) through the CSSOM (`element.style.setProperty`), which
 *   CSP does not govern, so no `'unsafe-inline'` is needed, not even in `style-src-attr`.
 * - `img-src 'self' data:`: the favicon is a `data:` SVG in index.html (the QR code is inline SVG).
 * - `connect-src 'self'` (CSP Level 3's `'self'` matches the same host and port over `ws:` too, as
 *   socket.io's WebSocket needs) and the built-in receiver, on another port (its relay streams).
 * - `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for older browsers): the page is never
 *   framed, so a page elsewhere cannot overlay the operator's buttons.
 * - `object-src 'none'`, `base-uri 'self'`, `form-action 'self'`: nothing the page uses, closed.
 * No `upgrade-insecure-requests` and no Strict-Transport-Security: the lab is plain HTTP on a LAN
 * (phones open `http://192.168.…:3000`), and either would send the browser to an https that is not
 * there. No Cross-Origin-Embedder-Policy: nothing needs cross-origin isolation, and it would demand
 * CORP of the receiver's streams.
 */
export function pageSecurityHeaders({
  receiverPort,
  h2Port = () => undefined,
}: {
  receiverPort: () => number;
  /** The HTTP/2 demo port (`H2_PORT`), when it listens: the six-streams scene opens streams there. */
  h2Port?: () => number | undefined;
}): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        // The receiver, and the HTTP/2 demo port when it listens (one function: an empty source is not allowed).
        connectSrc: [
          "'self'",
          (req) => [receiverSource(req, receiverPort()), h2Source(req, h2Port())].filter(Boolean).join(' '),
        ],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    // The page's address can carry a room code or the operator token (`/?operator=…`, removed from
    // the address bar at once, but present when the first requests leave): sent to nobody.
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
}
