import type { LaneId } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { runningLane } from './lane-reducer.ts';
import { bestLanes, type LaneMeasurement } from './metrics.ts';
import type { LaneStatus } from './types.ts';

function measured(
  id: LaneId,
  status: LaneStatus,
  totalPerceivedMs: number,
  bytesDown?: number,
): LaneMeasurement {
  const lane = { ...runningLane(), status, wire: { requests: 1, bytesDown } };
  return { id, lane, metrics: { totalPerceivedMs, firstFeedbackMs: 10 } };
}

describe('bestLanes', () => {
  it('marks the lowest value on each metric when it leads by more than 5 %', () => {
    const best = bestLanes([
      measured('request-response', 'succeeded', 2_100, 900),
      measured('websocket', 'succeeded', 1_900, 1_400),
    ]);
    expect([...best.totalPerceived]).toEqual(['websocket']);
    expect([...best.bytesDown]).toEqual(['request-response']);
  });

  it('marks nothing where every lane ties or only one lane was measured', () => {
    const best = bestLanes([
      measured('request-response', 'succeeded', 2_100),
      measured('websocket', 'succeeded', 2_040, 1_400),
    ]);
    expect(best.firstFeedback.size).toBe(0);
    expect(best.requests.size).toBe(0);
    expect(best.bytesDown.size).toBe(0);
  });

  it('marks no time inside 5 % or inside the clock’s stated uncertainty (issue 12)', () => {
    const close = bestLanes([
      measured('request-response', 'succeeded', 20_095),
      measured('websocket', 'succeeded', 20_052),
    ]);
    expect(close.totalPerceived.size).toBe(0);
    const apart = [measured('request-response', 'succeeded', 300), measured('websocket', 'succeeded', 200)];
    expect([...bestLanes(apart, 20).totalPerceived]).toEqual(['websocket']);
    // 100 ms apart, but the clock is known to ± 120 ms only: no mark.
    expect(bestLanes(apart, 120).totalPerceived.size).toBe(0);
    // A count is not a time: the clock's uncertainty does not blur 900 B against 1 400 B.
    expect(
      bestLanes([measured('sse', 'succeeded', 1, 900), measured('websocket', 'succeeded', 1, 1_400)], 5_000)
        .bytesDown.size,
    ).toBe(1);
  });

  it('leaves out lanes that did not run the task to its end', () => {
    const best = bestLanes([
      measured('request-response', 'cancelled', 10),
      measured('websocket', 'succeeded', 2_040),
    ]);
    expect(best.totalPerceived.size).toBe(0);
  });
});
