import { type Distribution, distribution } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { boxStats, figuresByLane, niceAxis, reporters, sharedAxis } from './aggregate-view.ts';

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

describe('niceAxis', () => {
  it('rounds outward to steps of 1, 2, 2.5 or 5 × 10^k, about four of them', () => {
    expect(niceAxis(1_003, 1_390)).toEqual({
      min: 1_000,
      max: 1_400,
      ticks: [1_000, 1_100, 1_200, 1_300, 1_400],
    });
    expect(niceAxis(0, 3_190)).toEqual({ min: 0, max: 4_000, ticks: [0, 1_000, 2_000, 3_000, 4_000] });
    expect(niceAxis(-12, 57)).toEqual({ min: -20, max: 60, ticks: [-20, 0, 20, 40, 60] });
  });

  it('gives one value room on both sides', () => {
    const axis = niceAxis(1_234.5, 1_234.5);
    expect(axis.min).toBeLessThan(1_234.5);
    expect(axis.max).toBeGreaterThan(1_234.5);
  });

  it('has a fallback for nothing to show', () => {
    expect(niceAxis(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)).toEqual({
      min: 0,
      max: 1,
      ticks: [0, 1],
    });
  });
});

describe('sharedAxis', () => {
  it('spans every lane’s whiskers and leaves the outliers beyond it', () => {
    const lanes = [
      {
        lane: 'sse' as const,
        succeeded: 8,
        failed: 0,
        metrics: { totalPerceivedMs: dist([10, 11, 12, 12, 13, 14, 40, 11]) },
      },
      { lane: 'websocket' as const, succeeded: 2, failed: 0, metrics: { totalPerceivedMs: dist([9, 16]) } },
    ];
    const axis = sharedAxis({ raceId: 'race-000001', expected: 8, reported: 8, lanes }, 'totalPerceivedMs');
    expect(axis.min).toBeLessThanOrEqual(9);
    expect(axis.max).toBeGreaterThanOrEqual(16);
    expect(axis.max).toBeLessThan(40);
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
