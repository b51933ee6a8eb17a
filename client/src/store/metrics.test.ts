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
  it('marks the lowest value on each metric', () => {
    const best = bestLanes([
      measured('request-response', 'succeeded', 2_100, 900),
      measured('websocket', 'succeeded', 2_040, 1_400),
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

  it('leaves out lanes that did not run the task to its end', () => {
    const best = bestLanes([
      measured('request-response', 'cancelled', 10),
      measured('websocket', 'succeeded', 2_040),
    ]);
    expect(best.totalPerceived.size).toBe(0);
  });
});
