import { describe, expect, it } from 'vitest';
import { meanInformationAgeMs, nielsenBand, perceivedMetrics } from './perceived.ts';

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
      staleness: { meanMs: 35, medianMs: 20, maxMs: 50, count: 2 },
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

describe('meanInformationAgeMs', () => {
  it('averages the age of what was on screen over time (hand-worked)', () => {
    // Offset 0. Value A from server time 0 shown at 100 until 300; value B from 250 shown at 300 until 400.
    // A: ages 100 → 300 over 200 ms, area (300² − 100²)/2 = 40 000; B: ages 50 → 150 over 100 ms,
    // area (150² − 50²)/2 = 10 000. Mean = 50 000 / 300 = 166.67 ms.
    const age = meanInformationAgeMs(
      [
        { serverAt: 0, shownAt: 100 },
        { serverAt: 250, shownAt: 300 },
      ],
      400,
      0,
    );
    expect(age).toBeCloseTo(50_000 / 300, 9);
  });

  it('moves server times onto the page clock with the offset', () => {
    // Server clock 1 000 ms ahead: serverAt 1 000 is page time 0, so the same screen as above.
    const age = meanInformationAgeMs([{ serverAt: 1_000, shownAt: 100 }], 300, 1_000);
    expect(age).toBeCloseTo((300 ** 2 - 100 ** 2) / 2 / 200, 9);
  });

  it('is undefined when nothing was shown before the end', () => {
    expect(meanInformationAgeMs([], 100, 0)).toBeUndefined();
    expect(meanInformationAgeMs([{ serverAt: 0, shownAt: 200 }], 100, 0)).toBeUndefined();
  });
});
