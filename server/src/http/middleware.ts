import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import {
  type ErrorBody,
  parseTraceparent,
  REQUEST_ID_HEADER,
  TRACEPARENT_HEADER,
} from '@transport-lab/shared';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { AppError, INTERNAL_ERROR_BODY } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { discardBody } from './body.ts';

const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Structured request logs with a request id: the caller's `x-request-id` if sane, else a new one,
 * answered in the same header and bound to `req.log`.
 *
 * pino-http only where it logs something: at `info` and below it writes a line per request. Above
 * `info` it would still build a child logger (serialising the request) and hang three listeners on
 * every answer to log nothing, which the hall profile at 100 phones measured among the largest
 * per-request costs with LOG_LEVEL=silent (docs/benchmarks.md). There the request gets its id, and
 * `req.log` is a child made only when something logs through it; at `warn`, one `finish` listener
 * still logs the 4xx (warn) and 5xx (error) answers, as pino-http would.
 */
export function requestLogging(logger: Logger): RequestHandler {
  if (logger.isLevelEnabled('info')) {
    return pinoHttp({
      logger,
      genReqId(req: IncomingMessage, res) {
        const id = requestIdOf(req);
        res.setHeader(REQUEST_ID_HEADER, id);
        return id;
      },
      // The page's trace, when its request names one: the line is then found by the task's trace-id.
      customProps: (req: IncomingMessage) => traceOf(req),
      customLogLevel(_req, res, err) {
        if (err || res.statusCode >= 500) return 'error';
        if (res.statusCode >= 400) return 'warn';
        return 'info';
      },
    });
  }
  if (!logger.isLevelEnabled('fatal')) {
    // silent: nothing is ever written, so nothing needs binding.
    return (req, res, next) => {
      req.id = requestIdOf(req);
      res.setHeader(REQUEST_ID_HEADER, req.id);
      req.log = logger;
      next();
    };
  }
  const logsFailures = logger.isLevelEnabled('warn');
  return (req, res, next) => {
    const id = requestIdOf(req);
    req.id = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    let child: Logger | undefined;
    const log = () => {
      child ??= logger.child({ req: { id, method: req.method, url: req.url }, ...traceOf(req) });
      return child;
    };
    Object.defineProperty(req, 'log', { get: log, configurable: true, enumerable: false });
    if (logsFailures) {
      res.once('finish', () => {
        if (res.statusCode >= 500) log().error({ res: { statusCode: res.statusCode } }, 'request errored');
        else if (res.statusCode >= 400)
          log().warn({ res: { statusCode: res.statusCode } }, 'request completed');
      });
    }
    next();
  };
}

/** `{traceId}` of the request's `traceparent`, or nothing. */
function traceOf(req: IncomingMessage): { traceId?: string } {
  const trace = parseTraceparent(req.headers[TRACEPARENT_HEADER]);
  return trace ? { traceId: trace.traceId } : {};
}

/** A request that carries a body must say it is JSON: anything else is refused with 415. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    next(
      new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Request bodies must be application/json; got ${req.headers['content-type'] ?? 'no content type'}.`,
      ),
    );
    return;
  }
  next();
};

/**
 * A body whose declared Content-Length is over the limit is refused before a byte of it is read:
 * the 413 goes at once and the rest is discarded (bounded, http/body.ts). body-parser alone would
 * read all of it first, however large, and only then answer.
 */
export function bodyLimit(limitBytes: number): RequestHandler {
  return (req, _res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (!(declared > limitBytes)) {
      next();
      return;
    }
    discardBody(req);
    next(payloadTooLarge(limitBytes));
  };
}

export function jsonBody(limitBytes: number): RequestHandler {
  return express.json({ limit: limitBytes, type: 'application/json', strict: true });
}

const payloadTooLarge = (limitBytes: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${limitBytes} bytes.`, { limitBytes });

/** body-parser's (and raw-body's) error types, each turned into the fitting AppError. */
function fromBodyParser(error: object, limitBytes: number): AppError | undefined {
  if (!('type' in error)) return undefined;
  switch (error.type) {
    case 'entity.too.large':
      return payloadTooLarge(limitBytes);
    case 'entity.parse.failed':
      return new AppError('MALFORMED_JSON', 'Request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Request body must be UTF-8 JSON, sent as is or with Content-Encoding gzip, deflate or br.',
      );
    case 'request.aborted':
      return new AppError('VALIDATION_FAILED', 'The request was aborted before its body arrived.');
    case 'request.size.invalid':
      return new AppError('VALIDATION_FAILED', 'The request body is not as long as its Content-Length says.');
    default:
      return undefined;
  }
}

/** The 4xx status a library error carries (express's router, body-parser, serve-static: http-errors
 *  sets both `status` and `statusCode`), or undefined. */
export function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = 'status' in error ? error.status : 'statusCode' in error ? error.statusCode : undefined;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500
    ? status
    : undefined;
}

/**
 * Any error a client caused, as the AppError to answer with; undefined for the server's own
 * failures. Ours are AppErrors already; a library's carry a 4xx status, and their own message is
 * not passed on (it names internals: "Failed to decode param", zlib's codes).
 */
export function toClientError(error: unknown, req: Request, limitBytes: number): AppError | undefined {
  if (error instanceof AppError) return error;
  const status = clientErrorStatus(error);
  if (status === undefined || typeof error !== 'object' || error === null) return undefined;
  const typed = fromBodyParser(error, limitBytes);
  if (typed) return typed;
  // Express's router decodes each path parameter with decodeURIComponent, which throws on `%ZZ`.
  if (error instanceof URIError) {
    return new AppError('VALIDATION_FAILED', 'The path is not valid percent-encoding (RFC 3986 §2.1).');
  }
  if (status === 413) return payloadTooLarge(limitBytes);
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'This body is not one the server reads.');
  if (status === 403) return new AppError('FORBIDDEN', 'Not allowed.');
  if (status === 404) return new AppError('NOT_FOUND', `Nothing at ${req.method} ${req.path}.`);
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    // body-parser hands on zlib's own error (status 400, no type) for a body that does not inflate.
    return new AppError('MALFORMED_JSON', `Request body is not valid ${encoding} data.`);
  }
  return new AppError('VALIDATION_FAILED', 'The request could not be read.');
}

export const apiNotFound: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `No API route for ${req.method} ${req.originalUrl.split('?')[0]}.`));
};

/** The one error answer: the envelope with the code's status; any error a client caused (ours or a
 *  library's 4xx) becomes its envelope, and unknown errors are logged in full and reach the client
 *  only as a generic message. */
export function errorHandler(
  limitBytes: number,
  /** Told of every error answered (the metrics count refusals by reason). */
  onAnswered: (body: ErrorBody) => void = () => {},
): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (res.headersSent) {
      req.log?.error({ err: error }, 'error after the answer had begun');
      res.end();
      return;
    }
    const appError = toClientError(error, req, limitBytes);
    if (appError) {
      for (const [name, value] of Object.entries(appError.headers)) res.setHeader(name, value);
      res.status(appError.status).json(appError.toEnvelope());
      onAnswered(appError.toBody());
      return;
    }
    req.log?.error({ err: error }, 'unhandled error');
    res.status(500).json({ error: INTERNAL_ERROR_BODY });
  };
}

/** A page path nothing answers (a POST to `/x`): a plain line, not express's HTML page. */
export const pageNotFound: RequestHandler = (_req, res) => {
  res
    .status(404)
    .type('text/plain; charset=utf-8')
    .setHeader('Cache-Control', 'no-store')
    .send('404 Not Found\n');
};

/**
 * The last handler of the page's own paths (the built page, its single-page fallback): a bad path
 * (`/%ZZ`) or any failure answers a plain line with the status, never express's default page, which
 * shows the error's stack and the server's file paths when NODE_ENV is not `production`.
 */
export function pageErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const status = clientErrorStatus(error) ?? 500;
    if (status >= 500) logger.error({ err: error, path: req.path }, 'page request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    res
      .status(status)
      .type('text/plain; charset=utf-8')
      .setHeader('Cache-Control', 'no-store')
      .send(`${status} ${STATUS_CODES[status] ?? 'Error'}\n`);
  };
}
