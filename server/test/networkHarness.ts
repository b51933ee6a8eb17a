import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import type { Socket } from 'node:net';
import { LinkResponse, NETWORK_LINK_COOKIE, NETWORK_PATHS, type SetLinkRequest } from '@transport-lab/shared';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Chooses a link as a page does; returns the `Cookie` header value that names it, and the answer. */
export async function chooseLink(
  baseUrl: string,
  choice: SetLinkRequest,
  cookie?: string,
): Promise<{ cookie: string; link: LinkResponse; connection: string | null }> {
  const res = await fetch(`${baseUrl}${NETWORK_PATHS.link}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(choice),
  });
  if (res.status !== 200) throw new Error(`PUT link answered ${res.status}: ${await res.text()}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const pair = setCookie.split(';')[0] ?? '';
  if (!pair.startsWith(`${NETWORK_LINK_COOKIE}=`)) throw new Error(`no link cookie in ${setCookie}`);
  return {
    cookie: pair,
    link: LinkResponse.parse(await res.json()),
    connection: res.headers.get('connection'),
  };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** From the call to the answer's last byte, ms. */
  ms: number;
  /** Whether it went over a connection opened before it (keep-alive). */
  reused: boolean;
  /** Bytes the client's socket read for this answer: the answer as it crossed the wire. */
  bytesDown: number;
}

/**
 * One browser-like HTTP/1.1 connection: node:http with a keep-alive agent of one socket, so that
 * requests one after the other reuse it, as a browser reuses a warm connection. The cookie, when
 * given, goes with every request, as a browser sends its cookies.
 */
export class Connection {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    readonly origin: string,
    readonly cookie?: string,
  ) {}

  request(
    method: string,
    path: string,
    { body, headers = {} }: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      let readBefore = 0;
      let socket: Socket | undefined;
      const req = request(
        `${this.origin}${path}`,
        {
          method,
          agent: this.agent,
          headers: {
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
            ...(this.cookie ? { cookie: this.cookie } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
              reused: req.reusedSocket,
              bytesDown: (socket?.bytesRead ?? 0) - readBefore,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('socket', (s: Socket) => {
        socket = s;
        readBefore = s.bytesRead;
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Opens an event stream on this connection; each message is kept with its arrival time. */
  stream(path: string, headers: Record<string, string> = {}): EventStream {
    return new EventStream(this, path, headers);
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface Received {
  message: EventSourceMessage;
  /** performance.now() at arrival. */
  at: number;
}

/** A Server-Sent Events stream read with eventsource-parser over node:http. */
export class EventStream {
  readonly messages: Received[] = [];
  /** performance.now() when the request was made. */
  readonly openedAt = performance.now();
  private readonly watchers = new Set<() => void>();
  private readonly req;
  ended = false;
  /** The answer's headers, once they came. */
  headers: IncomingHttpHeaders | undefined;

  constructor(connection: Connection, path: string, headers: Record<string, string>) {
    const parser = createParser({
      onEvent: (message) => {
        this.messages.push({ message, at: performance.now() });
        this.check();
      },
    });
    this.req = request(
      `${connection.origin}${path}`,
      {
        agent: connection.agent,
        headers: {
          accept: 'text/event-stream',
          ...(connection.cookie ? { cookie: connection.cookie } : {}),
          ...headers,
        },
      },
      (res) => {
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (text: string) => parser.feed(text));
        // 'close' too: a connection cut mid-stream ends the answer without 'end'.
        for (const event of ['end', 'close', 'error']) {
          res.on(event, () => {
            this.ended = true;
            this.check();
          });
        }
      },
    );
    this.req.on('error', () => {
      this.ended = true;
      this.check();
    });
    this.req.end();
  }

  /** Resolves with the first message (and its arrival) for which `predicate` holds. */
  next(
    predicate: (message: EventSourceMessage) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`stream: no ${what} within ${timeoutMs} ms (${this.messages.length} messages)`));
      }, timeoutMs);
      const check = () => {
        const found = this.messages.find((received) => predicate(received.message));
        if (found) {
          clearTimeout(timer);
          this.watchers.delete(check);
          resolve(found);
        } else if (this.ended) {
          clearTimeout(timer);
          this.watchers.delete(check);
          reject(new Error(`stream ended without ${what}`));
        }
      };
      this.watchers.add(check);
      check();
    });
  }

  close(): void {
    this.req.destroy();
  }

  private check(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}

/** The smallest of `n` measurements made one after the other: the least disturbed by the machine. */
export async function fastestOf(n: number, measure: () => Promise<number>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) best = Math.min(best, await measure());
  return best;
}

/** `actual` within ± `tolerance` (a fraction) of `expected`, with a message that shows both. */
export function within(actual: number, expected: number, tolerance = 0.15): { ok: boolean; text: string } {
  const ok = Math.abs(actual - expected) <= expected * tolerance;
  return { ok, text: `${actual.toFixed(1)} ms against ${expected.toFixed(1)} ms ± ${tolerance * 100} %` };
}
