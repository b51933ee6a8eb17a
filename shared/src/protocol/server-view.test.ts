import { describe, expect, it } from 'vitest';
import { LANE_IDS } from './lanes.ts';
import { SERVER_VIEW_QUANTILES, ServerView, ServerViewLaneKey } from './server-view.ts';
import { isStartRequest, StartRequest } from './socket.ts';
import { DeliveryAttempt } from './webhooks.ts';

describe('ServerView', () => {
  it('counts webhook attempts under exactly the delivery log’s outcomes', () => {
    const keys = Object.keys(ServerView.shape.webhooks.shape.attempts.shape).sort();
    expect(keys).toEqual([...DeliveryAttempt.shape.outcome.options].sort());
  });

  it('names a task’s lane by the shared lane ids, or `other`, and nothing else', () => {
    for (const lane of [...LANE_IDS, 'other']) expect(ServerViewLaneKey.safeParse(lane).success).toBe(true);
    expect(ServerViewLaneKey.safeParse('carrier-pigeon').success).toBe(false);
  });

  it('gives the quantiles in rising order, ending with the largest', () => {
    expect([...SERVER_VIEW_QUANTILES].sort((a, b) => a - b)).toEqual([...SERVER_VIEW_QUANTILES]);
    expect(SERVER_VIEW_QUANTILES.at(-1)).toBe(1);
  });
});

describe('task:start’s payload', () => {
  it('is the wrapped form when it names a spec, whatever else it holds', () => {
    expect(isStartRequest({ spec: { durationMs: 0, steps: 1 } })).toBe(true);
    expect(isStartRequest({ durationMs: 0, steps: 1 })).toBe(false);
    expect(isStartRequest(null)).toBe(false);
    expect(isStartRequest('spec')).toBe(false);
  });

  it('takes a spec and an optional traceparent, and nothing more', () => {
    const spec = { durationMs: 0, steps: 1 };
    expect(StartRequest.safeParse({ spec }).success).toBe(true);
    expect(
      StartRequest.safeParse({ spec, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })
        .success,
    ).toBe(true);
    expect(StartRequest.safeParse({ spec, traceId: 'x' }).success).toBe(false);
    expect(StartRequest.safeParse({ spec, traceparent: 'x'.repeat(257) }).success).toBe(false);
    expect(StartRequest.safeParse({ spec: { durationMs: -1, steps: 1 } }).error?.issues[0]?.path).toEqual([
      'spec',
      'durationMs',
    ]);
  });
});
