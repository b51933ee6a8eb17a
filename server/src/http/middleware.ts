import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { REQUEST_ID_HEADER } from '@transport-lab/shared';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { AppError, INTERNAL_ERROR_BODY } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Structured request logs with a request id: the caller's `x-request-id` if sane, else a new one. */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId(req: IncomingMessage, res) {
      const incoming = req.headers[REQUEST_ID_HEADER];
      const id = typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
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
