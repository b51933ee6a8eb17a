import {
  API_PATHS,
  EventsResponse,
  FAULT_PATHS,
  type Fault,
  FaultResponse,
  HTTP_HEADERS,
  isTerminalEvent,
  type LabTag,
  labTagHeaders,
  labTagQuery,
  RelayMessage,
  RunResponse,
  SOCKET_EVENTS,
  SSE,
  TaskEvent,
  TaskResponse,
  type TaskSpec,
  type TaskState,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import { createParser } from 'eventsource-parser';
import { io as connect } from 'socket.io-client';
import type { LabClient } from './harness.ts';

/**
 * Lane clients that recover as the page's do (server/test's own, written as a program would): each
 * follows one task to its end through drops and a restart, and says how many connections it made.
 * Retry pauses are the protocol's own (SSE `retry:`, a polling interval, a backoff after an error),
 * never a wait standing in for synchronisation; every loop is bounded by a deadline.
 */

export const DEADLINE_MS = 40_000;

export async function postFault(baseUrl: string, fault: Fault): Promise<FaultResponse['fault']> {
  const res = await fetch(`${baseUrl}${FAULT_PATHS.faults}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
  const json: unknown = await res.json();
  if (res.status !== 201) throw new Error(`fault answered ${res.status}: ${JSON.stringify(json)}`);
  return FaultResponse.parse(json).fault;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function checkDeadline(started: number, what: string): void {
  if (performance.now() - started > DEADLINE_MS) throw new Error(`${what}: no end within ${DEADLINE_MS} ms`);
}

/** What one lane saw of its task: every event once in seq order (for event lanes), the final state. */
export interface LaneOutcome {
  events: TaskEvent[];
  final: TaskState;
  /** Requests or streams this client opened (one per poll, per stream, per socket connection). */
  opened: number;
  /** Failures it recovered from: network errors, cut streams, 503s. */
  recoveries: number;
  /** Statuses of the lane's own answers that were not 2xx/304, in order. */
  statuses: number[];
}

/** Applies events in seq order, dropping duplicates (what the page's seq orderer does). */
class Ordered {
  readonly events: TaskEvent[] = [];
  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }
  add(event: TaskEvent): void {
    if (event.seq === this.lastSeq + 1) this.events.push(event);
  }
  get ended(): boolean {
    return this.events.some(isTerminalEvent);
  }
}

async function finalState(baseUrl: string, id: string): Promise<TaskState> {
  const res = await fetch(`${baseUrl}${API_PATHS.task(id)}`);
  return TaskResponse.parse(await res.json()).task;
}

/** Reads one SSE answer into `ordered`; resolves when the server ends it or the connection fails. */
async function readStreamOnce(
  url: string,
  lastEventId: number,
  ordered: Ordered,
  parse: (data: string) => TaskEvent,
  onChunk?: () => void,
): Promise<{ status: number; retryMs?: number }> {
  const res = await fetch(url, {
    headers: lastEventId > 0 ? { [HTTP_HEADERS.lastEventId]: String(lastEventId) } : {},
  });
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    return { status: res.status };
  }
  let retryMs: number | undefined;
  const parser = createParser({
    onEvent(message) {
      if (message.event === SSE.wireEvent) return;
      ordered.add(parse(message.data));
    },
    onRetry(ms) {
      retryMs = ms;
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    onChunk?.();
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    if (ordered.ended) break;
  }
  return { status: 200, retryMs };
}

/** An EventSource as the browser runs one: reconnects after `retry:` with Last-Event-ID until the end. */
export async function followStream(
  origin: string,
  path: string,
  tag: LabTag,
  parse: (data: string) => TaskEvent,
  ordered = new Ordered(),
): Promise<{ events: TaskEvent[]; opened: number; recoveries: number }> {
  const started = performance.now();
  const url = `${origin}${path}?${new URLSearchParams(labTagQuery(tag))}`;
  let opened = 0;
  let recoveries = 0;
  let retryMs: number = SSE.retryMs;
  while (!ordered.ended) {
    checkDeadline(started, `stream ${path}`);
    opened += 1;
    try {
      const answer = await readStreamOnce(url, ordered.lastSeq, ordered, parse);
      retryMs = answer.retryMs ?? retryMs;
      if (answer.status === 204) break;
      if (answer.status !== 200) recoveries += 1;
    } catch {
      recoveries += 1; // cut mid-stream or refused while the server was down
    }
    if (!ordered.ended) await pause(retryMs);
  }
  return { events: ordered.events, opened, recoveries };
}

export async function sseLane(baseUrl: string, tag: LabTag, spec: TaskSpec): Promise<LaneOutcome> {
  const { task } = await createAsync(baseUrl, tag, spec);
  const stream = await followStream(baseUrl, API_PATHS.stream(task.id), tag, (d) =>
    TaskEvent.parse(JSON.parse(d)),
  );
  return { ...stream, opened: stream.opened + 1, final: await finalState(baseUrl, task.id), statuses: [] };
}

export async function createAsync(
  baseUrl: string,
  tag: LabTag,
  spec: TaskSpec,
  extra: { webhook?: { url: string }; headers?: Record<string, string> } = {},
): Promise<{ task: TaskState; status: number }> {
  const res = await fetch(`${baseUrl}${API_PATHS.tasks}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...labTagHeaders(tag), ...extra.headers },
    body: JSON.stringify(extra.webhook ? { spec, webhook: extra.webhook } : { spec }),
  });
  const json = (await res.json()) as { task: TaskState };
  if (res.status !== 202 && res.status !== 200) throw new Error(`create answered ${res.status}`);
  return { task: json.task, status: res.status };
}

/** Long polling by cursor, with a short backoff after an error. */
export async function longPollFollow(
  baseUrl: string,
  tag: LabTag,
  id: string,
  ordered = new Ordered(),
): Promise<{ events: TaskEvent[]; opened: number; recoveries: number }> {
  const started = performance.now();
  let opened = 0;
  let recoveries = 0;
  while (!ordered.ended) {
    checkDeadline(started, 'long polling');
    opened += 1;
    try {
      const res = await fetch(`${baseUrl}${API_PATHS.events(id)}?after=${ordered.lastSeq}&waitMs=5000`, {
        headers: labTagHeaders(tag),
      });
      if (res.status !== 200) throw new Error(`long poll answered ${res.status}`);
      for (const event of EventsResponse.parse(await res.json()).events) ordered.add(event);
    } catch {
      recoveries += 1;
      await pause(200); // the page's backoff after a failed poll
    }
  }
  return { events: ordered.events, opened, recoveries };
}

export async function longPollingLane(baseUrl: string, tag: LabTag, spec: TaskSpec): Promise<LaneOutcome> {
  const { task } = await createAsync(baseUrl, tag, spec);
  const polled = await longPollFollow(baseUrl, tag, task.id);
  return { ...polled, opened: polled.opened + 1, final: await finalState(baseUrl, task.id), statuses: [] };
}

/** Short polling a Location every `intervalMs` until a terminal state; errors are skipped polls. */
export async function pollToEnd(
  baseUrl: string,
  tag: LabTag | undefined,
  location: string,
  intervalMs: number,
): Promise<{ final: TaskState; opened: number; recoveries: number }> {
  const started = performance.now();
  let opened = 0;
  let recoveries = 0;
  for (;;) {
    checkDeadline(started, `polling ${location}`);
    opened += 1;
    try {
      const res = await fetch(`${baseUrl}${location}`, { headers: tag ? labTagHeaders(tag) : {} });
      if (res.status !== 200) throw new Error(`poll answered ${res.status}`);
      const { task } = TaskResponse.parse(await res.json());
      if (TERMINAL_STATUSES.has(task.status)) return { final: task, opened, recoveries };
    } catch {
      recoveries += 1;
    }
    await pause(intervalMs); // the polling interval is the protocol itself
  }
}

export async function shortPollingLane(baseUrl: string, tag: LabTag, spec: TaskSpec): Promise<LaneOutcome> {
  const { task } = await createAsync(baseUrl, tag, spec);
  const polled = await pollToEnd(baseUrl, tag, API_PATHS.task(task.id), 250);
  return {
    events: [],
    final: polled.final,
    opened: polled.opened + 1,
    recoveries: polled.recoveries,
    statuses: [],
  };
}

/** The blocking call; on a 503 or 504 with Location (a restart, the sync timeout) it follows Location. */
export async function requestResponseLane(
  baseUrl: string,
  tag: LabTag,
  spec: TaskSpec,
): Promise<LaneOutcome & { location?: string }> {
  const res = await fetch(`${baseUrl}${API_PATHS.run}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...labTagHeaders(tag) },
    body: JSON.stringify(spec),
  });
  if (res.status === 200) {
    const { task } = RunResponse.parse(await res.json());
    return { events: [], final: task, opened: 1, recoveries: 0, statuses: [] };
  }
  await res.body?.cancel();
  const location = res.headers.get(HTTP_HEADERS.location);
  if (!location) throw new Error(`the blocking call answered ${res.status} without a Location`);
  const polled = await pollToEnd(baseUrl, tag, location, 250);
  return {
    events: [],
    final: polled.final,
    opened: polled.opened + 1,
    recoveries: polled.recoveries + 1,
    statuses: [res.status],
    location,
  };
}

/** `Prefer: respond-async, wait=N` with an Idempotency-Key reused on a network retry; a 202 continues by long polling. */
export async function hybridLane(
  baseUrl: string,
  tag: LabTag,
  spec: TaskSpec,
  waitS: number,
): Promise<LaneOutcome> {
  const key = `faults-${tag.runId}`;
  const started = performance.now();
  let opened = 0;
  let recoveries = 0;
  const statuses: number[] = [];
  for (;;) {
    checkDeadline(started, 'hybrid create');
    opened += 1;
    try {
      const { task, status } = await createAsync(baseUrl, tag, spec, {
        headers: { [HTTP_HEADERS.prefer]: `respond-async, wait=${waitS}`, 'idempotency-key': key },
      });
      if (status === 200) return { events: [], final: task, opened, recoveries, statuses };
      statuses.push(status);
      const polled = await longPollFollow(baseUrl, tag, task.id);
      return {
        events: polled.events,
        final: await finalState(baseUrl, task.id),
        opened: opened + polled.opened,
        recoveries: recoveries + polled.recoveries,
        statuses,
      };
    } catch {
      recoveries += 1;
      await pause(200);
    }
  }
}

/** The webhook lane: a task with the built-in receiver, followed through the receiver's relay. */
export async function webhookLane(
  baseUrl: string,
  receiverOrigin: string,
  tag: LabTag,
  spec: TaskSpec,
): Promise<LaneOutcome> {
  const { task } = await createAsync(baseUrl, tag, spec, { webhook: { url: `${receiverOrigin}/webhooks` } });
  const relayed = await followStream(
    receiverOrigin,
    `/relay/tasks/${task.id}`,
    tag,
    (data) => RelayMessage.parse(JSON.parse(data)).payload.data,
  );
  return { ...relayed, opened: relayed.opened + 1, final: await finalState(baseUrl, task.id), statuses: [] };
}

/** socket.io on the websocket transport: start with an ack, then after each reconnection that was
 *  not recovered, re-subscribe from the last applied seq (what the page's lane does). */
export async function websocketLane(
  baseUrl: string,
  tag: LabTag,
  spec: TaskSpec,
  onStarted?: (taskId: string, socket: LabClient) => void,
): Promise<LaneOutcome & { connects: number; recovered: number }> {
  const socket: LabClient = connect(baseUrl, {
    transports: ['websocket'],
    query: labTagQuery(tag),
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
  });
  const ordered = new Ordered();
  const early: TaskEvent[] = [];
  let taskId: string | undefined;
  let connects = 0;
  let recovered = 0;
  try {
    const ended = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('websocket: no end in time')), DEADLINE_MS);
      const check = () => {
        if (!ordered.ended) return;
        clearTimeout(timer);
        resolve();
      };
      socket.on(SOCKET_EVENTS.event, (event) => {
        // `queued` is pushed before the start's ack names the task: kept until then.
        if (taskId === undefined) early.push(event);
        else if (event.taskId === taskId) ordered.add(event);
        check();
      });
      socket.on('connect', () => {
        connects += 1;
        if (connects === 1) {
          socket.emit(SOCKET_EVENTS.start, spec, (ack) => {
            if (!ack.ok) return reject(new Error(ack.error.message));
            taskId = ack.task.id;
            for (const event of early.splice(0)) if (event.taskId === taskId) ordered.add(event);
            onStarted?.(ack.task.id, socket);
            check();
          });
          return;
        }
        if (socket.recovered) {
          recovered += 1;
          return;
        }
        if (!taskId) return;
        socket.emit(SOCKET_EVENTS.subscribe, { taskId, afterSeq: ordered.lastSeq }, (ack) => {
          if (!ack.ok) return reject(new Error(ack.error.message));
          for (const event of ack.events) ordered.add(event);
          check();
        });
      });
    });
    await ended;
  } finally {
    socket.disconnect();
  }
  if (!taskId) throw new Error('websocket: no task');
  return {
    events: ordered.events,
    final: await finalState(baseUrl, taskId),
    opened: connects,
    recoveries: connects - 1,
    statuses: [],
    connects,
    recovered,
  };
}
