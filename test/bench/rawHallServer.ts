// The capacity benchmark's baseline (capacity.ts): the transport alone. node:http and `ws`, the same
// paths and answers as the lab's task API, each task an in-memory timer that makes the same 23
// events with the same `at` and `dueAt` as the lab's engine (server/src/tasks/run.ts, whose pure
// applyEvent and resultPayload it reuses), and nothing else: no SQLite, no express, no schema
// validation beyond JSON.parse, no logging, no wire accounting, no lab tags read.
//
//   POST /api/tasks                             202 {task} + Location + Retry-After: 1
//   POST /api/tasks/run                         200 {task} once the task has ended
//   GET  /api/tasks/{id}                        {task} + ETag; If-None-Match that matches → 304
//   GET  /api/tasks/{id}/events?after&waitMs    long poll: {events, nextAfter}, at once or when the
//                                               next events come (those of one turn together)
//   GET  /api/tasks/{id}/stream?after           SSE: `id: seq` + `data: event`; ends after the terminal
//   GET  /api/time                              {receivedAt, sentAt}, for the bench's clock check
//   WS   /ws                                    text ["start", spec] → ["ack", {ok, task}], then
//                                               ["event", event] for each event, queued first
//
// Prints `listening <port>` once it listens on 127.0.0.1 (port 0: a free one).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TaskEvent, TaskSpec, TaskState } from '@transport-lab/shared';
import { WebSocketServer } from 'ws';
import { applyEvent, type EventDraft, resultPayload } from '../../server/src/tasks/run.ts';

const epochNow = () => performance.timeOrigin + performance.now();

/** What the lab's engine does too: at most this many overdue steps per timer tick. */
const MAX_STEPS_PER_TICK = 50;
/** The lab's default result size (TASK_LIMITS.defaultResultBytes), bytes. */
const DEFAULT_RESULT_BYTES = 64;
/** The lab's Retry-After for a 1 s POLL_INTERVAL_MS, seconds. */
const RETRY_AFTER_S = '1';
/** The lab's ceiling and default of a long poll's hold, ms. */
const MAX_WAIT_MS = 30_000;
const DEFAULT_WAIT_MS = 25_000;
/** An ended task is forgotten this long after its end, so that the process does not grow for ever. */
const KEEP_ENDED_MS = 60_000;

type Listener = (event: TaskEvent) => void;

interface Task {
  state: TaskState;
  /** Every event so far; event `seq` is at index seq − 1. */
  events: TaskEvent[];
  listeners: Set<Listener>;
  paceOriginAt: number;
}

const tasks = new Map<string, Task>();
const isEnded = (task: Task) => task.state.status !== 'queued' && task.state.status !== 'running';

function emit(task: Task, draft: EventDraft, dueAt: number): void {
  const at = epochNow();
  const event = {
    ...draft,
    taskId: task.state.id,
    seq: task.state.lastSeq + 1,
    at,
    dueAt: Math.min(at, dueAt),
  } as TaskEvent;
  task.state = applyEvent(task.state, event);
  task.events.push(event);
  for (const listener of task.listeners) listener(event);
  if (isEnded(task)) setTimeout(() => tasks.delete(task.state.id), KEEP_ENDED_MS).unref();
}

/** The lab's schedule: step k is due at paceOriginAt + k × durationMs / steps, on absolute time. */
function dueAt(task: Task, step: number): number {
  return task.paceOriginAt + (step * task.state.spec.durationMs) / task.state.spec.steps;
}

function scheduleNext(task: Task): void {
  if (isEnded(task)) return;
  const delayMs = Math.max(0, Math.ceil(dueAt(task, task.state.step + 1) - epochNow()));
  setTimeout(() => tick(task), delayMs);
}

function tick(task: Task): void {
  for (let n = 0; n < MAX_STEPS_PER_TICK && !isEnded(task); n++) {
    const step = task.state.step + 1;
    const due = dueAt(task, step);
    if (due > epochNow()) break;
    const { steps, resultBytes } = task.state.spec;
    emit(task, { type: 'progress', step, steps, percent: Math.round((step / steps) * 10_000) / 100 }, due);
    if (step === steps) {
      const payload = resultPayload(resultBytes ?? DEFAULT_RESULT_BYTES);
      emit(task, { type: 'succeeded', result: { steps: step, payload } }, due);
    }
  }
  scheduleNext(task);
}

/** `queued` at once (to `listener` too, when given), `started` on the next turn, then the steps. */
function createTask(spec: TaskSpec, listener?: Listener): Task {
  const id = randomUUID();
  const createdAt = epochNow();
  const state: TaskState = {
    id,
    spec,
    status: 'queued',
    step: 0,
    steps: spec.steps,
    percent: 0,
    lastSeq: 0,
    createdAt,
    updatedAt: createdAt,
  };
  const task: Task = { state, events: [], listeners: new Set(listener ? [listener] : []), paceOriginAt: 0 };
  tasks.set(id, task);
  emit(task, { type: 'queued', spec }, createdAt);
  setImmediate(() => {
    emit(task, { type: 'started' }, createdAt);
    task.paceOriginAt = epochNow();
    scheduleNext(task);
  });
  return task;
}

/** A spec as the lab's bench sends it; anything else is refused (this server is no validator). */
function specOf(body: unknown): TaskSpec | undefined {
  const spec = body as Partial<TaskSpec> | null;
  if (typeof spec?.durationMs !== 'number' || typeof spec.steps !== 'number' || spec.steps < 1)
    return undefined;
  if (spec.failAtStep !== undefined) return undefined; // not needed by the bench: not implemented
  return spec as TaskSpec;
}

// ── HTTP ────────────────────────────────────────────────────────────────────────────────────────────

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const notFound = (res: ServerResponse) => sendJson(res, 404, { error: { code: 'NOT_FOUND', message: '' } });

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
  });
}

async function create(req: IncomingMessage, res: ServerResponse, body: 'wrapped' | 'bare'): Promise<void> {
  const json = await readJson(req);
  const spec = specOf(body === 'wrapped' ? (json as { spec?: unknown } | undefined)?.spec : json);
  if (!spec) return sendJson(res, 400, { error: { code: 'VALIDATION_FAILED', message: 'bad spec' } });
  if (body === 'wrapped') {
    const task = createTask(spec);
    return sendJson(
      res,
      202,
      { task: task.state },
      { location: `/api/tasks/${task.state.id}`, 'retry-after': RETRY_AFTER_S },
    );
  }
  // The blocking lane: the answer once the task has ended (its `queued` comes before `task` is set).
  let task: Task | undefined;
  const onEvent: Listener = () => {
    if (!task || !isEnded(task)) return;
    task.listeners.delete(onEvent);
    sendJson(res, 200, { task: task.state });
  };
  task = createTask(spec, onEvent);
  const created = task;
  res.on('close', () => created.listeners.delete(onEvent));
}

function poll(req: IncomingMessage, res: ServerResponse, task: Task): void {
  const etag = `"${task.state.id}.${task.state.lastSeq}"`;
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag, 'cache-control': 'no-cache' });
    res.end();
    return;
  }
  sendJson(res, 200, { task: task.state }, { etag, 'cache-control': 'no-cache' });
}

function longPoll(res: ServerResponse, task: Task, query: URLSearchParams): void {
  const after = Number(query.get('after') ?? 0);
  const waitMs = Math.min(Number(query.get('waitMs') ?? DEFAULT_WAIT_MS), MAX_WAIT_MS);
  const events = task.events.slice(after);
  const answer = () => {
    clearTimeout(timer);
    task.listeners.delete(onEvent);
    if (!res.writableEnded && !res.destroyed)
      sendJson(res, 200, { events, nextAfter: events.at(-1)?.seq ?? after }, { 'cache-control': 'no-store' });
  };
  let flushQueued = false;
  const onEvent: Listener = (event) => {
    events.push(event);
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(answer);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  if (events.length > 0 || isEnded(task) || waitMs <= 0) {
    answer();
    return;
  }
  task.listeners.add(onEvent);
  timer = setTimeout(answer, waitMs);
  res.on('close', () => {
    clearTimeout(timer);
    task.listeners.delete(onEvent);
  });
}

function stream(req: IncomingMessage, res: ServerResponse, task: Task, query: URLSearchParams): void {
  const after = Number(req.headers['last-event-id'] ?? query.get('after') ?? 0);
  if (isEnded(task) && after >= task.state.lastSeq) {
    res.writeHead(204);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' });
  res.write('retry: 1000\n\n');
  const send: Listener = (event) => {
    res.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
    if (isEnded(task) && event.seq === task.state.lastSeq) {
      task.listeners.delete(send);
      res.end();
    }
  };
  for (const event of task.events.slice(after)) send(event);
  if (res.writableEnded) return;
  task.listeners.add(send);
  res.on('close', () => task.listeners.delete(send));
}

const server = createServer((req, res) => {
  const receivedAt = epochNow();
  const url = new URL(req.url ?? '/', 'http://bench');
  const path = url.pathname;
  if (req.method === 'POST' && path === '/api/tasks') return void create(req, res, 'wrapped');
  if (req.method === 'POST' && path === '/api/tasks/run') return void create(req, res, 'bare');
  if (req.method === 'GET' && path === '/api/time')
    return sendJson(res, 200, { receivedAt, sentAt: epochNow() });
  const match = /^\/api\/tasks\/([^/]+)(\/events|\/stream)?$/.exec(path);
  const task = match?.[1] ? tasks.get(match[1]) : undefined;
  if (req.method !== 'GET' || !task) return notFound(res);
  if (match?.[2] === '/events') return longPoll(res, task, url.searchParams);
  if (match?.[2] === '/stream') return stream(req, res, task, url.searchParams);
  poll(req, res, task);
});

// ── WebSocket ───────────────────────────────────────────────────────────────────────────────────────

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (socket) => {
  socket.on('message', (raw) => {
    let message: unknown;
    try {
      message = JSON.parse(String(raw));
    } catch {
      message = undefined;
    }
    const [kind, payload] = Array.isArray(message) ? message : [];
    const spec = kind === 'start' ? specOf(payload) : undefined;
    if (!spec) {
      socket.send(JSON.stringify(['ack', { ok: false, error: { code: 'VALIDATION_FAILED', message: '' } }]));
      return;
    }
    const onEvent: Listener = (event) => socket.send(JSON.stringify(['event', event]));
    const task = createTask(spec, onEvent);
    socket.once('close', () => task.listeners.delete(onEvent));
    socket.send(JSON.stringify(['ack', { ok: true, task: task.state }]));
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});

const stop = () => {
  for (const client of wss.clients) client.terminate();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
