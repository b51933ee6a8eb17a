import { utf8Bytes, websocketFrameBytes } from '@transport-lab/shared';

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

/**
 * Bytes received for one HTTP exchange: `transferSize` is response headers plus the body as encoded on
 * the wire. It reads 0 for a cache hit or a cross-origin answer without `Timing-Allow-Origin`: that is
 * "not measured", not zero bytes.
 */
export function transferBytes(entry: ResourceEntryLike | undefined): number | undefined {
  if (!entry || entry.transferSize <= 0) return undefined;
  return entry.transferSize;
}

export interface WireCounts {
  requests: number;
  /** Undefined until something measured it. */
  bytesUp?: number;
  bytesDown?: number;
}

/** Adds a delta to running counts; a byte total stays unmeasured until a delta measures it. */
export function addWire(
  counts: WireCounts,
  delta: { requests?: number; bytesUp?: number; bytesDown?: number },
) {
  const next: WireCounts = { requests: counts.requests + (delta.requests ?? 0) };
  const up = sum(counts.bytesUp, delta.bytesUp);
  const down = sum(counts.bytesDown, delta.bytesDown);
  if (up !== undefined) next.bytesUp = up;
  if (down !== undefined) next.bytesDown = down;
  return next;
}

function sum(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a + b;
}
