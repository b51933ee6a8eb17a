import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction, NetConnectOpts, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** What one attempt came to: an HTTP status, or no answer and an error. */
export interface SendResult {
  httpStatus?: number;
  /** The receiver's Retry-After header, verbatim. */
  retryAfter?: string;
  /** Why the attempt failed: network error, timeout, refused redirect, guard refusal. */
  error?: string;
}

export interface SendOptions {
  headers: Record<string, string>;
  body: string;
  /** The whole attempt (connect, send, status, reading the answer) must fit in this, ms. */
  timeoutMs: number;
  /** The SSRF guard's connect-time lookup, for a host that is a name. */
  lookup?: LookupFunction;
  /** Aborts the attempt (server shutting down). */
  signal?: AbortSignal;
  /** Handed the attempt's own (fresh) socket, e.g. to count its bytes. */
  onSocket?: (socket: Socket) => void;
  /** Makes the attempt's (fresh) connection instead of net.connect, for an `http:` URL: the network
   *  conditions' shaped socket (server/src/network). It is handed the connect options, lookup included. */
  createConnection?: (options: NetConnectOpts) => Duplex;
}

/** The receiver's answer is read and dropped; past this many bytes the connection is cut. */
const MAX_ANSWER_BYTES = 65_536;

/**
 * One POST with node:http(s), so that this code, not a library, decides how to connect: a fresh
 * connection each attempt (`agent: false`, so the guard's lookup runs every time), the guard's own
 * lookup for names, and no redirect following at all: a 3xx is a failed attempt, logged with its
 * Location, because following it would let a receiver point this server at any address.
 */
export function sendOnce(url: URL, options: SendOptions): Promise<SendResult> {
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const fail = (error: string) => {
      finish({ error });
      req?.destroy();
    };
    const timer = setTimeout(
      () => fail(`timeout: no complete answer within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    const onAbort = () => fail('aborted: the server is shutting down');
    if (options.signal?.aborted) return fail('aborted: the server is shutting down');
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const shaped = url.protocol === 'http:' ? options.createConnection : undefined;
    req = request(url, {
      method: 'POST',
      // node:http ignores createConnection when given an agent (agent: false makes one); without an
      // agent, it connects afresh with createConnection for each request, as agent: false does.
      ...(shaped ? { createConnection: shaped as never } : { agent: false }),
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
    if (options.onSocket) req.once('socket', options.onSocket);
    req.on('error', (error) => fail(error.message));
    req.on('response', (res: IncomingMessage) => {
      const httpStatus = res.statusCode ?? 0;
      const retryAfter = res.headers['retry-after'];
      const result: SendResult = {
        httpStatus,
        ...(retryAfter === undefined ? {} : { retryAfter }),
        ...(httpStatus >= 300 && httpStatus < 400
          ? { error: `redirect not followed (Location: ${res.headers.location ?? 'none'})` }
          : {}),
      };
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // The status is what counts; a receiver that streams on and on only loses its connection.
        if (bytes > MAX_ANSWER_BYTES) {
          finish(result);
          res.destroy();
        }
      });
      res.on('end', () => finish(result));
      res.on('error', (error) => finish({ ...result, error: error.message }));
      res.on('close', () => finish({ ...result, error: result.error ?? 'connection closed mid-answer' }));
    });
    req.end(options.body);
  });
}
