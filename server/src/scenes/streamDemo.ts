import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { STREAM_DEMO, type StreamDemoHello, StreamDemoQuery } from '@transport-lab/shared';
import { AppError, errorBody, parseOrThrow } from '../errors.ts';

/**
 * The six-streams scene's event stream (issue 15, item 5): it says hello at once, naming the HTTP
 * version and the browser's TCP port it came on, then holds the request open, as a quiet SSE stream
 * does, until the browser closes it (or `STREAM_DEMO.maxHoldMs`). Written against what node:http's
 * and node:http2's compatibility API have in common (`writeHead`, `write`, `end`, `close`), so that the
 * very same handler answers on the page's port (HTTP/1.1, through express) and on the HTTP/2 port
 * (h2.ts), and only the protocol differs between the two halves of the scene.
 */

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/** Demo streams the whole server holds at once: ten pages running the scene at the same moment. */
const MAX_OPEN = STREAM_DEMO.streams * 2 * 10;

export interface StreamDemo {
  handle(req: Req, res: Res, headers?: Record<string, string>): void;
  /** Demo streams open now. */
  open(): number;
}

/** The one error envelope, for the HTTP/2 port that has no express error handler. */
export function sendError(res: Res, error: unknown, headers: Record<string, string> = {}): void {
  const status = error instanceof AppError ? error.status : 500;
  const extra = error instanceof AppError ? error.headers : {};
  (res as ServerResponse).writeHead(status, { 'content-type': 'application/json', ...headers, ...extra });
  res.end(JSON.stringify({ error: errorBody(error) }));
}

export function createStreamDemo(): StreamDemo {
  let open = 0;
  return {
    open: () => open,
    handle(req, res, headers = {}) {
      const url = new URL(req.url ?? '/', 'http://demo.invalid');
      const { n } = parseOrThrow(StreamDemoQuery, Object.fromEntries(url.searchParams), 'stream-demo query');
      if (open >= MAX_OPEN) {
        // A demo stream ends by itself within maxHoldMs, so a slot is free by then.
        throw new AppError(
          'UNAVAILABLE',
          `${MAX_OPEN} demo streams are open on this server; try again shortly.`,
          undefined,
          {
            'Retry-After': String(STREAM_DEMO.maxHoldMs / 1000),
          },
        );
      }
      open += 1;
      let closed = false;
      const end = () => {
        if (closed) return;
        closed = true;
        open -= 1;
        clearTimeout(limit);
      };
      const limit = setTimeout(() => {
        end();
        res.end();
      }, STREAM_DEMO.maxHoldMs);
      res.on('close', end);
      (res as ServerResponse).writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        ...headers,
      });
      const hello: StreamDemoHello = {
        n,
        httpVersion: req.httpVersion,
        remotePort: req.socket?.remotePort ?? 0,
        openStreams: open,
      };
      // `retry:` an hour: the page closes each stream itself, and a stream the server ended must not
      // come back on its own and take a connection the scene counts.
      (res as ServerResponse).write(`retry: 3600000\ndata: ${JSON.stringify(hello)}\n\n`);
    },
  };
}
