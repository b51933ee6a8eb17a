import { chunkBytes, LAST_CHUNK_BYTES, SSE, SseWire, sseMessageBytes } from '@transport-lab/shared';
import {
  type AsyncDeps,
  EVENT_SOURCE_CLOSED,
  EVENT_SOURCE_CONNECTING,
  type EventSourceLike,
} from './async-task.ts';
import {
  exchangeLabel,
  nextExchangeId,
  parseJson,
  RESOURCE_ENTRY_WAIT_MS,
  type ResourceWatch,
  taggedUrl,
} from './http.ts';
import type { ExchangeOutcome, Report, WireDelta } from './types.ts';
import { connectionDelta, type ResourceEntryLike } from './wire.ts';

/**
 * How long the page lets a stream whose server is ending it close by itself, ms, before closing it.
 * The server ends the task stream right after the terminal event; letting it finish the answer (rather
 * than cutting the connection mid-close) keeps the connection's end clean, and the browser's record of
 * it complete. Its reconnect, due `retry:` ms later, is cancelled when the close is seen.
 */
export const SERVER_END_WAIT_MS = 2_000;

/** Reconnection attempts in a row, none of which opened, before the lane stops trusting the stream. */
export const MAX_STREAM_RETRIES = 10;

export interface StreamHandlers {
  /** One message, with the time it arrived. */
  message(event: MessageEvent<string>, at: number): void;
  /**
   * The stream is over without the page closing it: the browser gave up (an error status, a 204 after
   * the end, a wrong content type), or it failed to reconnect `MAX_STREAM_RETRIES` times in a row.
   */
  ended(reason: 'refused' | 'unreachable'): void;
}

export interface StreamOptions {
  /** Bytes the server writes at the start of every connection, before any message (the `retry:` hint). */
  preambleBytes: number;
  /** Says on the card what the count could not see, once. */
  what: string;
}

export interface MeteredStream {
  /** Closes the stream. `serverFinished`: the server ends its answer right after what the page just
   *  read (the task stream after its terminal event), so its last chunk crossed the wire too. */
  close(serverFinished?: boolean): void;
  /** Settles once every connection of the stream has ended and its bytes are counted. */
  readonly measured: Promise<void>;
}

interface Connection {
  watch: ResourceWatch;
  /** Body payload bytes counted from what arrived on it, before chunked framing. */
  framed: number;
  /** When it opened, page clock: a connection shorter than one heartbeat period carried none. */
  openedAt?: number;
  /** The server's `wire` message for it: its request's bytes and its answer head's bytes. */
  wire?: SseWire;
  /** The server ended the answer (its last chunk came). */
  serverFinished: boolean;
  /** Whether its request is in the counts (the first at once; a reconnection once it is seen to leave). */
  counted: boolean;
  ended: boolean;
  /** Its exchange on the timeline, once the page knows it left (the first at once, a reconnection on open). */
  id?: number;
}

/**
 * An EventSource that reports its own cost. Requests: the first connection when it is made, each
 * reconnection once the page can see that it reached the server (it opened, or Resource Timing has
 * its answer). Bytes down: while a connection is open, each message as the server frames it; when it
 * ends, its Resource Timing entry (headers included) replaces that count where the entry measures it.
 * Bytes up: never, since an EventSource shows no answer headers, so no `x-request-bytes`.
 */
export function openMeteredStream(
  deps: AsyncDeps,
  path: string,
  report: Report,
  handlers: StreamHandlers,
  options: StreamOptions,
): MeteredStream {
  // Tagged by query, so the server counts it for the lane; Resource Timing names it by this same URL.
  const url = taggedUrl(new URL(path, location.href).href, deps.tag);
  const measuring: Array<Promise<void>> = [];
  const wire = (delta: WireDelta) => report({ type: 'wire', delta, at: deps.now() });
  let notedUnmeasured = false;
  let failuresInARow = 0;
  let closed = false;

  const label = exchangeLabel('GET', new URL(path, location.href).href);
  const startConnection = (counted: boolean): Connection => {
    const connection: Connection = {
      watch: deps.watchResource(url, deps.perfNow()),
      framed: 0,
      counted,
      ended: false,
      serverFinished: false,
    };
    if (counted) {
      connection.id = nextExchangeId();
      report({ type: 'sent', id: connection.id, kind: 'stream', label, at: deps.now() });
      wire({ requests: 1, unmeasuredUp: 1, unmeasuredDown: 1 });
    }
    return connection;
  };
  const endConnection = (connection: Connection, outcome: ExchangeOutcome) => {
    if (connection.ended) return;
    connection.ended = true;
    if (connection.id !== undefined) report({ type: 'ended', id: connection.id, outcome, at: deps.now() });
    const endedAt = deps.now();
    if (connection.serverFinished) wire({ bytesDown: LAST_CHUNK_BYTES });
    measuring.push(
      connection.watch.entry(RESOURCE_ENTRY_WAIT_MS).then((entry) => {
        const delta: WireDelta = {};
        if (!connection.counted) {
          // A reconnection that never opened: it reached the server only if an answer was timed (a 204).
          if (!entry || entry.transferSize <= 0) return;
          Object.assign(delta, { requests: 1, unmeasuredUp: 1, unmeasuredDown: 1 });
        }
        Object.assign(delta, connectionDelta(entry));
        const heartbeats = heartbeatBytes(entry, connection, endedAt);
        if (heartbeats !== undefined && connection.wire !== undefined && connection.counted) {
          // Head, every message and the heartbeats are now in the count: the stream is measured.
          delta.bytesDown = heartbeats;
          delta.unmeasuredDown = -1;
        } else if (!notedUnmeasured) {
          notedUnmeasured = true;
          report({
            type: 'note',
            text: `${options.what}: bytes down counted from what the page saw; heartbeat comments are invisible to it and Resource Timing could not settle them, so the total is a lower bound.`,
            at: deps.now(),
          });
        }
        if (Object.keys(delta).length > 0) wire(delta);
      }),
    );
  };

  let current = startConnection(true);
  report({ type: 'reconnect', count: 0, at: deps.now() });
  let reconnects = 0;
  const source: EventSourceLike = deps.createEventSource(url);

  source.addEventListener('open', () => {
    failuresInARow = 0;
    const at = deps.now();
    if (current.id === undefined) {
      // A reconnection: the browser sent it after the server's `retry:` delay, unseen; it shows on open.
      current.id = nextExchangeId();
      report({ type: 'sent', id: current.id, kind: 'stream', label: `${label} (reconnected)`, at });
    }
    report({ type: 'opened', id: current.id, at });
    current.openedAt = at;
    if (!current.counted) {
      current.counted = true;
      wire({ requests: 1, unmeasuredUp: 1, unmeasuredDown: 1 });
    }
    if (options.preambleBytes > 0) {
      current.framed += options.preambleBytes;
      wire({ bytesDown: chunkBytes(options.preambleBytes) });
    }
  });
  // The server's first message on each connection: what the page cannot see of its own request and
  // of the answer's head. It carries no id, so EventSource's Last-Event-ID is left as it was.
  source.addEventListener(SSE.wireEvent, (event) => {
    if (closed || current.wire) return;
    const bytes = sseMessageBytes({ data: event.data, lastEventId: '', type: SSE.wireEvent });
    current.framed += bytes;
    const parsed = SseWire.safeParse(parseJson(event.data));
    if (!parsed.success) {
      wire({ bytesDown: chunkBytes(bytes) });
      return;
    }
    current.wire = parsed.data;
    wire({
      bytesUp: parsed.data.requestBytes,
      unmeasuredUp: -1,
      bytesDown: parsed.data.responseHeadBytes + chunkBytes(bytes),
    });
  });
  source.addEventListener('message', (event) => {
    if (closed) return;
    const at = deps.now();
    const bytes = sseMessageBytes({ data: event.data, lastEventId: event.lastEventId, type: event.type });
    current.framed += bytes;
    wire({ bytesDown: chunkBytes(bytes) });
    handlers.message(event, at);
  });
  let serverEnd: { seen(): void; promise: Promise<void> } | undefined;
  source.addEventListener('error', () => {
    if (closed) {
      serverEnd?.seen(); // the server ended the answer the page was waiting on
      return;
    }
    endConnection(current, 'failed');
    if (source.readyState === EVENT_SOURCE_CONNECTING && failuresInARow < MAX_STREAM_RETRIES) {
      // The browser reconnects by itself after the server's `retry:` delay, sending Last-Event-ID.
      failuresInARow += 1;
      reconnects += 1;
      report({ type: 'reconnect', count: reconnects, at: deps.now() });
      current = startConnection(false);
      return;
    }
    const reason = source.readyState === EVENT_SOURCE_CLOSED ? 'refused' : 'unreachable';
    closed = true;
    source.close();
    handlers.ended(reason);
  });

  return {
    close(serverFinished = false) {
      if (closed) return;
      closed = true;
      current.serverFinished = serverFinished;
      const connection = current;
      const end = () => {
        source.close();
        endConnection(connection, 'closed');
      };
      if (!serverFinished || source.readyState === EVENT_SOURCE_CLOSED) {
        end();
        return;
      }
      let resolve: () => void = () => {};
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      const timer = setTimeout(() => serverEnd?.seen(), SERVER_END_WAIT_MS);
      serverEnd = {
        promise,
        seen() {
          serverEnd = undefined;
          clearTimeout(timer);
          end();
          resolve();
        },
      };
    },
    get measured() {
      return (async () => {
        await serverEnd?.promise;
        let settled = 0;
        while (settled < measuring.length) {
          const batch = measuring.slice(settled);
          settled = measuring.length;
          await Promise.all(batch);
        }
      })();
    },
  };
}

/** A heartbeat: an empty comment line (`:`), then the blank line that ends it. */
const HEARTBEAT_BYTES = 3;

/**
 * The bytes of the heartbeats a connection carried, chunked, which the page cannot see: the body its
 * Resource Timing entry measured (`encodedBodySize`, chunk framing excluded) beyond the payload the page
 * counted, each heartbeat then framed as its own chunk. When the page closed the stream first, Chromium
 * gives no body size (0); a connection shorter than one heartbeat period carried none all the same.
 * Undefined when that cannot be told.
 */
export function heartbeatBytes(
  entry: ResourceEntryLike | undefined,
  connection: Pick<Connection, 'framed' | 'openedAt'>,
  endedAt: number,
): number | undefined {
  const body = entry?.encodedBodySize ?? 0;
  if (body >= connection.framed && body > 0) {
    const count = Math.round((body - connection.framed) / HEARTBEAT_BYTES);
    return count * chunkBytes(HEARTBEAT_BYTES);
  }
  if (connection.openedAt !== undefined && endedAt - connection.openedAt < SSE.heartbeatMs) return 0;
  return undefined;
}
