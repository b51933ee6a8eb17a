import {
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  BOARD_PATHS,
  BOARD_SSE,
  BoardChange,
  BoardChanges,
  type BoardClientToServerEvents,
  type BoardLane,
  BoardResponse,
  type BoardServerToClientEvents,
  BoardState,
  BoardSubscribeAck,
  HTTP_HEADERS,
} from '@transport-lab/shared';
import type { Socket } from 'socket.io-client';

export type BoardSocket = Socket<BoardServerToClientEvents, BoardClientToServerEvents>;

/** What a lane hands the board: changes (any order, duplicates possible) or a whole state. */
export interface FollowHandlers {
  changes(changes: BoardChange[]): void;
  /** A state, with the server times of the versions it covers that the log still had. */
  snapshot(board: BoardState, times: Map<number, number>): void;
  status(status: 'connecting' | 'live' | 'reconnecting', detail?: string): void;
  /** The room ended, or the board cannot be followed any more. */
  ended(reason: string): void;
}

export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  readyState: number;
  close(): void;
}

export interface FollowDeps {
  fetch: typeof fetch;
  openEventSource(url: string): EventSourceLike;
  openSocket(path: string): BoardSocket;
  /** The built-in receiver's origin (`http://host:port`), once the server's settings are known. */
  receiverOrigin(): string | undefined;
  /** The page's board version now: where each (re)connection resumes from. */
  version(): number;
  pollIntervalMs: number;
}

/** Reconnection waits after failures in a row, ms: capped, so a long outage is retried every 10 s. */
export function backoffMs(failures: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, failures - 1));
}

const EVENT_SOURCE_CLOSED = 2;

/**
 * Follows a board on one lane until the returned function is called. Each lane resumes from the
 * page's version after any failure; none of them ever applies anything: the board does, in order.
 */
export function followBoard(
  lane: BoardLane,
  code: string,
  handlers: FollowHandlers,
  deps: FollowDeps,
): () => void {
  switch (lane) {
    case 'short-polling':
      return shortPoll(code, handlers, deps);
    case 'long-polling':
      return longPoll(code, handlers, deps);
    case 'sse':
      return stream(() => `${BOARD_PATHS.stream(code)}?after=${deps.version()}`, handlers, deps);
    case 'webhook':
      return stream(
        () => {
          const origin = deps.receiverOrigin();
          return origin && `${origin}${BOARD_PATHS.relay(code)}?after=${deps.version()}`;
        },
        handlers,
        deps,
      );
    case 'websocket':
      return websocket(code, handlers, deps);
  }
}

/** A loop of fetches with a stop switch and backoff after failures. */
function loop(
  handlers: FollowHandlers,
  step: (signal: AbortSignal) => Promise<'again' | 'wait' | 'ended'>,
  intervalMs: number,
): () => void {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  const run = async () => {
    if (abort.signal.aborted) return;
    try {
      const next = await step(abort.signal);
      if (abort.signal.aborted) return;
      if (failures > 0 || next !== 'ended') handlers.status('live');
      failures = 0;
      if (next === 'ended') return;
      timer = setTimeout(run, next === 'wait' ? intervalMs : 0);
    } catch (error) {
      if (abort.signal.aborted) return;
      failures += 1;
      handlers.status('reconnecting', error instanceof Error ? error.message : String(error));
      timer = setTimeout(run, backoffMs(failures));
    }
  };
  handlers.status('connecting');
  void run();
  return () => {
    abort.abort();
    clearTimeout(timer);
  };
}

async function endedOr(res: Response, handlers: FollowHandlers): Promise<boolean> {
  if (res.status === 404 || res.status === 410) {
    handlers.ended('The room has ended.');
    return true;
  }
  if (!res.ok && res.status !== 304) throw new Error(`the server answered ${res.status}`);
  return false;
}

/** GET the board with If-None-Match at an interval: a 304 is a wasted poll, the cheapest there is. */
function shortPoll(code: string, handlers: FollowHandlers, deps: FollowDeps): () => void {
  let etag: string | undefined;
  return loop(
    handlers,
    async (signal) => {
      const res = await deps.fetch(`${BOARD_PATHS.board(code)}?since=${deps.version()}`, {
        headers: etag ? { [HTTP_HEADERS.ifNoneMatch]: etag } : {},
        cache: 'no-store',
        signal,
      });
      if (await endedOr(res, handlers)) return 'ended';
      if (res.status === 200) {
        etag = res.headers.get(HTTP_HEADERS.etag) ?? undefined;
        const { board, times } = BoardResponse.parse(await res.json());
        handlers.snapshot(board, new Map(times.map((t) => [t.version, t.at])));
      }
      return 'wait';
    },
    deps.pollIntervalMs,
  );
}

/** GET …/changes?after=V, held by the server until something changes (or 25 s). */
function longPoll(code: string, handlers: FollowHandlers, deps: FollowDeps): () => void {
  return loop(
    handlers,
    async (signal) => {
      const res = await deps.fetch(`${BOARD_PATHS.changes(code)}?after=${deps.version()}&waitMs=25000`, {
        cache: 'no-store',
        signal,
      });
      if (await endedOr(res, handlers)) return 'ended';
      const body = BoardChanges.parse(await res.json());
      if (body.snapshot) handlers.snapshot(body.snapshot, new Map());
      handlers.changes(body.changes);
      return 'again';
    },
    0,
  );
}

/**
 * An EventSource (the board's SSE stream, or the receiver's relay of the webhook lane). The browser
 * reconnects by itself with Last-Event-ID; when it gives up (an error status), a new one is opened
 * from the page's version after a backoff, unless the room has ended.
 */
function stream(url: () => string | undefined, handlers: FollowHandlers, deps: FollowDeps): () => void {
  let source: EventSourceLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let failures = 0;
  const open = () => {
    if (stopped) return;
    const target = url();
    if (!target) {
      handlers.status('reconnecting', 'waiting for the server’s settings');
      timer = setTimeout(open, backoffMs(++failures));
      return;
    }
    const es = deps.openEventSource(target);
    source = es;
    es.onopen = () => {
      failures = 0;
      handlers.status('live');
    };
    es.addEventListener(BOARD_SSE.change, (event) =>
      handlers.changes([BoardChange.parse(JSON.parse(event.data))]),
    );
    es.addEventListener(BOARD_SSE.snapshot, (event) =>
      handlers.snapshot(BoardState.parse(JSON.parse(event.data)), new Map()),
    );
    es.onerror = () => {
      if (stopped) return;
      if (es.readyState !== EVENT_SOURCE_CLOSED) {
        handlers.status('reconnecting', 'the stream dropped; the browser reconnects');
        return;
      }
      es.close();
      failures += 1;
      handlers.status('reconnecting', 'the stream was refused');
      // Ask the board itself whether the room is still there before trying again.
      timer = setTimeout(() => {
        void stillThere().then((there) => (there ? open() : undefined));
      }, backoffMs(failures));
    };
  };
  const stillThere = async () => {
    const target = url();
    const code = target ? /\/boards\/([^/?]+)/.exec(target)?.[1] : undefined;
    if (!code) return true;
    try {
      const res = await deps.fetch(BOARD_PATHS.board(decodeURIComponent(code)), { cache: 'no-store' });
      if (res.status === 404 || res.status === 410) {
        handlers.ended('The room has ended.');
        return false;
      }
    } catch {
      // The network is down: try the stream again.
    }
    return true;
  };
  handlers.status('connecting');
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
}

/** socket.io on the `/board` namespace: every (re)connection subscribes from the page's version. */
function websocket(code: string, handlers: FollowHandlers, deps: FollowDeps): () => void {
  const socket = deps.openSocket(BOARD_NAMESPACE);
  socket.on(BOARD_EVENTS.change, (change) => handlers.changes([BoardChange.parse(change)]));
  socket.on(BOARD_EVENTS.ended, () => handlers.ended('The room has ended.'));
  socket.on('connect', () => {
    socket.emit(BOARD_EVENTS.subscribe, { code, after: deps.version() }, (raw) => {
      const ack = BoardSubscribeAck.safeParse(raw);
      if (!ack.success) return handlers.status('reconnecting', 'the server’s answer did not parse');
      if (!ack.data.ok) {
        if (ack.data.error.code === 'NOT_FOUND') handlers.ended('The room has ended.');
        else handlers.status('reconnecting', ack.data.error.message);
        return;
      }
      if (ack.data.catchUp.snapshot) handlers.snapshot(ack.data.catchUp.snapshot, new Map());
      handlers.changes(ack.data.catchUp.changes);
      handlers.status('live');
    });
  });
  socket.on('disconnect', () => handlers.status('reconnecting', 'the socket dropped'));
  handlers.status('connecting');
  socket.connect();
  return () => {
    socket.removeAllListeners();
    socket.disconnect();
  };
}
