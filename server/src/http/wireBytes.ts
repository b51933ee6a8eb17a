import type { Socket } from 'node:net';
import { REQUEST_BYTES_HEADER } from '@transport-lab/shared';
import type { NextFunction, Request, Response } from 'express';

/** socket.bytesRead when the previous request on this keep-alive connection was answered. */
const readAtLastAnswer = new WeakMap<Socket, number>();

/**
 * Sets `x-request-bytes` on every answer: the bytes this request took on the wire (request line,
 * headers, body), read off the TCP socket's own counter, so that a browser, which cannot see the
 * request headers it sends, can still count its upload truly. Measured when the head is written,
 * by which time the body has been read.
 */
export function requestWireBytes(req: Request, res: Response, next: NextFunction): void {
  const socket = req.socket;
  const startedAt = readAtLastAnswer.get(socket) ?? 0;
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadWithBytes(this: Response, ...args: unknown[]) {
    if (!this.headersSent) this.setHeader(REQUEST_BYTES_HEADER, String(socket.bytesRead - startedAt));
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as typeof res.writeHead;
  res.on('finish', () => readAtLastAnswer.set(socket, socket.bytesRead));
  next();
}
