import { type PublicSettings, REQUEST_BYTES_HEADER } from '@transport-lab/shared';
import type { AsyncDeps, EventSourceLike } from '../transports/async-task.ts';
import type { LaneReport, WireDelta } from '../transports/types.ts';
import type { ResourceEntryLike } from '../transports/wire.ts';

/** Server settings as `GET /api/settings` would give them in a test. */
export const SETTINGS: PublicSettings = {
  protocolVersion: 1,
  syncTimeoutMs: 30_000,
  pollIntervalMs: 1_000,
  maxLongPollWaitMs: 30_000,
  receiver: { port: 3997, webhookUrl: 'http://127.0.0.1:3997/webhooks' },
  webhookScheduleScale: 0.01,
};

/** A JSON answer carrying the request-bytes header every /api answer has. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', [REQUEST_BYTES_HEADER]: '200', ...headers },
  });
}

export function empty(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { [REQUEST_BYTES_HEADER]: '180', ...headers } });
}

type Listener = (event: Event) => void;

const TERMINAL_TYPES = new Set(['succeeded', 'failed', 'cancelled']);

/** A task event, or a relayed one, that ends the task. */
function endsTheTask(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const record = data as { type?: unknown; payload?: { data?: { type?: unknown } } };
  return TERMINAL_TYPES.has(String(record.type)) || TERMINAL_TYPES.has(String(record.payload?.data?.type));
}

/** An EventSource the test drives by hand: open, deliver, drop (the browser reconnects), refuse. */
export class FakeEventSource implements EventSourceLike {
  readyState = 0;
  closed = false;
  /** Whether the server ends its answer after a terminal event (it does; a test may say it hangs). */
  serverEndsAfterTerminal = true;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: Listener | ((event: MessageEvent<string>) => void)): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener as Listener]);
  }
  close() {
    this.readyState = 2;
    this.closed = true;
  }
  private fire(type: string, event: Event) {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
  open() {
    this.readyState = 1;
    this.fire('open', new Event('open'));
  }
  /** One message with `id:`, as the server frames an event. After a terminal event (or a relayed
   *  one) the server ends its answer, as the real task stream and relay do: the browser then sees the
   *  connection close (an error, about to reconnect) unless the page closed the stream first. */
  send(data: unknown, id: string) {
    this.fire('message', new MessageEvent('message', { data: JSON.stringify(data), lastEventId: id }));
    if (this.serverEndsAfterTerminal && endsTheTask(data)) {
      queueMicrotask(() => {
        if (this.closed) return;
        this.readyState = 0;
        this.fire('error', new Event('error'));
      });
    }
  }
  /** The server's first message on a connection: its `wire` report (no id). */
  sendWire(wire: { requestBytes: number; responseHeadBytes: number }) {
    this.fire('wire', new MessageEvent('wire', { data: JSON.stringify(wire), lastEventId: '' }));
  }
  /** The connection dropped; the browser will reconnect by itself. */
  drop() {
    this.readyState = 0;
    this.fire('error', new Event('error'));
  }
  /** The browser gave up (an error status, a 204). */
  refuse() {
    this.readyState = 2;
    this.fire('error', new Event('error'));
  }
}

export type Route = (url: URL, init: RequestInit) => Response | Promise<Response>;

/**
 * AsyncDeps over a hand-written server: `route` answers each fetch; every request, EventSource and
 * report is recorded. Times come from `Date.now()`, so fake timers move them.
 */
export function fakeAsync(
  route: Route,
  options: { entry?: (url: string) => ResourceEntryLike | undefined } = {},
) {
  const requests: Array<{ url: URL; init: RequestInit }> = [];
  const sources: FakeEventSource[] = [];
  const reports: LaneReport[] = [];
  let keys = 0;
  const deps: AsyncDeps = {
    fetch: async (input, init = {}) => {
      const url = new URL(String(input));
      requests.push({ url, init });
      if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
      return route(url, init);
    },
    now: () => Date.now(),
    perfNow: () => 0,
    watchResource: (url) => ({
      stop: () => {},
      entry: async () =>
        options.entry
          ? options.entry(url)
          : { name: url, startTime: 0, transferSize: 300, encodedBodySize: 100 },
    }),
    random: () => 0,
    newIdempotencyKey: () => `key-${++keys}`,
    createEventSource: (url) => {
      const source = new FakeEventSource(url);
      sources.push(source);
      return source;
    },
    loadSettings: async () => SETTINGS,
  };
  const report = (r: LaneReport) => reports.push(r);
  const of = <T extends LaneReport['type']>(type: T) =>
    reports.filter((r): r is Extract<LaneReport, { type: T }> => r.type === type);
  const wire = () =>
    of('wire').reduce<
      Required<Pick<WireDelta, 'requests' | 'bytesUp' | 'bytesDown' | 'unmeasuredUp' | 'unmeasuredDown'>>
    >(
      (sum, { delta }) => ({
        requests: sum.requests + (delta.requests ?? 0),
        bytesUp: sum.bytesUp + (delta.bytesUp ?? 0),
        bytesDown: sum.bytesDown + (delta.bytesDown ?? 0),
        unmeasuredUp: sum.unmeasuredUp + (delta.unmeasuredUp ?? 0),
        unmeasuredDown: sum.unmeasuredDown + (delta.unmeasuredDown ?? 0),
      }),
      { requests: 0, bytesUp: 0, bytesDown: 0, unmeasuredUp: 0, unmeasuredDown: 0 },
    );
  return {
    deps,
    requests,
    sources,
    reports,
    report,
    of,
    wire,
    /** Seqs of the events reported, in order. */
    seqs: () => of('event').map((r) => r.event.seq),
    paths: () => requests.map((r) => `${r.init.method ?? 'GET'} ${r.url.pathname}${r.url.search}`),
    lastSource: () => {
      const source = sources.at(-1);
      if (!source) throw new Error('no EventSource was opened');
      return source;
    },
  };
}
