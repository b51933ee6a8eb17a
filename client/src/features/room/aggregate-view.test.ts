import { type Distribution, distribution } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { boxStats, figuresByLane, niceCeiling, reporters } from './aggregate-view.ts';

const dist = (values: number[]): Distribution =>
  distribution(values.map((value, i) => ({ participantId: `person-${i}`, value })));

describe('boxStats', () => {
  it('takes quartiles by nearest rank and stops the whiskers at the last value inside the fences', () => {
    // q1 = 11, q3 = 13, fence 3: 40 is an outlier, 10 and 14 are not.
    const stats = boxStats(dist([10, 11, 12, 12, 13, 14, 40, 11]));
    expect(stats).toMatchObject({ q1: 11, median: 12, q3: 13, low: 10, high: 14 });
    expect(stats?.values.filter((v) => v.outlier).map((v) => v.value)).toEqual([40]);
  });

  it('draws one value as a box of no width', () => {
    expect(boxStats(dist([1_234.5]))).toMatchObject({
      q1: 1_234.5,
      q3: 1_234.5,
      low: 1_234.5,
      high: 1_234.5,
    });
  });

  it('has nothing to draw for no values', () => {
    expect(boxStats(dist([]))).toBeUndefined();
  });
});

describe('niceCeiling', () => {
  it.each([
    [0, 1],
    [0.7, 0.8],
    [1, 1],
    [1_040.5, 1_500],
    [1_276, 1_500],
    [2_001, 2_500],
    [5_001, 6_000],
    [8_001, 10_000],
    [98, 100],
  ])('%d → %d', (value, expected) => {
    expect(niceCeiling(value)).toBe(expected);
  });
});

describe('figuresByLane and reporters', () => {
  it('index every reported figure by lane and participant, and list everyone who reported once', () => {
    const aggregate = {
      raceId: 'race-000001',
      expected: 2,
      reported: 2,
      lanes: [
        { lane: 'sse' as const, succeeded: 2, failed: 0, metrics: { totalPerceivedMs: dist([5, 7]) } },
        { lane: 'websocket' as const, succeeded: 1, failed: 1, metrics: { totalPerceivedMs: dist([3]) } },
      ],
    };
    const table = figuresByLane(aggregate, 'totalPerceivedMs');
    expect(table.get('sse')?.get('person-1')).toBe(7);
    expect(table.get('websocket')?.get('person-0')).toBe(3);
    expect(table.get('websocket')?.get('person-1')).toBeUndefined();
    expect(reporters(aggregate)).toEqual(['person-0', 'person-1']);
  });
});
