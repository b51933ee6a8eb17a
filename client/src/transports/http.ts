import {
  ERROR_STATUS,
  ErrorEnvelope,
  formatTraceparent,
  type LabTag,
  labTagHeaders,
  labTagQuery,
  newSpanId,
  REQUEST_BYTES_HEADER,
  SyncTimeoutDetails,
  TRACEPARENT_HEADER,
  utf8Bytes,
} from '@transport-lab/shared';
import { clientNow } from '../lib/time.ts';
import type { LaneError, Report, RunOptions } from './types.ts';
import {
  connectionDelta,
  parseRequestBytes,
  pickResourceEntry,
  queuedMs,
  type ResourceEntryLike,
} from './wire.ts';

/** Waits for one request's Resource Timing entry, started before the request so none is missed. */
export interface ResourceWatch {
  /** The entry, or undefined if none came within `timeoutMs`. */
  entry(timeoutMs: number): Promise<ResourceEntryLike | undefined>;
  stop(): void;
}

export interface HttpDeps {
  fetch: typeof fetch;
  now(): number;
  /** Watches for the Resource Timing entry of a request to `url` sent at or after `notBefore` (perf ms). */
  watchResource(url: string, notBefore: number): ResourceWatch;
  /** `performance.now()`: Resource Timing's own clock. */
  perfNow(): number;
  /**
   * The lane and race this traffic belongs to, so that the server counts it beside the page
   * (`LAB_TAGS`): headers on a fetch, query parameters on a stream. Only metered traffic is tagged:
   * the lab's own requests (settings, the delivery log, the wire report) are no lane's cost.
   */
  tag?: LabTag;
  /** The run's task's trace-id (`RunOptions.traceId`): the request that creates the task sends it as
   *  its `traceparent` (`traceHeaders`). */
  traceId?: string;
}

/** The same deps for one run: every metered exchange tagged with its `tag`, its create with its trace. */
export function withTag<D extends HttpDeps>(
  deps: D,
  options: Pick<RunOptions, 'tag' | 'traceId'> | undefined,
): D {
  const { tag, traceId } = options ?? {};
  return { ...deps, ...(tag ? { tag } : {}), ...(traceId ? { traceId } : {}) };
}

/** The `traceparent` header of a request that creates the run's task: its trace-id and a new span
 *  for this request (W3C Trace Context); none when the run has no trace-id. */
export function traceHeaders(deps: Pick<HttpDeps, 'traceId'>): Record<string, string> {
  return deps.traceId ? { [TRACEPARENT_HEADER]: formatTraceparent(deps.traceId, newSpanId()) } : {};
}

/** `init` with the lab's tag headers added; `init` itself is left as it was. */
export function taggedInit(init: RequestInit, tag: LabTag | undefined): RequestInit {
  if (!tag) return init;
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(labTagHeaders(tag))) headers.set(name, value);
  return { ...init, headers: Object.fromEntries(headers) };
}

/** An absolute URL with the lab's tag query parameters added (for an EventSource, which sends no headers). */
export function taggedUrl(url: string, tag: LabTag | undefined): string {
  if (!tag) return url;
  const tagged = new URL(url);
  for (const [name, value] of Object.entries(labTagQuery(tag))) tagged.searchParams.set(name, value);
  return tagged.href;
}

/**
 * Chromium adds a request's Resource Timing entry when the loader finishes, which can come a little
 * after `response.text()` resolves; past this the size is reported as not measured.
 */
export const RESOURCE_ENTRY_WAIT_MS = 2_000;

/** A wait before sending above this is a queue for a connection, not the ordinary cost of a fetch. */
export const QUEUED_NOTE_MS = 100;

export const QUEUED_NOTE =
  'Some requests waited for a free connection (over HTTP/1.1 a browser opens 6 per origin, shared with other tabs of this page): the times include that wait.';

let lastExchangeId = 0;

/** A page-wide id for one exchange on the wire, for the timeline's `sent`/`opened`/`ended` reports. */
export function nextExchangeId(): number {
  lastExchangeId += 1;
  return lastExchangeId;
}

/** "GET /api/tasks/…/events?after=3": what the timeline calls a request. */
export function exchangeLabel(method: string, url: string): string {
  const parsed = new URL(url, 'http://page.invalid');
  return `${method} ${parsed.pathname}${parsed.search}`;
}

/** Entries already matched to a request, so that two requests to one URL never share one. */
const claimedEntries = new WeakSet<ResourceEntryLike>();

/**
 * The requests waiting for their Resource Timing entry, by URL, and the one observer that hands each
 * entry to them: an observer per request ran every one of them for every entry of the page (a race
 * of seven lanes keeps dozens waiting), each call a task of the page's main thread.
 */
const watchers = new Map<string, Set<(entry: ResourceEntryLike) => void>>();
let resourceObserver: PerformanceObserver | undefined;

function watchEntries(url: string, take: (entry: ResourceEntryLike) => void): () => void {
  if (typeof PerformanceObserver === 'undefined') return () => {};
  let forUrl = watchers.get(url);
  if (!forUrl) {
    forUrl = new Set();
    watchers.set(url, forUrl);
  }
  forUrl.add(take);
  if (!resourceObserver) {
    resourceObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const waiting = watchers.get(entry.name);
        if (waiting) for (const give of [...waiting]) give(entry as PerformanceResourceTiming);
      }
    });
    resourceObserver.observe({ type: 'resource' });
  }
  return () => {
    const set = watchers.get(url);
    set?.delete(take);
    if (set?.size === 0) watchers.delete(url);
    if (watchers.size === 0) {
      resourceObserver?.disconnect();
      resourceObserver = undefined;
    }
  };
}

export function browserWatchResource(url: string, notBefore: number): ResourceWatch {
  const seen: ResourceEntryLike[] = [];
  let wake: (() => void) | undefined;
  const unwatch = watchEntries(url, (entry) => {
    seen.push(entry);
    wake?.();
  });
  const find = () => {
    const buffered = performance.getEntriesByName(url, 'resource') as PerformanceResourceTiming[];
    const found = pickResourceEntry([...seen, ...buffered], url, notBefore, claimedEntries);
    if (found) claimedEntries.add(found);
    return found;
  };
  const stop = unwatch;
  return {
    stop,
    entry(timeoutMs) {
      return new Promise((resolve) => {
        const finish = (entry: ResourceEntryLike | undefined) => {
          wake = undefined;
          clearTimeout(timer);
          stop();
          resolve(entry);
        };
        const timer = setTimeout(() => finish(find()), timeoutMs);
        wake = () => {
          const found = find();
          if (found) finish(found);
        };
        wake();
      });
    },
  };
}

export const browserHttpDeps: HttpDeps = {
  fetch: (input, init) => fetch(input, init),
  now: clientNow,
  watchResource: browserWatchResource,
  perfNow: () => performance.now(),
};

export interface MeteredAnswer {
  response: Response;
  /** The body as text, read whole. */
  body: string;
  /** When the whole answer had arrived, client clock (epoch ms). */
  receivedAt: number;
  /** Settles once the answer's bytes down have been reported (or reported as not measured). */
  measured: Promise<void>;
}

/**
 * `fetch` that reports its own cost on the wire: one request when sent, bytes up from the server's
 * `x-request-bytes` once the answer comes, bytes down from the Resource Timing entry's `transferSize`
 * (headers + encoded body). A rejected or aborted fetch reports its request and no bytes: nothing
 * measured them.
 */
export async function meteredFetch(
  deps: HttpDeps,
  path: string,
  init: RequestInit,
  report: Report,
): Promise<MeteredAnswer> {
  const url = new URL(path, location.href).href;
  const watch = deps.watchResource(url, deps.perfNow());
  const id = nextExchangeId();
  const failed = (error: unknown) => {
    const aborted = init.signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
    report({ type: 'ended', id, outcome: aborted ? 'aborted' : 'failed', at: deps.now() });
    watch.stop();
  };
  let response: Response;
  try {
    const sentAt = deps.now();
    const pending = deps.fetch(url, taggedInit(init, deps.tag));
    report({ type: 'sent', id, kind: 'http', label: exchangeLabel(init.method ?? 'GET', url), at: sentAt });
    report({ type: 'wire', delta: { requests: 1 }, at: deps.now() });
    response = await pending;
  } catch (error) {
    failed(error);
    throw error;
  }
  const bytesUp = parseRequestBytes(response.headers.get(REQUEST_BYTES_HEADER));
  if (bytesUp === undefined) {
    report({
      type: 'note',
      text: `No ${REQUEST_BYTES_HEADER} header: bytes up not measured.`,
      at: deps.now(),
    });
    report({ type: 'wire', delta: { unmeasuredUp: 1 }, at: deps.now() });
  } else {
    report({ type: 'wire', delta: { bytesUp }, at: deps.now() });
  }
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    failed(error);
    throw error;
  }
  const receivedAt = deps.now();
  report({ type: 'ended', id, outcome: 'answered', status: response.status, at: receivedAt });
  const measured = watch.entry(RESOURCE_ENTRY_WAIT_MS).then((entry) => {
    if ((queuedMs(entry) ?? 0) > QUEUED_NOTE_MS) report({ type: 'note', text: QUEUED_NOTE, at: deps.now() });
    const bytesDown = answerBytesDown(response, entry);
    if (bytesDown === undefined) {
      report({
        type: 'note',
        text: 'Resource Timing gave no transfer size for an answer: bytes down not measured.',
        at: deps.now(),
      });
      report({ type: 'wire', delta: { unmeasuredDown: 1, ...connectionDelta(entry) }, at: deps.now() });
    } else {
      report({ type: 'wire', delta: { bytesDown, ...connectionDelta(entry) }, at: deps.now() });
    }
  });
  return { response, body, receivedAt, measured };
}

/**
 * An answer's head as the server wrote it, bytes: the status line, one line per header, and the blank
 * line, rebuilt from what fetch shows — every header of a same-origin answer except Set-Cookie, which
 * this server never sends. Header names differ only in case from the wire, which costs no bytes.
 */
export function responseHeadBytes(response: Pick<Response, 'status' | 'statusText' | 'headers'>): number {
  let bytes = utf8Bytes(`HTTP/1.1 ${response.status} ${response.statusText}\r\n`) + 2;
  response.headers.forEach((value, name) => {
    bytes += utf8Bytes(`${name}: ${value}\r\n`);
  });
  return bytes;
}

/**
 * An answer's bytes down as they crossed the wire: its head (rebuilt above) and its body as encoded
 * (Resource Timing's `encodedBodySize`; these answers carry a Content-Length, never chunks). Not
 * `transferSize`: browsers report that as encodedBodySize + 300, a fixed stand-in for the head
 * (Resource Timing Level 2, "transfer size"), which is a model, not a measurement. Undefined when
 * no timing entry came.
 */
export function answerBytesDown(
  response: Pick<Response, 'status' | 'statusText' | 'headers'>,
  entry: ResourceEntryLike | undefined,
): number | undefined {
  if (!entry) return undefined;
  return responseHeadBytes(response) + (entry.encodedBodySize ?? 0);
}

/** Turns a non-2xx answer into a lane error; a 504 SYNC_TIMEOUT carries the task id and where it lives. */
export function errorFromAnswer(status: number, json: unknown, locationHeader: string | null): LaneError {
  const envelope = ErrorEnvelope.safeParse(json);
  if (!envelope.success) return badResponse(status);
  const { code, message, details } = envelope.data.error;
  const error: LaneError = { code, message, status, fromServer: true };
  if (code === 'SYNC_TIMEOUT' && status === ERROR_STATUS.SYNC_TIMEOUT) {
    const sync = SyncTimeoutDetails.safeParse(details);
    if (sync.success) error.taskId = sync.data.taskId;
    const location = locationHeader ?? (sync.success ? sync.data.location : undefined);
    if (location) error.location = location;
  }
  // A server going away mid-call (a restart) answers a blocking call 503 with where its task lives.
  if (code === 'UNAVAILABLE' && status === ERROR_STATUS.UNAVAILABLE && locationHeader) {
    const moved = SyncTimeoutDetails.pick({ taskId: true }).safeParse(details);
    if (moved.success) error.taskId = moved.data.taskId;
    error.location = locationHeader;
  }
  return error;
}

export function badResponse(status: number): LaneError {
  return {
    code: 'BAD_RESPONSE',
    message: `The server answered ${status} with a body that does not match the protocol.`,
    status,
    fromServer: true,
  };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
