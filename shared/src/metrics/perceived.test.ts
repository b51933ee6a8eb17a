import { describe, expect, it } from 'vitest';
import { nielsenBand, perceivedMetrics } from './perceived.ts';

describe('perceivedMetrics', () => {
  it('computes every metric from a hand-worked run with the server clock 5 s ahead', () => {
    // Client clock: action at 1 000; ack shown at 1 030; server (offset +5 000) stamps progress at
    // 6 500 and 7 000 (client 1 500 and 2 000), shown at 1 520 and 2 050; finished at 8 000
    // (client 3 000), shown at 3 040.
    const metrics = perceivedMetrics(
      {
        actionAt: 1_000,
        firstFeedbackAt: 1_030,
        progressShown: [
          { serverAt: 6_500, shownAt: 1_520 },
          { serverAt: 7_000, shownAt: 2_050 },
        ],
        serverFinishedAt: 8_000,
        finishedShownAt: 3_040,
      },
      5_000,
    );
    expect(metrics).toEqual({
      firstFeedbackMs: 30,
      totalPerceivedMs: 2_040,
      completionLagMs: 40,
      staleness: { meanMs: 35, maxMs: 50, count: 2 },
    });
  });

  it('leaves out what was not observed', () => {
    expect(perceivedMetrics({ actionAt: 0, progressShown: [] }, 0)).toEqual({});
  });
});

describe('nielsenBand', () => {
  it.each([
    [0, 'instant'],
    [100, 'instant'],
    [100.1, 'flow'],
    [1_000, 'flow'],
    [9_999, 'attention'],
    [10_001, 'lost'],
  ] as const)('%d ms is %s', (ms, band) => {
    expect(nielsenBand(ms)).toBe(band);
  });
});
