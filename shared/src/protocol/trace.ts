import { z } from 'zod';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): one correlation id per task, its
 * `trace-id`, so that a task can be followed from the page's button to the webhook receiver. The
 * page's request that creates a task may carry a `traceparent`; the server takes its trace-id for the
 * task (else makes one), keeps it in the task's state, writes it in its log lines about the task and
 * sends it in the `traceparent` of each webhook delivery, with a new parent-id per attempt.
 */

/** `traceparent`'s header name (lower case, as Node and the fetch API give header names). */
export const TRACEPARENT_HEADER = 'traceparent';

/** 16 bytes as 32 lower-case hex digits, not all zero (an all-zero trace-id is invalid). */
export const TraceId = z
  .string()
  .regex(/^[0-9a-f]{32}$/, 'a trace-id is 32 lower-case hex digits')
  .refine((id) => !/^0+$/.test(id), 'an all-zero trace-id is invalid');
export type TraceId = z.infer<typeof TraceId>;

/** Version 00: `00-<trace-id>-<parent-id>-<flags>`; the parent-id 8 bytes, not all zero. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  parentId: string;
  sampled: boolean;
}

/**
 * A `traceparent` header's parts, or undefined when it is absent or not a valid version-00 value
 * (the spec: a receiver that cannot parse it starts a new trace; it is never an error).
 */
export function parseTraceparent(value: string | readonly string[] | undefined): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, traceId = '', parentId = '', flags = '00'] = match;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined;
  return { traceId, parentId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** The `traceparent` of a request made as span `spanId` of trace `traceId`. */
export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** Random bytes drawn a pool at a time: one `getRandomValues` call costs ≈ 20 µs in Node (Web
 *  Crypto's checks), which made a trace-id per task 2 % of a hall's start burst (docs/benchmarks.md). */
const POOL_BYTES = 4_096;
let pool = new Uint8Array(0);
let poolOffset = 0;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      // Web Crypto, in browsers (secure context or not) and in Node (globalThis.crypto since Node 19).
      pool = crypto.getRandomValues(new Uint8Array(POOL_BYTES));
      poolOffset = 0;
    }
    let hex = '';
    let allZero = true;
    for (let index = poolOffset; index < poolOffset + bytes; index++) {
      const byte = pool[index] ?? 0;
      if (byte !== 0) allZero = false;
      hex += HEX[byte];
    }
    poolOffset += bytes;
    // An all-zero id is invalid in W3C Trace Context: draw again.
    if (!allZero) return hex;
  }
}

/** A new trace-id (16 random bytes). */
export const newTraceId = (): string => randomHex(16);
/** A new span (parent) id (8 random bytes). */
export const newSpanId = (): string => randomHex(8);
