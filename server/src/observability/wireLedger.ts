import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  type ConnectionTally,
  LAB_TAGS,
  LabTag,
  type LaneId,
  type WireCounts,
  type WireReport,
  type WireTally,
} from '@transport-lab/shared';
import { proxiedRequestBytes } from './proxiedBytes.ts';

/** A run with no open stream and no traffic for this long is forgotten (its report answers 404). */
export const WIRE_RUN_TTL_MS = 3_600_000;
/** Runs kept at most; past this the least recently active is forgotten first. */
export const WIRE_MAX_RUNS = 1_000;
/** How stale a run's place in the least-recently-active order may get, ms. */
export const TOUCH_REORDER_MS = 1_000;
/** Task → tag memory for server-initiated traffic (webhook attempts), oldest forgotten first. */
export const WIRE_MAX_TAGGED_TASKS = 10_000;

/**
 * Where bytes travel. `page`: the browser and this server. `serverToReceiver`: webhook delivery
 * attempts, this server being the client. `receiverToPage`: the built-in receiver's relay stream.
 */
export type WireChannel = 'page' | 'serverToReceiver' | 'receiverToPage';
type BrowserChannel = Exclude<WireChannel, 'serverToReceiver'>;

/** Whether a request is a lane's traffic (counted when tagged) or the page's own (never counted). */
export type CountedRoute = (method: string, path: string) => boolean;

/** What a lane hands the ledger when it creates a task, so that later server-initiated traffic
 *  for that task (webhook attempts) is counted for the same run and lane. */
export type TagTask = (taskId: string, req: IncomingMessage) => void;

export interface WireDelta {
  requests?: number;
  bytesUp?: number;
  bytesDown?: number;
  connectionsOpened?: number;
}
/** Everything counted since the server started, per channel and lane (all runs, expired ones too). */
export interface WireTotal {
  channel: WireChannel;
  lane: LaneId;
  requests: number;
  bytesUp: number;
  bytesDown: number;
  connectionsOpened: number;
}

interface LaneTallies {
  page: ConnectionTally;
  serverToReceiver: WireTally;
  receiverToPage: ConnectionTally;
  /** Tasks created by this lane's requests: a retried create that ran twice counts 2. */
  tasksCreated: number;
}

interface Run {
  id: string;
  lanes: Map<LaneId, LaneTallies>;
  /** Requests, streams, WebSockets and delivery attempts of this run in flight. */
  open: Set<Flow>;
  /** Connections this run owns (its first tagged request was this run's), until they close. */
  owned: Set<Conn>;
  lastTrafficAt: number;
  /** When the run was last moved to the end of the order. */
  orderedAt: number;
}

/** One tagged request (or upgrade, or delivery attempt) in flight on a connection. */
interface Flow {
  run: Run;
  lane: LaneId;
  conn: Conn;
}
/** A request in flight that is no lane's (untagged, malformed, or an observation route). */
interface Untagged {
  untagged: true;
}

/**
 * One TCP socket. Its counters are read as deltas from the last checkpoint: bytes since then
 * belong to the request in flight (browsers do not pipeline, so there is at most one).
 */
interface Conn {
  socket: Socket;
  channel: WireChannel;
  /** Inbound sockets: up = bytesRead. The dispatcher's outgoing sockets: up = bytesWritten. */
  outgoing: boolean;
  markUp: number;
  markDown: number;
  current: Flow | Untagged | undefined;
  /** Inbound sockets: `bytesRead` when the previous answer on this connection was finished (a
   *  checkpoint can move `markUp` mid-request, when a report reads open streams live). */
  readAtLastAnswer: number;
  /** The run and lane this connection counts for: that of its first tagged request. */
  owner?: { run: Run; lane: LaneId };
}

export interface WireLedgerOptions {
  /** Monotonic clock, ms (tests inject one). */
  now?: () => number;
  runTtlMs?: number;
  maxRuns?: number;
  maxTaggedTasks?: number;
}

export interface WireLedger {
  /** Counts the tagged traffic of `counted` routes on this server's sockets (and its upgrades). */
  attach(server: HttpServer, channel: BrowserChannel, counted: CountedRoute): void;
  tagTask: TagTask;
  /** Counts a webhook delivery attempt's socket for the run and lane its task was created by. */
  trackOutgoing(taskId: string, socket: Socket): void;
  /** The run's counts, live streams included; undefined for an unknown or expired run. */
  report(runId: string): WireReport | undefined;
  /**
   * The bytes this request has taken on its socket so far (request line, headers, and the body as far
   * as it has been read): what `x-request-bytes` reports. Undefined for a socket the ledger has not
   * seen, which cannot happen for a request on an attached server.
   */
  requestBytes(req: IncomingMessage): number | undefined;
  /** Moves the live bytes of every open stream into the totals (before a metrics scrape). */
  flushAll(): void;
  /** Connections open now, per browser channel and lane (over all runs). */
  openConnections(): Array<{ channel: BrowserChannel; lane: LaneId; open: number }>;
  /** The lifetime totals, for a metrics scrape (open streams' bytes so far included: flush first). */
  totals(): WireTotal[];
  /**
   * The open TCP sockets a run's lane uses now: those it owns (idle keep-alives included), those
   * carrying one of its requests, streams or WebSockets on any channel, and the webhook attempts in
   * flight for its tasks. What the drop-connections fault destroys; empty with WIRE_ACCOUNTING=off.
   */
  connectionsOf(runId: string, lane: LaneId): Socket[];
}

/**
 * Reads a request's tag: the header pair when either header is present, else the query pair. A
 * missing half, a repeated parameter or a malformed value means untagged: never an error.
 */
export function tagOf(req: IncomingMessage): LabTag | undefined {
  const lane = req.headers[LAB_TAGS.laneHeader];
  const runId = req.headers[LAB_TAGS.runHeader];
  if (lane !== undefined || runId !== undefined) return parseTag(lane, runId);
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const params = new URLSearchParams(url.slice(q + 1));
  const lanes = params.getAll(LAB_TAGS.laneQuery);
  const runs = params.getAll(LAB_TAGS.runQuery);
  if (lanes.length !== 1 || runs.length !== 1) return undefined;
  return parseTag(lanes[0], runs[0]);
}

/** Tags already judged, so that the schema runs once per run and lane, not once per request (the
 *  bench measured the per-request parse among the ledger's costs). Bounded: cleared when full. */
const judgedTags = new Map<string, LabTag | null>();
const MAX_JUDGED_TAGS = 4_096;

function parseTag(lane: unknown, runId: unknown): LabTag | undefined {
  if (typeof lane !== 'string' || typeof runId !== 'string') return undefined;
  const key = `${lane}\u0000${runId}`;
  const known = judgedTags.get(key);
  if (known !== undefined) return known ?? undefined;
  const parsed = LabTag.safeParse({ lane, runId });
  if (judgedTags.size >= MAX_JUDGED_TAGS) judgedTags.clear();
  judgedTags.set(key, parsed.success ? parsed.data : null);
  return parsed.success ? parsed.data : undefined;
}

/** A query object without the lab tags, for routes whose query schema is strict. */
export function withoutLabTags(query: Record<string, unknown>): Record<string, unknown> {
  const { [LAB_TAGS.laneQuery]: _lane, [LAB_TAGS.runQuery]: _run, ...rest } = query;
  return rest;
}

const emptyTally = (): WireTally => ({ requests: 0, bytesUp: 0, bytesDown: 0 });
const emptyConnections = (): ConnectionTally => ({
  ...emptyTally(),
  connectionsOpened: 0,
  openConnections: 0,
  maxOpenConnections: 0,
});

const pathOf = (url: string | undefined) => (url ?? '/').split('?')[0] ?? '/';

/**
 * The server's own count of each run's traffic per lane, on its TCP sockets: request lines,
 * headers, bodies, chunked framing, SSE and WebSocket frames, exactly as read and written. On a
 * keep-alive connection each request's share is the counters' delta since the previous answer
 * ended; a WebSocket is its upgrade request plus everything after it on that socket until it
 * closes. Open streams are read live. See server/src/observability/README.md.
 */
export function createWireLedger(options: WireLedgerOptions = {}): WireLedger {
  const now = options.now ?? (() => performance.now());
  const runTtlMs = options.runTtlMs ?? WIRE_RUN_TTL_MS;
  const maxRuns = options.maxRuns ?? WIRE_MAX_RUNS;
  const maxTaggedTasks = options.maxTaggedTasks ?? WIRE_MAX_TAGGED_TASKS;

  /** In order of last traffic, least recent first (a touch moves a run to the end). */
  const runs = new Map<string, Run>();
  const taskTags = new Map<string, LabTag>();
  const requestTags = new WeakMap<IncomingMessage, LabTag>();
  const conns = new WeakMap<Socket, Conn>();
  const openFlows = new Set<Flow>();
  const openByChannel: Record<BrowserChannel, Map<LaneId, number>> = {
    page: new Map(),
    receiverToPage: new Map(),
  };
  /** Lifetime totals in plain numbers, keyed by channel then lane: a scrape reads them, and counting
   *  costs a few additions (label hashing per count cost more than the counting, measured). */
  const lifetime = new Map<WireChannel, Map<LaneId, WireTotal>>();
  function lifetimeOf(channel: WireChannel, lane: LaneId): WireTotal {
    let byLane = lifetime.get(channel);
    if (!byLane) {
      byLane = new Map();
      lifetime.set(channel, byLane);
    }
    let total = byLane.get(lane);
    if (!total) {
      total = { channel, lane, requests: 0, bytesUp: 0, bytesDown: 0, connectionsOpened: 0 };
      byLane.set(lane, total);
    }
    return total;
  }

  function sweep(): void {
    const cutoff = now() - runTtlMs;
    for (const run of runs.values()) {
      if (run.lastTrafficAt >= cutoff) break; // the rest are more recent
      if (run.open.size === 0) runs.delete(run.id);
    }
  }

  function touch(run: Run): void {
    const at = now();
    // Moved to the end of the order at most once a second: the order serves a one-hour expiry and
    // the eviction of the least recently active, for which a second is exact enough, and moving a
    // Map entry on every count was among the ledger's costs (measured).
    run.lastTrafficAt = at;
    // A run forgotten while a stream was open (only past maxRuns) stays forgotten.
    if (at - run.orderedAt < TOUCH_REORDER_MS || runs.get(run.id) !== run) return;
    run.orderedAt = at;
    runs.delete(run.id);
    runs.set(run.id, run);
  }

  function runFor(runId: string): Run {
    sweep();
    const known = runs.get(runId);
    if (known) return known;
    const at = now();
    const run: Run = {
      id: runId,
      lanes: new Map(),
      open: new Set(),
      owned: new Set(),
      lastTrafficAt: at,
      orderedAt: at,
    };
    runs.set(runId, run);
    while (runs.size > maxRuns) runs.delete(runs.keys().next().value as string);
    return run;
  }

  function talliesOf(run: Run, lane: LaneId): LaneTallies {
    let tallies = run.lanes.get(lane);
    if (!tallies) {
      tallies = {
        page: emptyConnections(),
        serverToReceiver: emptyTally(),
        receiverToPage: emptyConnections(),
        tasksCreated: 0,
      };
      run.lanes.set(lane, tallies);
    }
    return tallies;
  }

  function add(run: Run, lane: LaneId, channel: WireChannel, delta: WireDelta): void {
    const tally = talliesOf(run, lane)[channel];
    tally.requests += delta.requests ?? 0;
    tally.bytesUp += delta.bytesUp ?? 0;
    tally.bytesDown += delta.bytesDown ?? 0;
    if (delta.connectionsOpened && 'connectionsOpened' in tally) {
      tally.connectionsOpened += delta.connectionsOpened;
      tally.openConnections += delta.connectionsOpened;
      tally.maxOpenConnections = Math.max(tally.maxOpenConnections, tally.openConnections);
      const open = openByChannel[channel as BrowserChannel];
      open.set(lane, (open.get(lane) ?? 0) + delta.connectionsOpened);
    }
    const total = lifetimeOf(channel, lane);
    total.requests += delta.requests ?? 0;
    total.bytesUp += delta.bytesUp ?? 0;
    total.bytesDown += delta.bytesDown ?? 0;
    total.connectionsOpened += delta.connectionsOpened ?? 0;
    touch(run);
  }

  /** Attributes the socket's bytes since the last checkpoint to the request in flight, if tagged. */
  function checkpoint(conn: Conn): void {
    const { socket } = conn;
    const up = conn.outgoing ? socket.bytesWritten : socket.bytesRead;
    const down = conn.outgoing ? socket.bytesRead : socket.bytesWritten;
    const bytesUp = up - conn.markUp;
    const bytesDown = down - conn.markDown;
    conn.markUp = up;
    conn.markDown = down;
    const flow = conn.current;
    if (flow && !('untagged' in flow) && (bytesUp > 0 || bytesDown > 0)) {
      add(flow.run, flow.lane, conn.channel, { bytesUp, bytesDown });
    }
  }

  function endFlow(flow: Flow): void {
    flow.run.open.delete(flow);
    openFlows.delete(flow);
  }

  function onClose(conn: Conn): void {
    checkpoint(conn);
    const flow = conn.current;
    conn.current = undefined;
    if (flow && !('untagged' in flow)) endFlow(flow);
    const owner = conn.owner;
    owner?.run.owned.delete(conn);
    if (owner && conn.channel !== 'serverToReceiver') {
      const tally = talliesOf(owner.run, owner.lane)[conn.channel];
      tally.openConnections -= 1;
      const open = openByChannel[conn.channel];
      open.set(owner.lane, (open.get(owner.lane) ?? 1) - 1);
    }
  }

  function connOf(socket: Socket, channel: WireChannel, outgoing: boolean): Conn {
    let conn = conns.get(socket);
    if (!conn) {
      // Seen first at its first request (or attempt): everything since it opened is that one's.
      const created: Conn = {
        socket,
        channel,
        outgoing,
        markUp: 0,
        markDown: 0,
        current: undefined,
        readAtLastAnswer: 0,
      };
      conns.set(socket, created);
      socket.once('close', () => onClose(created));
      conn = created;
    }
    return conn;
  }

  function openFlow(conn: Conn, tag: LabTag): Flow {
    const run = runFor(tag.runId);
    const flow: Flow = { run, lane: tag.lane, conn };
    conn.current = flow;
    run.open.add(flow);
    openFlows.add(flow);
    return flow;
  }

  /** A request (or upgrade) begins on `conn`: counted, and its connection claimed, when tagged.
   *  Its share of the bytes is everything since the previous answer ended, its own head included. */
  function begin(conn: Conn, tag: LabTag | undefined): Flow | Untagged {
    if (!tag) {
      const untagged: Untagged = { untagged: true };
      conn.current = untagged;
      return untagged;
    }
    const flow = openFlow(conn, tag);
    const claims = conn.owner === undefined;
    if (claims) {
      conn.owner = { run: flow.run, lane: tag.lane };
      flow.run.owned.add(conn);
    }
    add(flow.run, tag.lane, conn.channel, { requests: 1, connectionsOpened: claims ? 1 : 0 });
    return flow;
  }

  /** The request in flight behind each answer, for `onAnswerEnd`. */
  const answers = new WeakMap<
    ServerResponse,
    { conn: Conn; current: Flow | Untagged; req: IncomingMessage }
  >();

  /** `finish`: the whole answer was handed to the socket. `close` without it: cut short. One shared
   *  listener, `this` being the answer: no closure per request (tsx names each closure it creates,
   *  and the bench measured that among the ledger's costs). */
  function onAnswerEnd(this: ServerResponse): void {
    const answer = answers.get(this);
    if (!answer) return;
    answers.delete(this);
    const { conn, current, req } = answer;
    if (conn.current !== current) return;
    checkpoint(conn);
    conn.readAtLastAnswer = req.socket.bytesRead;
    conn.current = undefined;
    if (!('untagged' in current)) endFlow(current);
  }

  function onRequest(
    channel: BrowserChannel,
    counted: CountedRoute,
    req: IncomingMessage,
    res: ServerResponse,
  ) {
    const conn = connOf(req.socket, channel, false);
    const tag = counted(req.method ?? 'GET', pathOf(req.url)) ? tagOf(req) : undefined;
    if (tag) requestTags.set(req, tag);
    answers.set(res, { conn, current: begin(conn, tag), req });
    res.on('finish', onAnswerEnd);
    res.on('close', onAnswerEnd);
  }

  function onUpgrade(channel: BrowserChannel, counted: CountedRoute, req: IncomingMessage, socket: Duplex) {
    const conn = connOf(socket as Socket, channel, false);
    const tag = counted(req.method ?? 'GET', pathOf(req.url)) ? tagOf(req) : undefined;
    if (tag) requestTags.set(req, tag);
    // The upgraded socket is this flow's until it closes: the 101, then every frame both ways.
    begin(conn, tag);
  }

  function flushRun(run: Run): void {
    for (const flow of run.open) if (flow.conn.current === flow) checkpoint(flow.conn);
  }

  function countsOf(tallies: LaneTallies): WireCounts {
    return {
      ...tallies.page,
      serverToReceiver: { ...tallies.serverToReceiver },
      receiverToPage: { ...tallies.receiverToPage },
      tasksCreated: tallies.tasksCreated,
    };
  }

  return {
    attach(server, channel, counted) {
      // Prepended, so that it sees every request and upgrade before any handler (engine.io's
      // included, which takes over socket.io's paths) can answer.
      server.prependListener('request', (req: IncomingMessage, res: ServerResponse) =>
        onRequest(channel, counted, req, res),
      );
      server.prependListener('upgrade', (req: IncomingMessage, socket: Duplex) =>
        onUpgrade(channel, counted, req, socket),
      );
    },

    tagTask(taskId, req) {
      const tag = requestTags.get(req);
      if (!tag) return;
      // The request was counted as it arrived, so its run is known (unless forgotten since: maxRuns).
      const run = runs.get(tag.runId);
      if (run) talliesOf(run, tag.lane).tasksCreated += 1;
      taskTags.set(taskId, tag);
      if (taskTags.size > maxTaggedTasks) taskTags.delete(taskTags.keys().next().value as string);
    },

    trackOutgoing(taskId, socket) {
      const tag = taskTags.get(taskId);
      // A TLS socket's counters are its plaintext, not what crossed the wire (no TLS records, no
      // handshake): an https receiver's attempts are left out rather than counted untruly.
      if (!tag || (socket as Partial<TLSSocket>).encrypted) return;
      const flow = openFlow(connOf(socket, 'serverToReceiver', true), tag);
      // An attempt is a request once its connection is made: a refused connection sent nothing.
      const sent = () => add(flow.run, flow.lane, 'serverToReceiver', { requests: 1 });
      if (socket.connecting) socket.once('connect', sent);
      else if (!socket.destroyed) sent();
    },

    requestBytes(req) {
      const conn = conns.get(req.socket);
      // Behind the cluster's nginx: the browser's bytes, as nginx read them (proxiedBytes.ts).
      return conn && (proxiedRequestBytes(req) ?? req.socket.bytesRead - conn.readAtLastAnswer);
    },

    report(runId) {
      sweep();
      const run = runs.get(runId);
      if (!run) return undefined;
      flushRun(run);
      const lanes: WireReport['lanes'] = {};
      for (const [lane, tallies] of run.lanes) lanes[lane] = countsOf(tallies);
      return { runId, lanes, openStreams: run.open.size };
    },

    flushAll() {
      for (const flow of openFlows) if (flow.conn.current === flow) checkpoint(flow.conn);
    },

    openConnections() {
      const out: Array<{ channel: BrowserChannel; lane: LaneId; open: number }> = [];
      for (const channel of ['page', 'receiverToPage'] as const) {
        for (const [lane, open] of openByChannel[channel]) out.push({ channel, lane, open });
      }
      return out;
    },

    connectionsOf(runId, lane) {
      const run = runs.get(runId);
      if (!run) return [];
      const sockets = new Set<Socket>();
      for (const conn of run.owned) if (conn.owner?.lane === lane) sockets.add(conn.socket);
      for (const flow of run.open) if (flow.lane === lane) sockets.add(flow.conn.socket);
      return [...sockets].filter((socket) => !socket.destroyed);
    },

    totals() {
      return [...lifetime.values()].flatMap((byLane) => [...byLane.values()].map((total) => ({ ...total })));
    },
  };
}
