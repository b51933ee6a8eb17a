import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, ErrorEnvelope } from './errors.ts';
import { isTerminalEvent, TaskEvent } from './events.ts';
import { EventsQuery } from './http.ts';
import { LANE_IDS, LANES } from './lanes.ts';
import { LaneResult } from './room.ts';
import { SubscribeRequest } from './socket.ts';
import { TaskSpec } from './task.ts';

describe('TaskSpec', () => {
  it('accepts the bounds given in the architecture', () => {
    expect(TaskSpec.safeParse({ durationMs: 0, steps: 1 }).success).toBe(true);
    expect(
      TaskSpec.safeParse({ durationMs: 120_000, steps: 1_000, failAtStep: 1_000, resultBytes: 65_536 })
        .success,
    ).toBe(true);
  });

  it.each([
    [{ durationMs: -1, steps: 1 }, 'durationMs'],
    [{ durationMs: 120_001, steps: 1 }, 'durationMs'],
    [{ durationMs: 1.5, steps: 1 }, 'durationMs'],
    [{ durationMs: 10, steps: 0 }, 'steps'],
    [{ durationMs: 10, steps: 1_001 }, 'steps'],
    [{ durationMs: 10, steps: 5, failAtStep: 6 }, 'failAtStep'],
    [{ durationMs: 10, steps: 5, failAtStep: 0 }, 'failAtStep'],
    [{ durationMs: 10, steps: 5, resultBytes: 65_537 }, 'resultBytes'],
    [{ durationMs: '10', steps: 5 }, 'durationMs'],
  ])('rejects %j at %s', (input, field) => {
    const parsed = TaskSpec.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('rejects unknown fields instead of ignoring them', () => {
    expect(TaskSpec.safeParse({ durationMs: 10, steps: 1, stepz: 3 }).success).toBe(false);
  });
});

describe('TaskEvent', () => {
  it('discriminates on type and tells terminal events apart', () => {
    const event = TaskEvent.parse({
      type: 'succeeded',
      taskId: 'abcdefgh12',
      seq: 9,
      at: 1.5,
      result: { steps: 3, payload: 'xx' },
    });
    expect(isTerminalEvent(event)).toBe(true);
    const progress = TaskEvent.parse({
      type: 'progress',
      taskId: 'abcdefgh12',
      seq: 3,
      at: 2,
      step: 1,
      steps: 3,
      percent: 33.3,
    });
    expect(isTerminalEvent(progress)).toBe(false);
  });

  it('rejects a seq below 1', () => {
    expect(TaskEvent.safeParse({ type: 'started', taskId: 'abcdefgh12', seq: 0, at: 1 }).success).toBe(false);
  });
});

describe('the rest of the protocol', () => {
  it('gives every error code a 4xx or 5xx status', () => {
    for (const status of Object.values(ERROR_STATUS)) expect(status).toBeGreaterThanOrEqual(400);
    expect(ErrorEnvelope.safeParse({ error: { code: 'NOT_FOUND', message: 'no' } }).success).toBe(true);
  });

  it('caps a long poll at 30 000 ms and coerces query strings', () => {
    expect(EventsQuery.parse({ after: '4', waitMs: '100' })).toEqual({ after: 4, waitMs: 100 });
    expect(EventsQuery.safeParse({ waitMs: '30001' }).success).toBe(false);
  });

  it('refuses a subscribe without a well-formed task id', () => {
    expect(SubscribeRequest.safeParse({ taskId: '../x', afterSeq: 0 }).success).toBe(false);
  });

  it('has a distinct colour, mark and spoken name for each lane', () => {
    for (const field of ['color', 'mark', 'said'] as const) {
      expect(new Set(LANE_IDS.map((id) => LANES[id][field])).size, field).toBe(LANE_IDS.length);
    }
  });
});

describe('a room result', () => {
  const lane = { lane: 'websocket', status: 'succeeded' } as const;
  it('takes figures a race can produce', () => {
    expect(
      LaneResult.safeParse({
        ...lane,
        firstFeedbackMs: 12.5,
        totalPerceivedMs: 120_400,
        completionLagMs: -3.2,
        requests: 41,
        bytesUp: 2_048,
        bytesDown: 65_536 * 3,
      }).success,
    ).toBe(true);
  });

  it('refuses figures no race produces, so that one phone cannot skew everyone’s aggregate', () => {
    for (const bad of [
      { totalPerceivedMs: 1e300 },
      { firstFeedbackMs: 3_600_001 },
      { completionLagMs: -1e9 },
      { requests: 1e7 },
      { bytesDown: 2e9 },
      { serverLatenessMs: Number.POSITIVE_INFINITY },
    ]) {
      expect(LaneResult.safeParse({ ...lane, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
