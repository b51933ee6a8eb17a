import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** What a log line must never carry, as pino-http serialises a request and its answer. Each is a
 *  credential (docs/security.md): the `lab-link` cookie names a browser's network link (whoever holds
 *  it reads that browser's conditions and, choosing new ones under it, closes every connection the
 *  browser has open), and `Authorization` carries the operator token. Logs get read and pasted into
 *  bug reports by people who should hold neither. */
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
] as const;

/** The logger; `destination` is stdout unless given (a test reads its lines). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'transport-lab' },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
