import type { Fault } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { faultHitsLane } from './lane-faults.ts';

const runId = 'r1';

describe('faultHitsLane: which cards a fault is marked on', () => {
  it('a drop hits only the lane whose connections it drops', () => {
    const fault: Fault = { kind: 'drop-connections', runId, lane: 'sse' };
    expect(faultHitsLane(fault, 'sse', 'sse')).toBe(true);
    expect(faultHitsLane(fault, 'websocket', 'sse')).toBe(false);
  });

  it('a restart and a stalled downstream hit every lane', () => {
    expect(faultHitsLane({ kind: 'restart-server', runId }, 'short-polling', undefined)).toBe(true);
    expect(faultHitsLane({ kind: 'slow-downstream', runId, stallMs: 1_000 }, 'hybrid', undefined)).toBe(true);
  });

  it("the receiver's faults hit the webhook alone", () => {
    const fault: Fault = { kind: 'receiver', runId, mode: 'fail-500', count: 3 };
    expect(faultHitsLane(fault, 'webhook', undefined)).toBe(true);
    expect(faultHitsLane(fault, 'sse', undefined)).toBe(false);
  });

  it('a buffering proxy hits the event streams: the hybrid only when it pushes by SSE', () => {
    const fault: Fault = { kind: 'buffer-streams', runId, on: true };
    expect(faultHitsLane(fault, 'sse', 'long-polling')).toBe(true);
    expect(faultHitsLane(fault, 'webhook', 'long-polling')).toBe(true);
    expect(faultHitsLane(fault, 'hybrid', 'sse')).toBe(true);
    expect(faultHitsLane(fault, 'hybrid', 'long-polling')).toBe(false);
    expect(faultHitsLane(fault, 'websocket', 'sse')).toBe(false);
  });
});
