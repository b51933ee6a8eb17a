import { describe, expect, it } from 'vitest';
import { RaceAggregate } from '../protocol/room.ts';
import { aggregateRace, distribution, nearestRank } from './aggregate.ts';

describe('nearestRank', () => {
  it('picks the smallest value with p % at or below it (hand-worked)', () => {
    const sorted = [15, 20, 35, 40, 50];
    // 5 values: p30 → rank ceil(1.5) = 2 → 20; p40 → rank 2 → 20; p50 → rank 3 → 35; p100 → 50.
    expect(nearestRank(sorted, 30)).toBe(20);
    expect(nearestRank(sorted, 40)).toBe(20);
    expect(nearestRank(sorted, 50)).toBe(35);
    expect(nearestRank(sorted, 100)).toBe(50);
    expect(nearestRank(sorted, 0)).toBe(15);
    expect(nearestRank([], 50)).toBeNaN();
  });
});

describe('distribution', () => {
  it('counts, orders, and flags Tukey outliers', () => {
    const entries = [10, 11, 12, 13, 14, 15, 16, 17, 18, 200].map((value, k) => ({
      participantId: `p${String(k).padStart(5, '0')}`,
      value,
    }));
    const d = distribution(entries.reverse());
    expect(d.count).toBe(10);
    expect(d.values.map((v) => v.value)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 200]);
    // q1 = rank 3 = 12, q3 = rank 8 = 17, fence 7.5: 200 > 24.5 is an outlier, 10 is not.
    expect(d.outliers).toEqual(['p00009']);
    expect(d.median).toBe(14);
    expect(d.p95).toBe(200);
    expect(d.min).toBe(10);
    expect(d.max).toBe(200);
    expect(d.mean).toBeCloseTo(32.6, 10);
  });
});

describe('aggregateRace', () => {
  it('builds each lane from exactly what was reported, in page order', () => {
    const results = new Map([
      [
        'alice1',
        [
          { lane: 'websocket' as const, status: 'succeeded' as const, totalPerceivedMs: 1030, requests: 2 },
          {
            lane: 'short-polling' as const,
            status: 'succeeded' as const,
            totalPerceivedMs: 1300,
            requests: 4,
          },
        ],
      ],
      ['bob222', [{ lane: 'websocket' as const, status: 'failed' as const, requests: 1 }]],
    ]);
    const aggregate = aggregateRace('race01', 3, results);
    expect(RaceAggregate.parse(aggregate)).toEqual(aggregate);
    expect(aggregate.reported).toBe(2);
    expect(aggregate.expected).toBe(3);
    expect(aggregate.lanes.map((l) => l.lane)).toEqual(['short-polling', 'websocket']);
    const ws = aggregate.lanes[1];
    expect(ws?.succeeded).toBe(1);
    expect(ws?.failed).toBe(1);
    expect(ws?.metrics.totalPerceivedMs?.values).toEqual([{ participantId: 'alice1', value: 1030 }]);
    expect(ws?.metrics.requests?.values.map((v) => v.value)).toEqual([1, 2]);
    expect(ws?.metrics.completionLagMs).toBeUndefined();
  });
});
