import { describe, expect, it } from 'vitest';
import { hopTimes, summarizeHops } from './relay-hops.ts';

describe('webhook hop arithmetic', () => {
  const hop = {
    seq: 3,
    eventAt: 10_000,
    receivedAt: 10_012.5,
    relayedAt: 10_013,
    attempt: 1,
    shownAt: 5_030,
  };

  it('cuts the way at your backend: delivery on the server clock, relay corrected by the clock offset', () => {
    // Server clock 5 000 ms ahead of the page: relayed at 10 013 server = 5 013 page; shown at 5 030.
    expect(hopTimes(hop, 5_000)).toEqual({ deliveryMs: 12.5, heldMs: 0.5, relayMs: 17 });
  });

  it('leaves the relay hop out while the clock offset is unknown, but not the delivery hop', () => {
    expect(hopTimes(hop, undefined)).toEqual({ deliveryMs: 12.5, heldMs: 0.5 });
  });

  it('summarises mean and max of each hop over a run', () => {
    const later = { ...hop, seq: 4, eventAt: 10_100, receivedAt: 10_150, relayedAt: 10_151, shownAt: 5_200 };
    expect(summarizeHops([hop, later], 5_000)).toEqual({
      delivery: { meanMs: 31.25, maxMs: 50, count: 2 },
      held: { meanMs: 0.75, maxMs: 1, count: 2 },
      relay: { meanMs: 33, maxMs: 49, count: 2 },
    });
    expect(summarizeHops([], 0)).toBeUndefined();
  });
});
