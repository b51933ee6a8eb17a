import { describe, expect, it } from 'vitest';
import { estimateClockOffset, sampleOffset, toClientTime } from './clock.ts';

describe('estimateClockOffset', () => {
  it('recovers a +5 s skew from a symmetric round trip exactly', () => {
    // Client is 5 000 ms behind the server; each way takes 20 ms; the server holds it 1 ms.
    const skew = 5_000;
    const t0 = 1_000;
    const sample = { t0, t1: t0 + 20 + skew, t2: t0 + 21 + skew, t3: t0 + 41 };
    expect(sampleOffset(sample)).toEqual({ offsetMs: 5_000, rttMs: 40 });
  });

  it('keeps a −5 s skew within its stated uncertainty when the path is asymmetric', () => {
    // Client is 5 000 ms ahead; 70 ms out, 10 ms back, no server hold: the estimate is off by 30 ms,
    // and the stated uncertainty (rtt/2 = 40 ms) covers it.
    const skew = -5_000;
    const t0 = 50_000;
    const est = estimateClockOffset([{ t0, t1: t0 + 70 + skew, t2: t0 + 70 + skew, t3: t0 + 80 }]);
    expect(est.offsetMs).toBe(-4_970);
    expect(est.uncertaintyMs).toBe(40);
    expect(Math.abs(est.offsetMs - skew)).toBeLessThanOrEqual(est.uncertaintyMs);
  });

  it('chooses the sample with the smallest round trip', () => {
    const est = estimateClockOffset([
      { t0: 0, t1: 300, t2: 300, t3: 400 }, // rtt 400, offset 100
      { t0: 1_000, t1: 1_105, t2: 1_106, t3: 1_011 }, // rtt 10, offset 100
      { t0: 2_000, t1: 2_050, t2: 2_050, t3: 2_200 }, // rtt 200, offset −50
    ]);
    expect(est).toEqual({ offsetMs: 100, uncertaintyMs: 5, rttMs: 10, samples: 3 });
  });

  it('refuses an empty list', () => {
    expect(() => estimateClockOffset([])).toThrow(/at least one sample/);
  });

  it('moves a server timestamp onto the client clock', () => {
    expect(toClientTime(10_000, 5_000)).toBe(5_000);
  });
});
