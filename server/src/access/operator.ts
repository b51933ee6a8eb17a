import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { OperatorToken } from '@transport-lab/shared';
import { AppError } from '../errors.ts';
import { isLoopbackAddress } from './addresses.ts';

/** Who sent a request, as far as the server can tell: the TCP peer and the request's headers (an
 *  HTTP request's, or a socket.io connection's handshake). */
export interface Peer {
  address: string | undefined;
  headers: IncomingHttpHeaders;
}

export const peerOf = (req: IncomingMessage): Peer => ({
  address: req.socket.remoteAddress,
  headers: req.headers,
});

/** 256 random bits, base64url (43 characters): what `npm start` prints when OPERATOR_TOKEN is unset. */
export { isLoopbackAddress };

export function generateOperatorToken(): OperatorToken {
  return randomBytes(32).toString('base64url');
}

/**
 * The client addresses a proxy says it forwarded for: every `X-Forwarded-For` entry and every
 * `for=` of `Forwarded` (RFC 7239). Empty when neither header is there.
 */
export function forwardedFor(headers: IncomingHttpHeaders): string[] {
  const addresses: string[] = [];
  const xff = headers['x-forwarded-for'];
  for (const value of typeof xff === 'string' ? [xff] : (xff ?? [])) {
    for (const entry of value.split(',')) addresses.push(entry.trim());
  }
  const forwarded = headers.forwarded;
  if (forwarded !== undefined) {
    let found = false;
    for (const match of forwarded.matchAll(/for=("?)\[?([^\]",;]*)\]?(?::\d+)?\1/gi)) {
      addresses.push(match[2] ?? '');
      found = true;
    }
    // A Forwarded header whose `for` cannot be read still says a proxy stands between.
    if (!found) addresses.push('unknown');
  }
  return addresses;
}

/**
 * From this machine: the TCP peer is a loopback address and, if a proxy on this machine forwarded
 * the request (Vite's dev server does, with `xfwd`), so is every address it forwarded for. Without
 * that second check, every phone talking through a local proxy would be the operator.
 */
export function isLocal(peer: Peer): boolean {
  return isLoopbackAddress(peer.address) && forwardedFor(peer.headers).every(isLoopbackAddress);
}

/** The Bearer credential of an `Authorization` header (RFC 6750 §2.1), if there is one. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/** Equal strings, in time that does not depend on where they differ (both are hashed first, so
 *  their lengths do not show either). */
export function sameToken(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export interface OperatorGate {
  /** From this machine, or carrying the operator token. */
  isOperator(peer: Peer): boolean;
  /** Throws 403 FORBIDDEN, saying what `action` needs, unless `peer` is the operator. */
  require(peer: Peer, action: string): void;
}

/** The operator check. Without a token (a server started without one) only this machine is. */
export function createOperatorGate(token: OperatorToken | undefined): OperatorGate {
  const isOperator = (peer: Peer) => {
    if (isLocal(peer)) return true;
    const given = bearerToken(peer.headers);
    return token !== undefined && given !== undefined && sameToken(given, token);
  };
  return {
    isOperator,
    require(peer, action) {
      if (isOperator(peer)) return;
      throw new AppError(
        'FORBIDDEN',
        `${action} reaches other people's races, so it needs the operator: send it from the server's own machine, or with the operator token that \`npm start\` printed (open the presenter's link, or send Authorization: Bearer <token>).`,
      );
    },
  };
}
