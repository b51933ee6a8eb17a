import {
  API_PATHS,
  type ClientToServerEvents,
  isTerminalEvent,
  type ServerToClientEvents,
  SOCKET_EVENTS,
  TaskEvent,
  type TaskSpec,
} from '@transport-lab/shared';
import { io, type Socket } from 'socket.io-client';
import type { Logger } from './observability/logger.ts';

/** The smallest task that still walks every step of a lane: accepted, started, one step, done. */
const WARM_TASK: TaskSpec = { durationMs: 0, steps: 1 };
/** Past this the warm-up gives up on a lane, ms: it must never hold the server's start for long. */
const WARM_TIMEOUT_MS = 5_000;

/**
 * Runs one tiny task through each lane the server serves, over loopback, before the first person does.
 *
 * The first race after a start answered its `POST /api/tasks` in 226–395 ms against 6–65 ms for later
 * ones (Chromium's own request timings, 2-core machine): the code paths were cold — V8 compiling the
 * handlers, zod compiling each schema on its first parse, SQLite preparing statements, socket.io's
 * first handshake. A presenter's first race is the one the audience sees, so the server pays that
 * once here. Nothing here is tagged for the wire count; a lane that fails only logs: the server is
 * up either way.
 */
export async function warmUp(baseUrl: string, logger: Logger): Promise<number> {
  const started = performance.now();
  const results = await Promise.allSettled([httpLanes(baseUrl), socketLane(baseUrl)]);
  for (const result of results) {
    if (result.status === 'rejected') logger.warn({ err: result.reason }, 'warm-up of a lane failed');
  }
  return performance.now() - started;
}

async function httpLanes(baseUrl: string): Promise<void> {
  const json = { 'content-type': 'application/json' };
  const signal = AbortSignal.timeout(WARM_TIMEOUT_MS);
  // Request/response takes the task itself; the asynchronous create takes `{spec, webhook?}`.
  const runBody = JSON.stringify(WARM_TASK);
  const body = JSON.stringify({ spec: WARM_TASK });
  // Request/response: blocks until the task ends.
  await (
    await fetch(`${baseUrl}${API_PATHS.run}`, { method: 'POST', headers: json, body: runBody, signal })
  ).text();
  // Asynchronous create, then each way of following it: state (poll), long poll, the event stream.
  const created = await fetch(`${baseUrl}${API_PATHS.tasks}`, {
    method: 'POST',
    headers: json,
    body,
    signal,
  });
  const location = created.headers.get('location');
  await created.text();
  if (!location) throw new Error(`POST ${API_PATHS.tasks} answered ${created.status} without a Location`);
  await (await fetch(`${baseUrl}${location}`, { signal })).text();
  await (await fetch(`${baseUrl}${location}/events?after=0&waitMs=0`, { signal })).text();
  // The stream ends after the terminal event; reading it to its end exercises the whole SSE path.
  await (await fetch(`${baseUrl}${location}/stream`, { signal })).text();
  // The hybrid: RFC 7240's Prefer on the same create.
  const hybrid = await fetch(`${baseUrl}${API_PATHS.tasks}`, {
    method: 'POST',
    headers: { ...json, prefer: 'respond-async, wait=1' },
    body,
    signal,
  });
  await hybrid.text();
}

function socketLane(baseUrl: string): Promise<void> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(baseUrl, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: WARM_TIMEOUT_MS,
  });
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('no terminal event in time')), WARM_TIMEOUT_MS);
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.disconnect();
      if (error) reject(error);
      else resolve();
    };
    socket.on('connect_error', (error) => done(error));
    socket.on(SOCKET_EVENTS.event, (raw) => {
      const event = TaskEvent.safeParse(raw);
      if (event.success && isTerminalEvent(event.data)) done();
    });
    socket.emit(SOCKET_EVENTS.start, WARM_TASK, (ack) => {
      if (!ack.ok) done(new Error(`task:start refused: ${ack.error.code}`));
    });
  });
}
