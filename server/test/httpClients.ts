import { type AddressInfo, connect as connectTcp, createServer as createNetServer } from 'node:net';
import {
  API_PATHS,
  type CreateTaskResponse,
  CreateTaskResponse as CreateTaskResponseSchema,
  EventsResponse,
  HTTP_HEADERS,
  isTerminalEvent,
  SSE,
  SseWire,
  TaskEvent,
  TaskResponse,
  type TaskState,
} from '@transport-lab/shared';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Real HTTP clients of the asynchronous lanes, as a program (not a browser) would write them. */

export async function createTask(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ res: Response; json: CreateTaskResponse }> {
  const res = await fetch(`${baseUrl}${API_PATHS.tasks}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = CreateTaskResponseSchema.parse(await res.json());
  return { res, json };
}

/**
 * Long polling from `after` until the terminal event. `headers`: the lane's tags. `cutAfter`: once
 * that many events have arrived, the next poll is cut while the server holds it, as a dropped network
 * would, and the loop returns there; `cursor` is where a client resumes (what that poll carried, if
 * anything, is lost with it: the cursor did not move).
 */
export async function longPollToEnd(
  baseUrl: string,
  id: string,
  after = 0,
  waitMs = 5_000,
  { headers, cutAfter }: { headers?: Record<string, string>; cutAfter?: number } = {},
): Promise<{ events: TaskEvent[]; polls: number; empty: number; cursor: number }> {
  const events: TaskEvent[] = [];
  let cursor = after;
  let polls = 0;
  let empty = 0;
  const url = () => `${baseUrl}${API_PATHS.events(id)}?after=${cursor}&waitMs=${waitMs}`;
  while (!events.some(isTerminalEvent)) {
    polls++;
    if (cutAfter !== undefined && events.length >= cutAfter) {
      // The moment of the cut is arbitrary (held, or its answer on the way): each must lose nothing.
      const cut = new AbortController();
      setTimeout(() => cut.abort(), 20);
      await fetch(url(), { headers, signal: cut.signal })
        .then((res) => res.arrayBuffer())
        .catch(() => undefined);
      return { events, polls, empty, cursor };
    }
    const res = await fetch(url(), { headers });
    if (res.status !== 200) throw new Error(`long poll answered ${res.status}`);
    const answer = EventsResponse.parse(await res.json());
    if (answer.events.length === 0) empty++;
    events.push(...answer.events);
    cursor = answer.nextAfter;
  }
  return { events, polls, empty, cursor };
}

export interface SseRead {
  status: number;
  headers: Headers;
  events: TaskEvent[];
  ids: string[];
  retryMs?: number;
  /** The stream ended on its own (the server closed it), rather than being aborted by us. */
  endedByServer: boolean;
  /** The stream's first message: what the page cannot see of its own request and answer head. */
  wire?: SseWire;
  wireMessage?: EventSourceMessage;
}

/**
 * Reads `GET …/stream` with fetch and eventsource-parser. `stopAfter` aborts the connection once
 * that many events arrived, as a dropped network would; `lastEventId` resumes like EventSource.
 */
export async function readSse(
  baseUrl: string,
  id: string,
  options: {
    lastEventId?: string;
    after?: number;
    stopAfter?: number;
    /** Extra request headers (e.g. X-Forwarded-For, to speak as a phone behind a local proxy). */
    headers?: Record<string, string>;
  } = {},
): Promise<SseRead> {
  const abort = new AbortController();
  const query = options.after !== undefined ? `?after=${options.after}` : '';
  const res = await fetch(`${baseUrl}${API_PATHS.stream(id)}${query}`, {
    headers: {
      ...options.headers,
      ...(options.lastEventId ? { [HTTP_HEADERS.lastEventId]: options.lastEventId } : {}),
    },
    signal: abort.signal,
  });
  const out: SseRead = {
    status: res.status,
    headers: res.headers,
    events: [],
    ids: [],
    endedByServer: false,
  };
  if (res.status !== 200 || !res.body) return out;
  const parser = createParser({
    onEvent(message) {
      if (message.event === SSE.wireEvent) {
        out.wire = SseWire.parse(JSON.parse(message.data));
        out.wireMessage = message;
        return;
      }
      out.events.push(TaskEvent.parse(JSON.parse(message.data)));
      if (message.id !== undefined) out.ids.push(message.id);
      if (options.stopAfter !== undefined && out.events.length >= options.stopAfter) abort.abort();
    },
    onRetry(ms) {
      out.retryMs = ms;
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    out.endedByServer = true;
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  }
  return out;
}

/**
 * Short polling with ETags every `intervalMs` until the task ends: every state seen, and the 304s.
 * `headers`: the lane's tags; `onState` sees each new state as it arrives (a client cancelling).
 */
export async function shortPollToEnd(
  baseUrl: string,
  location: string,
  intervalMs: number,
  {
    headers = {},
    onState,
  }: { headers?: Record<string, string>; onState?: (state: TaskState) => void | Promise<void> } = {},
): Promise<{ states: TaskState[]; notModified: number }> {
  const states: TaskState[] = [];
  let etag: string | null = null;
  let notModified = 0;
  for (;;) {
    const res = await fetch(`${baseUrl}${location}`, {
      headers: etag ? { ...headers, [HTTP_HEADERS.ifNoneMatch]: etag } : headers,
    });
    if (res.status === 304) notModified++;
    else {
      etag = res.headers.get(HTTP_HEADERS.etag);
      const { task } = TaskResponse.parse(await res.json());
      states.push(task);
      await onState?.(task);
    }
    const last = states.at(-1);
    if (last && ['succeeded', 'failed', 'cancelled'].includes(last.status)) return { states, notModified };
    // The interval is the protocol itself here (the client's polling period), not a wait for sync.
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A TCP proxy in front of `target` that counts the bytes each way: an independent witness of what
 * crossed the wire. `settled` waits until every connection through it has closed.
 */
export async function countingProxy(target: string): Promise<{
  url: string;
  bytesUp(): number;
  bytesDown(): number;
  settled(): Promise<void>;
  close(): Promise<void>;
}> {
  const { hostname, port } = new URL(target);
  let up = 0;
  let down = 0;
  let open = 0;
  let onIdle: (() => void) | undefined;
  const proxy = createNetServer((client) => {
    open++;
    const upstream = connectTcp(Number(port), hostname);
    client.on('data', (chunk) => {
      up += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      down += chunk.length;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.once('close', () => {
      open--;
      if (open === 0) onIdle?.();
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    bytesUp: () => up,
    bytesDown: () => down,
    settled: () =>
      new Promise((resolve) => {
        if (open === 0) resolve();
        else onIdle = resolve;
      }),
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}

/**
 * Reads an HTTP streaming answer (`application/x-ndjson`) line by line as it arrives, as the page's
 * lane does with `fetch` and a `ReadableStream`: each non-blank line one `TaskEvent`. `stopAfter`
 * cuts the connection once that many events came (a dropped stream); else it reads to the end.
 */
export async function readNdjson(
  url: string,
  headers: Record<string, string>,
  stopAfter?: number,
): Promise<{ status: number; contentType: string | null; events: TaskEvent[]; endedByServer: boolean }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: TaskEvent[] = [];
  if (res.status !== 200 || !res.body) {
    await res.arrayBuffer();
    return { status: res.status, contentType: res.headers.get('content-type'), events, endedByServer: true };
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim() !== '') events.push(TaskEvent.parse(JSON.parse(line)));
      newline = pending.indexOf('\n');
    }
    if (stopAfter !== undefined && events.length >= stopAfter) {
      abort.abort();
      await reader.cancel().catch(() => {});
      return {
        status: res.status,
        contentType: res.headers.get('content-type'),
        events,
        endedByServer: false,
      };
    }
  }
  return { status: res.status, contentType: res.headers.get('content-type'), events, endedByServer: true };
}
