import { describe, expect, it } from 'vitest';
import { LAB_TAGS, labTagHeaders, labTagQuery, RunId, WireReport } from './wire.ts';

const tally = { requests: 1, bytesUp: 300, bytesDown: 700 };
const connections = { ...tally, connectionsOpened: 1, openConnections: 0, maxOpenConnections: 1 };
const counts = { ...connections, serverToReceiver: tally, receiverToPage: connections };

describe('lab tags', () => {
  it('are the header and query names the server reads', () => {
    const tag = { lane: 'sse', runId: 'run_12345678' } as const;
    expect(labTagHeaders(tag)).toEqual({ 'x-lab-lane': 'sse', 'x-lab-run': 'run_12345678' });
    expect(labTagQuery(tag)).toEqual({ labLane: 'sse', labRun: 'run_12345678' });
    expect(Object.keys(labTagHeaders(tag))).toEqual([LAB_TAGS.laneHeader, LAB_TAGS.runHeader]);
  });

  it.each(['run_1234', 'A-b_C-d_0123456789', 'x'.repeat(64)])('accepts the run id %s', (id) => {
    expect(RunId.safeParse(id).success).toBe(true);
  });

  it.each(['run_123', 'x'.repeat(65), 'run 12345', 'run/12345', 'rün_12345'])(
    'refuses the run id %s',
    (id) => {
      expect(RunId.safeParse(id).success).toBe(false);
    },
  );
});

describe('WireReport', () => {
  it('holds only the lanes that had traffic, and no key that is not a lane', () => {
    expect(WireReport.parse({ runId: 'run_12345678', lanes: { sse: counts }, openStreams: 0 }).lanes).toEqual(
      {
        sse: counts,
      },
    );
    expect(
      WireReport.safeParse({ runId: 'run_12345678', lanes: { carrier: counts }, openStreams: 0 }).success,
    ).toBe(false);
  });

  it('refuses a negative or fractional count', () => {
    const bad = { ...counts, bytesUp: -1 };
    expect(WireReport.safeParse({ runId: 'run_12345678', lanes: { sse: bad }, openStreams: 0 }).success).toBe(
      false,
    );
    expect(WireReport.safeParse({ runId: 'run_12345678', lanes: {}, openStreams: 0.5 }).success).toBe(false);
  });
});
