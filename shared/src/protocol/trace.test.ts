import { describe, expect, it } from 'vitest';
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent, TraceId } from './trace.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('W3C traceparent', () => {
  it("reads the spec's example: trace-id, parent-id and the sampled flag", () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({
      traceId: TRACE,
      parentId: PARENT,
      sampled: true,
    });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.sampled).toBe(false);
  });

  it('ignores what is not a valid version-00 value, as a receiver must (a new trace starts)', () => {
    for (const bad of [
      undefined,
      '',
      `01-${TRACE}-${PARENT}-01`,
      `00-${TRACE.toUpperCase()}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE}-${PARENT}`,
      `00-${TRACE}-${PARENT}-01-extra`,
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
    expect(parseTraceparent([`00-${TRACE}-${PARENT}-01`])).toBeUndefined();
  });

  it('writes what it reads back', () => {
    const traceId = newTraceId();
    const spanId = newSpanId();
    expect(TraceId.safeParse(traceId).success).toBe(true);
    expect(spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(parseTraceparent(formatTraceparent(traceId, spanId))).toEqual({
      traceId,
      parentId: spanId,
      sampled: true,
    });
    expect(newTraceId()).not.toBe(traceId);
  });

  it('refuses an all-zero or malformed trace-id in a state', () => {
    expect(TraceId.safeParse('0'.repeat(32)).success).toBe(false);
    expect(TraceId.safeParse(`${TRACE}0`).success).toBe(false);
  });

  it('draws fresh ids across refills of its pool of random bytes (4 KiB: 256 trace ids)', () => {
    const ids = Array.from({ length: 1_000 }, () => newTraceId());
    for (const id of ids) expect(TraceId.safeParse(id).success).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const spans = Array.from({ length: 1_000 }, () => newSpanId());
    for (const span of spans) expect(span).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
    expect(new Set(spans).size).toBe(spans.length);
  });
});
