// One simulated phone of the capacity benchmark (capacity.ts): the five lanes a phone can run without a
// browser, all at once, each on a task of its own, each with the client behaviour the page has
// (client/src/transports/*). The phone has its own connections: one node:http Agent with keep-alive
// for its HTTP lanes, and its own websocket.
//
//   request-response  POST /api/tasks/run → 200 {task} when the task has ended
//   short-polling     POST /api/tasks → 202 (Retry-After), then GET /api/tasks/{id} every Retry-After
//                     seconds (1 s), with If-None-Match; a 304 is a poll that brought nothing
//   long-polling      POST /api/tasks → 202, then GET …/events?after=CURSOR&waitMs=25000 in a loop
//   sse               POST /api/tasks → 202, then GET …/stream?after=CURSOR, read to its end
//   websocket         project: socket.io-client (websocket only, forceNew) → `task:start` with its ack,
//                     then `task:event`s; baseline: a raw `ws` socket, ["start", spec] → ["ack", …],
//                     then ["event", …]
//
// The cursor of long polling and SSE is the 202's `lastSeq` (1: its state already shows `queued`), as
// on the page. Every lane must see its task's 23 events (queued, started, 20 × progress, succeeded),
// in order, none twice, or it counts a failure. Both servers get the same requests, lab tags included
// (the baseline ignores them).
import { randomUUID } from 'node:crypto';
import { Agent, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  API_PATHS,
  type ClientToServerEvents,
  CreateTaskResponse,
  EventsResponse,
  HTTP_HEADERS,
  isTerminalEvent,
  type LabTag,
  type LaneId,
  labTagHeaders,
  labTagQuery,
  RunResponse,
  type ServerToClientEvents,
  SOCKET_EVENTS,
  StartAck,
  serverLatenessMs,
  TaskEvent,
  TaskResponse,
  type TaskSpec,
  type TaskState,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';

export type Side = 'project' | 'baseline';

export const HALL_LANES = [
  'request-response',
  'short-polling',
  'long-polling',
  'sse',
  'websocket',
] as const satisfies readonly LaneId[];
export type HallLane = (typeof HALL_LANES)[number];
/** The lanes that receive events as events: the delivery lag is theirs. */
export const PUSH_LANES: ReadonlySet<HallLane> = new Set(['long-polling', 'sse', 'websocket']);

/** The page's long-poll hold (DEFAULT_LANE_SETTINGS.longPollWaitMs), ms. */
const LONG_POLL_WAIT_MS = 25_000;
/** The page's short-polling interval when no Retry-After came, ms. */
const FALLBACK_POLL_INTERVAL_MS = 1_000;

/** Server and bench share one machine and one system clock: an epoch ms read alike in both. */
export const epochNow = () => performance.timeOrigin + performance.now();

export interface Failure {
  lane: HallLane;
  phone: number;
  reason: string;
  /** A connection (stream, socket, held request) closed before the task's terminal event. */
  dropped: boolean;
}

/** Everything one block's phones saw. Times in ms. */
export class HallRecorder {
  /** Receipt − `at` of each event received as an event (long polling, SSE, websocket). */
  readonly lagMs: number[] = [];
  /** Receipt − `at` per lane; for the state lanes, receipt − `updatedAt` of each answer with news
   *  (for short polling that includes the wait for the next poll). */
  readonly lagByLane = new Map<HallLane, number[]>(HALL_LANES.map((lane) => [lane, []]));
  /** `at − dueAt` of each event received as an event: each task's events once. */
  readonly latenessMs: number[] = [];
  /** The same by event type: `started` is due when the task was accepted, so it also waits behind
   *  whatever else the server does then (a start burst); a step is due on the task's own schedule. */
  readonly latenessByType = new Map<TaskEvent['type'], number[]>();
  /** POST /api/tasks → its 202's headers. */
  readonly postMs: number[] = [];
  /** io() / new WebSocket() → `connect` / `open`. */
  readonly connectMs: number[] = [];
  /** Events that reached a phone, once per lane: as an event, or inside a state (the 202's, a poll's,
   *  the blocking answer's: the events up to its lastSeq). */
  delivered = 0;
  readonly deliveredByLane = new Map<HallLane, number>(HALL_LANES.map((lane) => [lane, 0]));
  /** HTTP requests answered, and the TCP connections they opened (the rest reused a kept-alive one). */
  requests = 0;
  httpConnections = 0;
  /** Lanes that saw their task succeed with all its events. */
  completed = 0;
  readonly failures: Failure[] = [];
  /** How late each phone started against its place in the 1 s spread (the bench's own lateness). */
  readonly phoneStartLateMs: number[] = [];
}

class LaneFailure extends Error {
  constructor(
    message: string,
    readonly dropped = false,
  ) {
    super(message);
  }
}

/**
 * One lane's task as the phone learns it: states and events, checked and counted. Every event must
 * carry the task's id and the next seq; the lane ends well only with `succeeded` at seq 23 (for this
 * spec: steps + 3).
 */
class Followed {
  private taskId: string | undefined;
  /** The last seq received as an event (the lane's cursor). */
  cursor = 0;
  /** The highest seq delivered, as an event or inside a state. */
  private covered = 0;
  private outcome: string | undefined;

  constructor(
    private readonly rec: HallRecorder,
    private readonly lane: HallLane,
    private readonly expectedEvents: number,
  ) {}

  get ended(): boolean {
    return this.outcome !== undefined;
  }

  private sameTask(id: string): void {
    this.taskId ??= id;
    if (id !== this.taskId) throw new LaneFailure(`an answer about task ${id}, not ${this.taskId}`);
  }

  private deliver(seq: number): void {
    if (seq <= this.covered) return;
    this.rec.delivered += seq - this.covered;
    this.rec.deliveredByLane.set(
      this.lane,
      (this.rec.deliveredByLane.get(this.lane) ?? 0) + seq - this.covered,
    );
    this.covered = seq;
  }

  /** A state: the 202's, a poll's, an ack's, the blocking answer's. `receivedAt`: only for news. */
  state(task: TaskState, receivedAt?: number): void {
    this.sameTask(task.id);
    if (receivedAt !== undefined && task.lastSeq > this.covered && task.updatedAt !== undefined)
      this.rec.lagByLane.get(this.lane)?.push(receivedAt - task.updatedAt);
    this.deliver(task.lastSeq);
    if (TERMINAL_STATUSES.has(task.status)) this.outcome = task.status;
  }

  /** An event received as such, parsed with the shared schema. */
  event(event: TaskEvent, receivedAt: number): void {
    this.sameTask(event.taskId);
    if (event.seq !== this.cursor + 1)
      throw new LaneFailure(`event seq ${event.seq} after ${this.cursor}: a gap or a repeat`);
    if (event.dueAt === undefined) throw new LaneFailure(`event ${event.seq} has no dueAt`);
    this.cursor = event.seq;
    const lag = receivedAt - event.at;
    this.rec.lagMs.push(lag);
    this.rec.lagByLane.get(this.lane)?.push(lag);
    const lateness = serverLatenessMs(event);
    this.rec.latenessMs.push(lateness);
    const byType = this.rec.latenessByType.get(event.type);
    if (byType) byType.push(lateness);
    else this.rec.latenessByType.set(event.type, [lateness]);
    this.deliver(event.seq);
    if (isTerminalEvent(event)) this.outcome = event.type;
  }

  /** Throws unless the task succeeded and every one of its events reached the phone. */
  finish(): void {
    if (this.outcome !== 'succeeded') throw new LaneFailure(`the task ended ${this.outcome ?? 'unseen'}`);
    if (this.covered !== this.expectedEvents)
      throw new LaneFailure(`${this.covered} of ${this.expectedEvents} events reached the phone`);
    this.rec.completed += 1;
  }
}

// ── HTTP on node:http, one Agent per phone ──────────────────────────────────────────────────────────

interface Exchange {
  res: IncomingMessage;
  status: number;
  headers: IncomingHttpHeaders;
  /** When the answer's headers were in. */
  headersAt: number;
}

interface Call {
  agent: Agent;
  /** Each phone's own, as real phones differ: a balancer that hashes address + User-Agent (the
   *  cluster's nginx, for a client without a cookie) spreads the hall as it would spread a real one. */
  userAgent: string;
  signal: AbortSignal;
  rec: HallRecorder;
}

function send(
  call: Call,
  url: URL,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      agent: call.agent,
      signal: call.signal,
      headers: {
        ...headers,
        'user-agent': call.userAgent,
        ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
      },
    });
    req.once('response', (res) => {
      const headersAt = epochNow();
      call.rec.requests += 1;
      if (!req.reusedSocket) call.rec.httpConnections += 1;
      resolve({ res, status: res.statusCode ?? 0, headers: res.headers, headersAt });
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** The whole body; a connection that closes before its end is a dropped one. */
function readBody(res: IncomingMessage): Promise<{ text: string; at: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), at: epochNow() }));
    res.once('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new LaneFailure('the connection closed in the middle of an answer', true));
    });
  });
}

async function expectStatus(exchange: Exchange, wanted: number, what: string): Promise<void> {
  if (exchange.status === wanted) return;
  const { text } = await readBody(exchange.res).catch(() => ({ text: '' }));
  throw new LaneFailure(`${what} answered ${exchange.status} ${text.slice(0, 120)}`);
}

function parsed<T>(
  schema: { safeParse(data: unknown): { success: true; data: T } | { success: false } },
  text: string,
  what: string,
): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LaneFailure(`${what}: not JSON`);
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new LaneFailure(`${what}: not the shared schema's shape`);
  return result.data;
}

const jsonHeaders = { 'content-type': 'application/json' };

// ── The lanes ───────────────────────────────────────────────────────────────────────────────────────

export interface PhoneOptions {
  side: Side;
  /** http://127.0.0.1:PORT */
  url: string;
  phone: number;
  /** This phone's run id, as the page picks one per race (tags its requests). */
  runId: string;
  spec: TaskSpec;
  /** Aborts every lane still running: the block's bound. */
  signal: AbortSignal;
  rec: HallRecorder;
}

interface LaneContext extends PhoneOptions, Call {
  lane: HallLane;
  tag: LabTag;
  followed: Followed;
}

/** POST /api/tasks as the page sends it (Idempotency-Key, tags); the 202's headers are timed. */
async function createTask(ctx: LaneContext): Promise<{ task: TaskState; retryAfterMs: number; at: number }> {
  const started = epochNow();
  const exchange = await send(
    ctx,
    new URL(API_PATHS.tasks, ctx.url),
    'POST',
    { ...jsonHeaders, ...labTagHeaders(ctx.tag), [HTTP_HEADERS.idempotencyKey]: randomUUID() },
    JSON.stringify({ spec: ctx.spec }),
  );
  await expectStatus(exchange, 202, 'POST /api/tasks');
  ctx.rec.postMs.push(exchange.headersAt - started);
  const { text, at } = await readBody(exchange.res);
  const { task } = parsed(CreateTaskResponse, text, 'POST /api/tasks');
  ctx.followed.state(task);
  const retryAfter = Number(exchange.headers[HTTP_HEADERS.retryAfter]);
  return { task, retryAfterMs: retryAfter > 0 ? retryAfter * 1_000 : FALLBACK_POLL_INTERVAL_MS, at };
}

async function requestResponse(ctx: LaneContext): Promise<void> {
  const exchange = await send(
    ctx,
    new URL(API_PATHS.run, ctx.url),
    'POST',
    { ...jsonHeaders, ...labTagHeaders(ctx.tag) },
    JSON.stringify(ctx.spec),
  );
  await expectStatus(exchange, 200, 'POST /api/tasks/run');
  const { text, at } = await readBody(exchange.res);
  ctx.followed.state(parsed(RunResponse, text, 'POST /api/tasks/run').task, at);
}

/** Polls keep a steady rate, as the page's do: each one interval after the previous was sent. */
async function shortPolling(ctx: LaneContext): Promise<void> {
  const created = await createTask(ctx);
  const url = new URL(API_PATHS.task(created.task.id), ctx.url);
  let nextAt = created.at + created.retryAfterMs;
  let etag: string | undefined;
  while (!ctx.followed.ended) {
    await sleep(Math.max(0, nextAt - epochNow()), undefined, { signal: ctx.signal });
    nextAt = epochNow() + created.retryAfterMs;
    const exchange = await send(ctx, url, 'GET', {
      ...labTagHeaders(ctx.tag),
      ...(etag ? { [HTTP_HEADERS.ifNoneMatch]: etag } : {}),
    });
    if (exchange.status === 304) {
      await readBody(exchange.res);
      continue;
    }
    await expectStatus(exchange, 200, 'GET /api/tasks/{id}');
    const header = exchange.headers[HTTP_HEADERS.etag];
    etag = typeof header === 'string' ? header : undefined;
    const { text, at } = await readBody(exchange.res);
    ctx.followed.state(parsed(TaskResponse, text, 'GET /api/tasks/{id}').task, at);
  }
}

async function longPolling(ctx: LaneContext): Promise<void> {
  const created = await createTask(ctx);
  ctx.followed.cursor = created.task.lastSeq;
  while (!ctx.followed.ended) {
    const query = `?after=${ctx.followed.cursor}&waitMs=${LONG_POLL_WAIT_MS}`;
    const exchange = await send(
      ctx,
      new URL(`${API_PATHS.events(created.task.id)}${query}`, ctx.url),
      'GET',
      {
        ...labTagHeaders(ctx.tag),
      },
    );
    await expectStatus(exchange, 200, 'GET …/events');
    const { text, at } = await readBody(exchange.res);
    for (const event of parsed(EventsResponse, text, 'GET …/events').events) ctx.followed.event(event, at);
  }
}

/**
 * Reads `text/event-stream` (WHATWG HTML §9.2.6) as it comes: lines, `field: value`, a blank line
 * ends a message. Only `message`s are task events (the lab's stream opens with an `event: wire`).
 */
async function sse(ctx: LaneContext): Promise<void> {
  const created = await createTask(ctx);
  ctx.followed.cursor = created.task.lastSeq;
  const query = new URLSearchParams({ after: String(created.task.lastSeq), ...labTagQuery(ctx.tag) });
  const exchange = await send(ctx, new URL(`${API_PATHS.stream(created.task.id)}?${query}`, ctx.url), 'GET', {
    accept: 'text/event-stream',
  });
  await expectStatus(exchange, 200, 'GET …/stream');
  const { res } = exchange;
  res.setEncoding('utf8');
  let pending = '';
  let type = 'message';
  let data: string[] = [];
  await new Promise<void>((resolve, reject) => {
    res.on('data', (chunk: string) => {
      const receivedAt = epochNow();
      pending += chunk;
      const lines = pending.split(/\r\n|\r|\n/);
      pending = lines.pop() ?? '';
      try {
        for (const line of lines) {
          if (line === '') {
            if (type === 'message' && data.length > 0) {
              const event = parsed(TaskEvent, data.join('\n'), 'an SSE message');
              ctx.followed.event(event, receivedAt);
            }
            type = 'message';
            data = [];
          } else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          else if (line.startsWith('event:')) type = line.slice(6).trim();
        }
      } catch (error) {
        res.destroy();
        reject(error);
      }
    });
    res.once('end', () =>
      ctx.followed.ended
        ? resolve()
        : reject(new LaneFailure('the stream ended before the terminal event', true)),
    );
    res.once('error', reject);
    res.once('close', () => {
      if (!ctx.followed.ended) reject(new LaneFailure('the stream closed before the terminal event', true));
    });
  });
}

type LabSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The lab's websocket lane: a socket.io connection of its own, `task:start` with an ack, events. */
function socketIoLane(ctx: LaneContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = epochNow();
    const socket: LabSocket = io(ctx.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      extraHeaders: { 'user-agent': ctx.userAgent },
      query: labTagQuery(ctx.tag),
    });
    let settled = false;
    const end = (error?: unknown) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      socket.off('disconnect', onDisconnect);
      socket.disconnect();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => end(ctx.signal.reason);
    const onDisconnect = (reason: string) =>
      end(new LaneFailure(`socket.io disconnected (${reason}) before the terminal event`, true));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect_error', (error) =>
      end(new LaneFailure(`socket.io connect_error: ${error.message}`)),
    );
    socket.on('disconnect', onDisconnect);
    socket.on(SOCKET_EVENTS.event, (raw) => {
      const receivedAt = epochNow();
      try {
        const event = TaskEvent.safeParse(raw);
        if (!event.success) throw new LaneFailure('task:event: not the shared schema’s shape');
        ctx.followed.event(event.data, receivedAt);
        if (ctx.followed.ended) end();
      } catch (error) {
        end(error);
      }
    });
    socket.once('connect', () => {
      ctx.rec.connectMs.push(epochNow() - started);
      socket.emit(SOCKET_EVENTS.start, ctx.spec, (raw) => {
        const ack = StartAck.safeParse(raw);
        if (!ack.success) return end(new LaneFailure('task:start ack: not the shared schema’s shape'));
        if (!ack.data.ok) return end(new LaneFailure(`task:start refused: ${ack.data.error.code}`));
        try {
          ctx.followed.state(ack.data.task);
        } catch (error) {
          end(error);
        }
      });
    });
  });
}

/** The baseline's websocket lane: a raw `ws` connection, the same exchange in plain JSON arrays. */
function rawWsLane(ctx: LaneContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = epochNow();
    const socket = new WebSocket(`${ctx.url.replace(/^http/, 'ws')}/ws`, {
      headers: { 'user-agent': ctx.userAgent },
    });
    let settled = false;
    const end = (error?: unknown) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      socket.terminate();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => end(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => end(new LaneFailure(`ws error: ${error.message}`)));
    socket.once('close', () =>
      end(new LaneFailure('the ws connection closed before the terminal event', true)),
    );
    socket.once('open', () => {
      ctx.rec.connectMs.push(epochNow() - started);
      socket.send(JSON.stringify(['start', ctx.spec]));
    });
    socket.on('message', (data: Buffer) => {
      const receivedAt = epochNow();
      try {
        const [kind, payload] = JSON.parse(data.toString('utf8')) as [string, unknown];
        if (kind === 'ack') {
          const ack = StartAck.safeParse(payload);
          if (!ack.success || !ack.data.ok) throw new LaneFailure('start refused or malformed');
          ctx.followed.state(ack.data.task);
          return;
        }
        const event = TaskEvent.safeParse(payload);
        if (kind !== 'event' || !event.success) throw new LaneFailure('a message not of the shared shape');
        ctx.followed.event(event.data, receivedAt);
        if (ctx.followed.ended) end();
      } catch (error) {
        end(error);
      }
    });
  });
}

const LANE_RUNNERS: Record<HallLane, (ctx: LaneContext) => Promise<void>> = {
  'request-response': requestResponse,
  'short-polling': shortPolling,
  'long-polling': longPolling,
  sse,
  websocket: (ctx) => (ctx.side === 'project' ? socketIoLane(ctx) : rawWsLane(ctx)),
};

const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE']);

function failureOf(error: unknown, signal: AbortSignal): { reason: string; dropped: boolean } {
  if (signal.aborted) return { reason: 'no terminal event within the block’s bound', dropped: false };
  if (error instanceof LaneFailure) return { reason: error.message, dropped: error.dropped };
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  // A request whose connection was cut under it ("socket hang up" is node's ECONNRESET before an answer).
  const dropped = (code !== undefined && DROPPED_CODES.has(code)) || message === 'socket hang up';
  return { reason: code ? `${code}: ${message}` : message, dropped };
}

/** Runs the phone's five lanes at once and records what each saw; never throws. */
export async function runPhone(options: PhoneOptions): Promise<void> {
  const agent = new Agent({ keepAlive: true });
  const expectedEvents = options.spec.steps + 3;
  try {
    await Promise.all(
      HALL_LANES.map(async (lane) => {
        const followed = new Followed(options.rec, lane, expectedEvents);
        const ctx: LaneContext = {
          ...options,
          agent,
          userAgent: `transport-lab-hall phone-${options.phone}`,
          lane,
          tag: { lane, runId: options.runId },
          followed,
        };
        try {
          await LANE_RUNNERS[lane](ctx);
          followed.finish();
        } catch (error) {
          options.rec.failures.push({ lane, phone: options.phone, ...failureOf(error, options.signal) });
        }
      }),
    );
  } finally {
    // Its idle keep-alive connections close with the phone, as a page's would when it is left.
    agent.destroy();
  }
}
