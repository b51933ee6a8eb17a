import type { Server as HttpServer } from 'node:http';
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { clientOf } from '../access/index.ts';
import { type Link, type LinkRegistry, linkIdFromCookies } from './links.ts';
import { ShapedSocket } from './shapedSocket.ts';
import type { ShaperClock } from './shaper.ts';

const HEAD_END = Buffer.from('\r\n\r\n');
/** Without a request head by then, a connection is closed (node:http's own headersTimeout would
 *  answer it 408 and close it after as long). */
const DEFAULT_INTAKE_TIMEOUT_MS = 60_000;

/** The values of one header (`name` in lower case) in a raw request head (latin1, as node:http
 *  reads header bytes). */
function headerOfHead(head: Buffer, name: string): string[] {
  const prefix = `${name}:`;
  const values: string[] = [];
  for (const line of head.toString('latin1').split('\r\n').slice(1)) {
    if (line.length > prefix.length && line.slice(0, prefix.length).toLowerCase() === prefix)
      values.push(line.slice(prefix.length).trim());
  }
  return values;
}

/** The Cookie header values of a raw request head. */
export const cookiesOfHead = (head: Buffer): string[] => headerOfHead(head, 'cookie');

/** Who opened a connection, as access/clientLimits.ts counts clients: its peer, and what a proxy on
 *  this machine says it forwards for. */
function clientOfHead(socket: Socket, head: Buffer): string | undefined {
  const forwarded = headerOfHead(head, 'forwarded');
  return clientOf({
    address: socket.remoteAddress,
    headers: {
      'x-forwarded-for': headerOfHead(head, 'x-forwarded-for').join(', ') || undefined,
      forwarded: forwarded.length > 0 ? forwarded.join(', ') : undefined,
    },
  });
}

export interface Intake {
  /** The link a connection (a request's `req.socket`) was opened under, if it was shaped. */
  linkOf(socket: Duplex): Link | undefined;
  /** Destroys the connections whose head is still awaited (server shutdown). */
  close(): void;
}

/**
 * Takes over a listening HTTP server's connections: each accepted TCP socket's first request head
 * is read (to its blank line, at most node:http's max header size, within the headers timeout) to
 * find the `lab-link` cookie. Without a cookie, or with an unknown link or one that shapes nothing,
 * the head is put back (`unshift`) and the real socket goes to node:http as it came: the zero-cost
 * path. A shaped link's connection goes to node:http as a ShapedSocket over the real one.
 *
 * node:http's own `connection` listener is removed and called from here, so that the server keeps
 * listening, closing and counting its connections as before.
 */
export function attachIntake(
  server: HttpServer,
  links: LinkRegistry,
  clock: ShaperClock,
  timeoutMs = server.headersTimeout || DEFAULT_INTAKE_TIMEOUT_MS,
): Intake {
  const handlers = server.listeners('connection') as Array<(socket: Duplex) => void>;
  server.removeAllListeners('connection');
  const handOver = (socket: Duplex) => {
    for (const handler of handlers) handler.call(server, socket);
  };
  const waiting = new Set<Socket>();
  const shapedLinks = new WeakMap<Duplex, Link>();

  function classify(socket: Socket, head: Buffer, acceptedAt: number): void {
    const id = linkIdFromCookies(cookiesOfHead(head));
    const link = id === undefined ? undefined : links.adopt(id, clientOfHead(socket, head));
    if (!link?.shaper) {
      socket.unshift(head);
      if (link) links.track(link, socket);
      handOver(socket);
      // Paused while the head was read; node:http's 'data' listener does not resume a paused socket.
      socket.resume();
      return;
    }
    const shaped = new ShapedSocket(socket, link.shaper, { role: 'accepted', head, openedAt: acceptedAt });
    shapedLinks.set(shaped, link);
    links.track(link, shaped);
    handOver(shaped);
  }

  server.on('connection', (socket: Socket) => {
    // No link exists: no cookie can name one, so nothing is read (the truly zero-cost path).
    if (links.size === 0) {
      handOver(socket);
      return;
    }
    const acceptedAt = clock.now();
    const chunks: Buffer[] = [];
    let size = 0;
    waiting.add(socket);
    const done = (classifyIt: boolean) => {
      timer.cancel();
      waiting.delete(socket);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
      if (classifyIt) classify(socket, Buffer.concat(chunks, size), acceptedAt);
    };
    const onData = (chunk: Buffer) => {
      const from = Math.max(0, size - HEAD_END.length + 1);
      chunks.push(chunk);
      size += chunk.length;
      const joined = chunks.length === 1 ? chunk : Buffer.concat(chunks, size);
      if (joined.indexOf(HEAD_END, from) !== -1 || size >= maxHeaderSize) done(true);
    };
    // A peer that ends or fails before its head is complete sent no request: nothing to answer.
    const onEnd = () => {
      done(false);
      socket.destroy();
    };
    const onError = () => {
      done(false);
      socket.destroy();
    };
    const timer = clock.setTimer(() => {
      done(false);
      socket.destroy();
    }, timeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });

  return {
    linkOf: (socket) => shapedLinks.get(socket),
    close() {
      for (const socket of waiting) socket.destroy();
      waiting.clear();
    },
  };
}
