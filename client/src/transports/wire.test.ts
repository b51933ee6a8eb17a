import { describe, expect, it } from 'vitest';
import {
  addWire,
  connectionDelta,
  frameWireBytes,
  parseRequestBytes,
  payloadBytes,
  pickResourceEntry,
  queuedMs,
  SSE_PREAMBLE_BYTES,
  sseMessageBytes,
  webSocketCompressionNote,
} from './wire.ts';

describe('payloadBytes', () => {
  it('counts text as UTF-8 and binary by its byte length', () => {
    expect(payloadBytes('42["task:event",{}]')).toBe(19);
    expect(payloadBytes('→')).toBe(3);
    expect(payloadBytes(new ArrayBuffer(7))).toBe(7);
    expect(payloadBytes(new Uint8Array(new ArrayBuffer(16), 4, 5))).toBe(5);
    expect(payloadBytes(new Blob(['abcd']))).toBe(4);
  });
});

describe('frameWireBytes', () => {
  it('adds the RFC 6455 header, extended length and the client mask to the payload', () => {
    // engine.io pong "3": 1 byte payload + 2 header + 4 mask from the client.
    expect(frameWireBytes('3', true)).toBe(7);
    // Server ping "2": unmasked.
    expect(frameWireBytes('2', false)).toBe(3);
    // 200-byte message from the server: 16-bit extended length.
    expect(frameWireBytes('x'.repeat(200), false)).toBe(204);
    // 70 000 bytes from the client: 64-bit extended length and mask.
    expect(frameWireBytes(new ArrayBuffer(70_000), true)).toBe(70_014);
  });
});

describe('webSocketCompressionNote', () => {
  it('says nothing without an extension and warns when one was negotiated', () => {
    expect(webSocketCompressionNote('')).toBeUndefined();
    expect(webSocketCompressionNote('permessage-deflate')).toMatch(/uncompressed/);
  });
});

describe('parseRequestBytes', () => {
  it('reads a non-negative integer header and refuses anything else', () => {
    expect(parseRequestBytes('312')).toBe(312);
    expect(parseRequestBytes(' 0 ')).toBe(0);
    expect(parseRequestBytes(null)).toBeUndefined();
    expect(parseRequestBytes('')).toBeUndefined();
    expect(parseRequestBytes('-4')).toBeUndefined();
    expect(parseRequestBytes('12.5')).toBeUndefined();
    expect(parseRequestBytes('1e3')).toBeUndefined();
  });
});

describe('pickResourceEntry', () => {
  const url = 'http://localhost/api/tasks/run';
  const entry = (name: string, startTime: number, transferSize = 500) => ({ name, startTime, transferSize });

  it('picks the earliest entry for the URL that started no earlier than the fetch', () => {
    const old = entry(url, 10);
    const mine = entry(url, 100.2);
    const later = entry(url, 250);
    const other = entry('http://localhost/api/time', 101);
    expect(pickResourceEntry([later, old, other, mine], url, 100)).toBe(mine);
  });

  it('tolerates a start coarsened a fraction of a millisecond before the fetch call', () => {
    const mine = entry(url, 99.9);
    expect(pickResourceEntry([mine], url, 100)).toBe(mine);
  });

  it('skips entries another request already claimed', () => {
    const first = entry(url, 100);
    const second = entry(url, 120);
    expect(pickResourceEntry([first, second], url, 100, new Set([first]))).toBe(second);
  });

  it('finds nothing when no entry matches', () => {
    expect(pickResourceEntry([entry(url, 10)], url, 100)).toBeUndefined();
  });
});

describe('addWire', () => {
  it('adds requests and bytes, and keeps bytes unmeasured until a delta measures them', () => {
    let counts = addWire({ requests: 0 }, { requests: 1 });
    expect(counts).toEqual({ requests: 1 });
    counts = addWire(counts, { bytesUp: 300 });
    counts = addWire(counts, { bytesDown: 40 });
    counts = addWire(counts, { bytesDown: 60, bytesUp: 8 });
    expect(counts).toEqual({ requests: 1, bytesUp: 308, bytesDown: 100 });
  });

  it('counts exchanges left unmeasured, and drops the count once a later measurement replaces it', () => {
    let counts = addWire({ requests: 0 }, { requests: 1, unmeasuredUp: 1, unmeasuredDown: 1, bytesDown: 50 });
    expect(counts).toEqual({ requests: 1, bytesDown: 50, unmeasuredUp: 1, unmeasuredDown: 1 });
    counts = addWire(counts, { bytesDown: 250, unmeasuredDown: -1 });
    expect(counts).toEqual({ requests: 1, bytesDown: 300, unmeasuredUp: 1 });
  });
});

describe('sseMessageBytes', () => {
  it('rebuilds the server’s framing: event, id and data lines, then the blank line', () => {
    // "event:message\nid:7\ndata:{\"n\":1}\n\n", as better-sse writes it (checked in Chromium: 3
    // such messages after "retry:1000\n\n" made an encodedBodySize of 111).
    expect(sseMessageBytes({ data: '{"n":1}', lastEventId: '7' })).toBe(14 + 5 + 13 + 1);
    expect(SSE_PREAMBLE_BYTES).toBe(12);
    expect(SSE_PREAMBLE_BYTES + 3 * sseMessageBytes({ data: '{"n":1}', lastEventId: '1' })).toBe(111);
  });

  it('writes one data line per line of data, and no id line without an id', () => {
    expect(sseMessageBytes({ data: 'a\nb', lastEventId: '' })).toBe(14 + 7 + 7 + 1);
    expect(sseMessageBytes({ data: '→', lastEventId: '1', type: 'x' })).toBe(8 + 5 + 9 + 1);
  });
});

describe('queuedMs', () => {
  it('is the wait before sending, with DNS and connecting left out', () => {
    const entry = {
      name: 'u',
      startTime: 100,
      transferSize: 1,
      domainLookupStart: 1_900,
      domainLookupEnd: 1_901,
      connectStart: 1_901,
      connectEnd: 1_903,
      requestStart: 1_903,
    };
    expect(queuedMs(entry)).toBe(1_800);
  });

  it('is unknown when the entry hides its phases (a cross-origin answer reads 0)', () => {
    expect(queuedMs({ name: 'u', startTime: 100, transferSize: 0, requestStart: 0 })).toBeUndefined();
    expect(queuedMs(undefined)).toBeUndefined();
  });
});

describe('connectionDelta', () => {
  it('counts a connection made for the request, none for a reused one, and says when it cannot tell', () => {
    const entry = { name: 'u', startTime: 100, transferSize: 300 };
    expect(connectionDelta({ ...entry, connectStart: 100.2, connectEnd: 100.6 })).toEqual({ connections: 1 });
    // Reused from the pool: both read domainLookupEnd (Resource Timing §4.3).
    expect(connectionDelta({ ...entry, connectStart: 100.1, connectEnd: 100.1 })).toEqual({ connections: 0 });
    // A cross-origin answer without Timing-Allow-Origin zeroes the phases; no entry at all says nothing.
    expect(connectionDelta({ ...entry, connectStart: 0, connectEnd: 0 })).toEqual({
      unmeasuredConnections: 1,
    });
    expect(connectionDelta(undefined)).toEqual({ unmeasuredConnections: 1 });
  });
});
