import type { WireCounts as ServerWireCounts } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { compareFigure, compareLane, serverPageCounts } from './wire-compare.ts';

function server(
  top: { requests: number; bytesUp: number; bytesDown: number },
  relay = { requests: 0, bytesUp: 0, bytesDown: 0 },
): ServerWireCounts {
  const connections = { connectionsOpened: 1, openConnections: 0, maxOpenConnections: 1 };
  return {
    ...top,
    ...connections,
    serverToReceiver: { requests: 9, bytesUp: 9_000, bytesDown: 900 },
    receiverToPage: { ...relay, ...connections },
  };
}

describe('the server’s count beside the page’s', () => {
  it('adds the relay stream to the page ↔ app traffic, and leaves the deliveries out', () => {
    expect(
      serverPageCounts(
        server(
          { requests: 1, bytesUp: 400, bytesDown: 600 },
          { requests: 1, bytesUp: 300, bytesDown: 2_000 },
        ),
      ),
    ).toEqual({ requests: 2, bytesUp: 700, bytesDown: 2_600 });
  });

  it('agrees within 2 %, and flags a page that counted 3 % less as the page’s bug', () => {
    const s = server({ requests: 5, bytesUp: 1_000, bytesDown: 10_000 });
    const lane = compareLane({ requests: 5, bytesUp: 985, bytesDown: 9_700 }, s);
    expect(lane.requests).toMatchObject({ page: 5, server: 5, diff: 0, flagged: false, verdict: 'agree' });
    // 15 / 1 000 = 1.5 %: inside the bound.
    expect(lane.bytesUp).toMatchObject({ diff: -15, relative: 0.015, flagged: false, verdict: 'within 2 %' });
    // 300 / 10 000 = 3 %: outside.
    expect(lane.bytesDown).toMatchObject({
      diff: -300,
      relative: 0.03,
      flagged: true,
      pageLowerBound: false,
      verdict: 'the page missed 300 B down: a bug in the page’s count',
    });
  });

  it('says the page misses what it could not measure when it marked its count “at least”', () => {
    const s = server({ requests: 3, bytesUp: 1_200, bytesDown: 5_000 });
    const up = compareFigure('bytesUp', { requests: 3, bytesUp: 800, unmeasuredUp: 1 }, s);
    expect(up).toMatchObject({
      page: 800,
      server: 1_200,
      flagged: true,
      pageLowerBound: true,
      verdict: 'the page misses 400 B up it could not measure (its count reads “at least”)',
    });
  });

  it('flags a page that counted more than the server, and a request the server never saw', () => {
    const s = server({ requests: 2, bytesUp: 500, bytesDown: 500 });
    expect(compareFigure('requests', { requests: 3 }, s)).toMatchObject({
      diff: 1,
      flagged: true,
      verdict: 'the server missed 1 request the page counted: a bug on one side',
    });
  });

  it('flags a lane the server has no count of, unless the page counted nothing either', () => {
    expect(compareFigure('requests', { requests: 2 }, undefined)).toMatchObject({
      page: 2,
      flagged: true,
      verdict: 'the server counted nothing for this lane',
    });
    expect(compareFigure('bytesDown', { requests: 0 }, undefined)).toMatchObject({ flagged: false });
  });
});
