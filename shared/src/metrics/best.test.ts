import { describe, expect, it } from 'vitest';
import { clearlyLowest } from './best.ts';

const of = (...values: number[]) => values.map((value, k) => ({ id: `lane${k}`, value }));

describe('clearlyLowest: a best mark only for a difference a reader can trust', () => {
  it('marks the lowest when it leads by more than 5 % and more than the clock’s uncertainty', () => {
    expect([...clearlyLowest(of(350, 500, 650), 2)]).toEqual(['lane0']);
  });

  it('marks nothing inside 5 %: 20 052 ms against 20 095 ms is the same time (issue 12)', () => {
    expect(clearlyLowest(of(20_052, 20_095), 1).size).toBe(0);
    expect(clearlyLowest(of(1_000, 1_049), 0).size).toBe(0);
    expect([...clearlyLowest(of(1_000, 1_051), 0)]).toEqual(['lane0']);
  });

  it('marks nothing inside the clock’s uncertainty, even past 5 %', () => {
    // 12 ms against 30 ms is 150 % more, but a clock known to ± 25 ms cannot tell them apart.
    expect(clearlyLowest(of(12, 30), 25).size).toBe(0);
    expect([...clearlyLowest(of(12, 40), 25)]).toEqual(['lane0']);
  });

  it('lets leaders that cannot be told apart share the mark, when the rest are clearly behind', () => {
    expect([...clearlyLowest(of(1, 1, 2, 5))]).toEqual(['lane0', 'lane1']);
    expect([...clearlyLowest(of(100, 102, 300))]).toEqual(['lane0', 'lane1']);
  });

  it('marks nothing for a continuum with no clear gap, a single value, or all alike', () => {
    expect(clearlyLowest(of(100, 104, 108.5)).size).toBe(0);
    expect(clearlyLowest(of(100)).size).toBe(0);
    expect(clearlyLowest(of(7, 7, 7)).size).toBe(0);
  });
});
