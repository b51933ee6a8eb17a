import { describe, expect, it } from 'vitest';
import { runningLane } from '../../store/lane-reducer.ts';
import { emptyLaneLog, type LaneLog } from '../../store/race-log.ts';
import { markTimes, tickStep, timelineGeometry } from './timeline-geometry.ts';

/** A hand-made short-lived race: action at 1 000 ms on the page clock, the server 5 000 ms ahead. */
function handLog(): LaneLog {
  const log = emptyLaneLog();
  log.exchanges.push(
    {
      id: 1,
      kind: 'http',
      label: 'POST /api/tasks',
      sentAt: 1_002,
      endedAt: 1_010,
      outcome: 'answered',
      status: 202,
    },
    {
      id: 2,
      kind: 'stream',
      label: 'GET /s',
      sentAt: 1_011,
      openedAt: 1_015,
      endedAt: 1_150,
      outcome: 'closed',
    },
    { id: 3, kind: 'http', label: 'GET /e', sentAt: 1_020, endedAt: 1_030, outcome: 'failed' },
    { id: 4, kind: 'http', label: 'GET /e', sentAt: 1_040, endedAt: 1_060, outcome: 'answered', status: 200 },
  );
  log.updates.push({ label: 'progress 1/4', seq: 3, serverAt: 6_050, receivedAt: 1_055, shownAt: 1_066 });
  log.reconnects.push({ count: 1, at: 1_100 });
  return log;
}

const finished = {
  ...runningLane(),
  status: 'succeeded' as const,
  finishedShownAt: 1_150,
  serverFinishedAt: 6_140,
};

describe('timeline geometry', () => {
  it('puts every exchange, event, reconnect and the end on one axis from the action, clocks corrected', () => {
    const { rows, endMs } = timelineGeometry(1_000, [{ lane: 'sse', log: handLog(), run: finished }], 5_000);
    expect(endMs).toBe(150);
    const [row] = rows;
    expect(row?.lane).toBe('sse');
    // The stream overlaps the two polls: they go on a second track.
    expect(row?.tracks).toBe(2);
    expect(row?.marks).toEqual([
      { kind: 'exchange', at: 2, until: 10, track: 0, label: 'POST /api/tasks → 202' },
      { kind: 'exchange', at: 11, until: 150, opened: 15, track: 0, label: 'GET /s, closed' },
      { kind: 'exchange', at: 20, until: 30, track: 1, failed: true, label: 'GET /e, failed' },
      { kind: 'exchange', at: 40, until: 60, track: 1, retry: true, label: 'GET /e → 200' },
      { kind: 'update', at: 66, received: 55, emitted: 50, track: 0, label: 'event 3: progress 1/4' },
      { kind: 'reconnect', at: 100, track: 0, label: 'reconnect 1: the connection dropped' },
      { kind: 'end', at: 150, emitted: 140, track: 0, label: 'finished: succeeded' },
    ]);
  });

  it('leaves server times out while the clock offset is unknown, and reaches the present while running', () => {
    const { rows, endMs } = timelineGeometry(
      1_000,
      [{ lane: 'sse', log: handLog(), run: finished }],
      undefined,
      400,
    );
    expect(endMs).toBe(400);
    const update = rows[0]?.marks.find((m) => m.kind === 'update');
    expect(update?.emitted).toBeUndefined();
    expect(update && markTimes(update)).toBe(
      'emitted: needs the clock offset, received 55.0 ms, shown 66.0 ms',
    );
  });

  it('says every time of a mark in the readout', () => {
    const { rows } = timelineGeometry(1_000, [{ lane: 'sse', log: handLog(), run: finished }], 5_000);
    const texts = rows[0]?.marks.map(markTimes);
    expect(texts?.[1]).toBe('sent 11.0 ms, connected 15.0 ms, ended 150.0 ms, took 139.0 ms');
    expect(texts?.[4]).toBe('emitted 50.0 ms, received 55.0 ms, shown 66.0 ms, age on screen 16.0 ms');
    expect(texts?.[6]).toBe('server finished 140.0 ms, shown 150.0 ms, lag 10.0 ms');
  });

  it('chooses round tick steps', () => {
    expect(tickStep(150, 6)).toBe(50);
    expect(tickStep(3_200, 8)).toBe(500);
    expect(tickStep(12_000, 6)).toBe(2_000);
  });
});

describe('fault marks', () => {
  const record = (at: number, fault: import('@transport-lab/shared').Fault, summary: string) => ({
    record: { id: `f${at}`, fault, at, affected: 1, summary },
    receivedAt: 1_090,
  });
  const faults = [
    record(
      6_070,
      { kind: 'drop-connections', runId: 'run_abcdefgh', lane: 'sse' },
      'Dropped 1 connection of SSE.',
    ),
    record(6_080, { kind: 'slow-downstream', runId: 'run_abcdefgh', stallMs: 500 }, 'Downstream stalled.'),
  ];

  it('puts a lane fault on its row only and a race fault on every row, at the server time on the page clock', () => {
    const lanes = [
      { lane: 'sse' as const, log: emptyLaneLog() },
      { lane: 'websocket' as const, log: emptyLaneLog() },
    ];
    const { rows } = timelineGeometry(1_000, lanes, 5_000, 0, faults);
    const faultMarks = (i: number) => rows[i]?.marks.filter((m) => m.kind === 'fault') ?? [];
    // 6 070 on the server is 1 070 on the page, 70 ms after the action.
    expect(faultMarks(0).map((m) => [m.at, m.label])).toEqual([
      [70, 'fault: Dropped 1 connection of SSE.'],
      [80, 'fault: Downstream stalled.'],
    ]);
    expect(faultMarks(1).map((m) => m.at)).toEqual([80]);
    expect(markTimes(faultMarks(1)[0] as never)).toBe('applied 80.0 ms (server time, clock corrected)');
  });

  it('without a clock offset, places a fault where the page heard of it and says so', () => {
    const { rows } = timelineGeometry(1_000, [{ lane: 'sse', log: emptyLaneLog() }], undefined, 0, faults);
    const marks = rows[0]?.marks.filter((m) => m.kind === 'fault') ?? [];
    expect(marks.map((m) => [m.at, m.approximate])).toEqual([
      [90, true],
      [90, true],
    ]);
  });
});

describe('the timeline of a queued task', () => {
  it("draws its wait for a worker from its acceptance to its start, on the page's clock, open while it waits", () => {
    // The server is 5 000 ms ahead: accepted at server 6 005 (page 1 005), started at 8 005 (page 3 005).
    const waiting = { ...runningLane(), serverQueuedAt: 6_005, queuePosition: 3, firstQueuePosition: 3 };
    const open = timelineGeometry(1_000, [{ lane: 'sse', log: emptyLaneLog(), run: waiting }], 5_000, 1_500);
    const mark = open.rows[0]?.marks.find((m) => m.kind === 'queue');
    expect(mark).toMatchObject({ at: 5, label: 'queued on the server, waiting for a worker, position 3' });
    expect(mark?.until).toBeUndefined();
    const started = { ...waiting, serverStartedAt: 8_005 };
    const done = timelineGeometry(1_000, [{ lane: 'sse', log: emptyLaneLog(), run: started }], 5_000);
    const ended = done.rows[0]?.marks.find((m) => m.kind === 'queue');
    expect(ended?.until).toBe(2_005);
    expect(markTimes(ended as NonNullable<typeof ended>)).toContain('queue time 2000.0 ms');
  });

  it('leaves out the turn of the event loop every task waits, and places nothing without the clock offset', () => {
    const run = { ...runningLane(), serverQueuedAt: 6_005, serverStartedAt: 6_005.3 };
    const rows = timelineGeometry(1_000, [{ lane: 'sse', log: emptyLaneLog(), run }], 5_000).rows;
    expect(rows[0]?.marks.some((m) => m.kind === 'queue')).toBe(false);
    const queued = { ...run, serverStartedAt: 9_000 };
    const noClock = timelineGeometry(
      1_000,
      [{ lane: 'sse', log: emptyLaneLog(), run: queued }],
      undefined,
    ).rows;
    expect(noClock[0]?.marks.some((m) => m.kind === 'queue')).toBe(false);
  });
});
