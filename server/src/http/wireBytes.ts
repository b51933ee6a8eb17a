import { REQUEST_BYTES_HEADER } from '@transport-lab/shared';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { WireLedger } from '../observability/wireLedger.ts';

/**
 * `x-request-bytes` on every API answer: the bytes this request took on the wire (request line,
 * headers, body), read off the TCP socket's own counter by the wire ledger, so that a browser, which
 * cannot see the request headers it sends, can still count its upload truly.
 *
 * Stamped once the body has been read: `stamp` runs after the JSON body parser, and `stampOnError`
 * before the error handler for answers refused earlier (415, 413, malformed JSON). The bench measured
 * a wrapped `writeHead` and a `finish` listener per request among the ledger's costs; this is neither.
 */
export function requestWireBytes(wire: WireLedger): {
  stamp: RequestHandler;
  stampOnError: ErrorRequestHandler;
} {
  const setHeader = (req: Request, res: Response) => {
    if (res.headersSent) return;
    const bytes = wire.requestBytes(req);
    if (bytes !== undefined) res.setHeader(REQUEST_BYTES_HEADER, String(bytes));
  };
  return {
    stamp(req, res, next) {
      setHeader(req, res);
      next();
    },
    stampOnError(error, req, res, next) {
      setHeader(req, res);
      next(error);
    },
  };
}
