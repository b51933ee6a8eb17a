import type { IncomingMessage } from 'node:http';
import { HTTP_HEADERS } from '@transport-lab/shared';

/**
 * Whether a GET's `If-None-Match` matches the representation's ETag, so that it answers 304 with
 * no body: the weak comparison (RFC 9110 §13.1.2: `W/` prefixes are ignored), `*` matches any. For
 * every resource with a strong ETag: the task (short polling), the board.
 */
export function matchesIfNoneMatch(req: IncomingMessage, etag: string): boolean {
  const header = req.headers[HTTP_HEADERS.ifNoneMatch];
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
