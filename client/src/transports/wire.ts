import { utf8Bytes, websocketFrameBytes } from '@transport-lab/shared';
import type { WireDelta } from './types.ts';

/** What `WebSocket.send` accepts and what a `message` event's `data` can be. */
export type FrameData = string | ArrayBuffer | ArrayBufferView | Blob;

/** Payload length of one WebSocket message in bytes: text frames travel as UTF-8 (RFC 6455 §5.6). */
export function payloadBytes(data: FrameData): number {
  if (typeof data === 'string') return utf8Bytes(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return data.size;
}

/**
 * Bytes one message took on the wire: payload plus RFC 6455 framing (header, extended length, and the
 * client's masking key). One message is one frame here: neither the browser nor the `ws` server
 * fragments a message sent whole, and socket.io's server leaves permessage-deflate off by default
 * (when a server turns it on, `webSocketCompressionNote` says so on the card).
 */
export function frameWireBytes(data: FrameData, fromClient: boolean): number {
  return websocketFrameBytes(payloadBytes(data), fromClient);
}

/** A negotiated extension changes frame sizes (compression): the count is then of uncompressed frames. */
export function webSocketCompressionNote(extensions: string): string | undefined {
  return extensions.trim() === ''
    ? undefined
    : `WebSocket extension "${extensions}" negotiated: byte counts are of uncompressed frames.`;
}

/**
 * The `x-request-bytes` answer header: the request's size as the server read it off the wire
 * (request line + headers + body). Anything but a non-negative integer is not a measurement.
 */
export function parseRequestBytes(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

/** The part of a `PerformanceResourceTiming` entry that finding one and reading its size need. */
export interface ResourceEntryLike {
  name: string;
  startTime: number;
  transferSize: number;
  /** The body as it came, before content decoding; a stream the page closed may read 0 here. */
  encodedBodySize?: number;
  /** Phases of the request on the same clock as `startTime` (0 when a cross-origin answer hides them). */
  domainLookupStart?: number;
  domainLookupEnd?: number;
  connectStart?: number;
  connectEnd?: number;
  requestStart?: number;
}

/**
 * Whether an exchange opened a new connection, from its Resource Timing entry: a connection reused
 * from the pool reads `connectStart === connectEnd` (Resource Timing §4.3: both equal
 * `domainLookupEnd`), a new one spends time connecting. Undefined when the entry shows no phases (none
 * came, or a cross-origin answer without `Timing-Allow-Origin` zeroes them).
 */
export function openedConnection(entry: ResourceEntryLike | undefined): boolean | undefined {
  if (!entry?.connectStart || entry.connectEnd === undefined) return undefined;
  return entry.connectEnd > entry.connectStart;
}

/** The wire delta of one exchange's connection: one new, none, or not measured. */
export function connectionDelta(entry: ResourceEntryLike | undefined): {
  connections?: number;
  unmeasuredConnections?: number;
} {
  const opened = openedConnection(entry);
  if (opened === undefined) return { unmeasuredConnections: 1 };
  return { connections: opened ? 1 : 0 };
}

/**
 * How long a request waited in the browser before it was sent, DNS and connecting left out: over
 * HTTP/1.1 a browser opens at most 6 connections per origin, and a request with none free queues.
 * Undefined when the entry does not show its phases.
 */
export function queuedMs(entry: ResourceEntryLike | undefined): number | undefined {
  if (!entry?.requestStart) return undefined;
  const dns = (entry.domainLookupEnd ?? 0) - (entry.domainLookupStart ?? 0);
  const connect = (entry.connectEnd ?? 0) - (entry.connectStart ?? 0);
  return Math.max(0, entry.requestStart - entry.startTime - dns - connect);
}

/**
 * Timers may be coarsened (Chromium: 100 µs, or 5 µs when cross-origin isolated), so an entry's
 * `startTime` can read a hair before the `performance.now()` taken just before `fetch()`.
 */
const START_TOLERANCE_MS = 1;

/**
 * The Resource Timing entry of one request: same absolute URL, started no earlier than the fetch was
 * called, not already claimed by another request, and of those the earliest.
 */
export function pickResourceEntry<E extends ResourceEntryLike>(
  entries: Iterable<E>,
  url: string,
  notBefore: number,
  claimed: { has(entry: E): boolean } = new Set<E>(),
): E | undefined {
  let found: E | undefined;
  for (const entry of entries) {
    if (entry.name !== url || claimed.has(entry)) continue;
    if (entry.startTime < notBefore - START_TOLERANCE_MS) continue;
    if (!found || entry.startTime < found.startTime) found = entry;
  }
  return found;
}

export interface WireCounts {
  requests: number;
  /** New connections seen (see `openedConnection`); undefined until something measured one. */
  connections?: number;
  /** Exchanges that could not show whether they opened a connection: above 0, `connections` is a lower bound. */
  unmeasuredConnections?: number;
  /** Undefined until something measured it. */
  bytesUp?: number;
  bytesDown?: number;
  /** Exchanges whose bytes up are missing from `bytesUp`: above 0, the total is a lower bound. */
  unmeasuredUp?: number;
  /** Exchanges whose bytes down are missing from `bytesDown` in whole or part. */
  unmeasuredDown?: number;
}

/** Adds a delta to running counts; a byte total stays unmeasured until a delta measures it. */
export function addWire(counts: WireCounts, delta: WireDelta) {
  const next: WireCounts = { requests: counts.requests + (delta.requests ?? 0) };
  const up = sum(counts.bytesUp, delta.bytesUp);
  const down = sum(counts.bytesDown, delta.bytesDown);
  const missingUp = sum(counts.unmeasuredUp, delta.unmeasuredUp);
  const missingDown = sum(counts.unmeasuredDown, delta.unmeasuredDown);
  if (up !== undefined) next.bytesUp = up;
  if (down !== undefined) next.bytesDown = down;
  if (missingUp) next.unmeasuredUp = missingUp;
  if (missingDown) next.unmeasuredDown = missingDown;
  const connections = sum(counts.connections, delta.connections);
  const missingConnections = sum(counts.unmeasuredConnections, delta.unmeasuredConnections);
  if (connections !== undefined) next.connections = connections;
  if (missingConnections) next.unmeasuredConnections = missingConnections;
  return next;
}

// The SSE framing arithmetic lives in shared, beside the server it mirrors; a server test checks it.
export { SSE_PREAMBLE_BYTES, sseMessageBytes } from '@transport-lab/shared';

function sum(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a + b;
}
