import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { REQUEST_ID_HEADER } from '@transport-lab/shared';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { AppError, INTERNAL_ERROR_BODY } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

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
      child ??= logger.child({ req: { id, method: req.method, url: req.url } });
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

export function jsonBody(limitBytes: number): RequestHandler {
  return express.json({ limit: limitBytes, type: 'application/json', strict: true });
}

/** body-parser's error types, each turned into the fitting AppError. */
function fromBodyParser(error: unknown, limitBytes: number): AppError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch ((error as { type: unknown }).type) {
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${limitBytes} bytes.`, {
        limitBytes,
      });
    case 'entity.parse.failed':
      return new AppError('MALFORMED_JSON', 'Request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be UTF-8 JSON.');
    case 'request.aborted':
      return new AppError('VALIDATION_FAILED', 'The request was aborted before its body arrived.');
    default:
      return undefined;
  }
}

export const apiNotFound: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `No API route for ${req.method} ${req.originalUrl.split('?')[0]}.`));
};

/** The one error answer: the envelope with the code's status; unknown errors are logged in full
 *  and reach the client only as a generic message. */
export function errorHandler(limitBytes: number): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = error instanceof AppError ? error : fromBodyParser(error, limitBytes);
    if (res.headersSent) {
      req.log?.error({ err: error }, 'error after the answer had begun');
      res.end();
      return;
    }
    if (appError) {
      for (const [name, value] of Object.entries(appError.headers)) res.setHeader(name, value);
      res.status(appError.status).json(appError.toEnvelope());
      return;
    }
    req.log?.error({ err: error }, 'unhandled error');
    res.status(500).json({ error: INTERNAL_ERROR_BODY });
  };
}
