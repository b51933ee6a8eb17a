import { describe, expect, it } from 'vitest';
import { createRaceLog, recordReport } from '../../store/race-log.ts';
import { deadSocketFigures, hiddenFigures, IN_FLIGHT_MS } from './scene-figures.ts';

const ACTION = 1_000_000;
const RUN = 'race-0001-aaaaaaaa';

describe('the dead socket, read from the race log', () => {
  function log() {
    const l = createRaceLog(1, ACTION, ['websocket', 'sse']);
    const ws = l.lanes.websocket;
    if (!ws) throw new Error('no websocket log');
    const frame = (at: number) => recordReport(ws, { type: 'frame', direction: 'down', bytes: 190, at }, at);
    frame(ACTION + 1_000);
    // On its way when the path died: arrives a moment after the fault's time.
    frame(ACTION + 2_000 + IN_FLIGHT_MS / 2);
    recordReport(
      ws,
      { type: 'link', detail: 'Connection lost (ping timeout), reconnecting…', at: ACTION + 8_000 },
      ACTION + 8_000,
    );
    recordReport(
      ws,
      { type: 'link', detail: 'Reconnected, session recovered', at: ACTION + 9_200 },
      ACTION + 9_200,
    );
    frame(ACTION + 9_300);
    l.faults.push({
      record: {
        id: 'f1',
        fault: { kind: 'blackhole-connections', runId: RUN, lane: 'websocket' },
        // Server clock 50 ms ahead of the page's.
        at: ACTION + 2_000 + 50,
        affected: 1,
        summary: '…',
      },
      receivedAt: ACTION + 2_100,
    });
    return l;
  }

  it('times the death on the page clock, the notice and its reason, the reconnection, and the frames between', () => {
    expect(deadSocketFigures(log(), 'websocket', 50)).toEqual({
      deadFromMs: 2_000,
      noticedAtMs: 8_000,
      reason: 'ping timeout',
      framesDownWhileDead: 0,
      reconnectedAtMs: 9_200,
    });
  });

  it('counts a frame that came while the socket was dead, and without an offset times the death when the page heard of it', () => {
    const l = log();
    const ws = l.lanes.websocket;
    if (ws)
      recordReport(ws, { type: 'frame', direction: 'down', bytes: 60, at: ACTION + 5_000 }, ACTION + 5_000);
    const figures = deadSocketFigures(l, 'websocket', undefined);
    expect(figures.deadFromMs).toBe(2_100);
    expect(figures.framesDownWhileDead).toBe(1);
  });

  it('says nothing was noticed when no fault of that lane was applied', () => {
    const l = log();
    l.faults = [];
    expect(deadSocketFigures(l, 'websocket', 50)).toEqual({ framesDownWhileDead: 0 });
  });
});

describe('the background tab, read from the race log and the visibility record', () => {
  it('splits the polls into visible and hidden gaps, and counts what the push lanes received and applied while hidden', () => {
    const l = createRaceLog(1, ACTION, ['short-polling', 'sse']);
    const sp = l.lanes['short-polling'];
    const sse = l.lanes.sse;
    if (!sp || !sse) throw new Error('no lane logs');
    const sentAt = [0, 300, 600, 900, 3_000, 4_000, 5_000, 6_000, 6_300];
    for (const [id, t] of sentAt.entries())
      recordReport(
        sp,
        { type: 'sent', id, kind: 'http', label: 'GET /api/tasks/t', at: ACTION + t },
        ACTION + t,
      );
    const event = (seq: number, at: number, shownAt: number) =>
      recordReport(
        sse,
        {
          type: 'event',
          event: { type: 'progress', taskId: 't', seq, at, step: seq, steps: 9, percent: 10 * seq },
          at,
        },
        shownAt,
      );
    event(3, ACTION + 500, ACTION + 510);
    event(4, ACTION + 3_500, ACTION + 6_020); // received hidden, applied in the first frame once visible
    event(5, ACTION + 4_500, ACTION + 6_020);
    const visibility = [
      { hidden: false, at: ACTION - 5_000 },
      { hidden: true, at: ACTION + 2_000 },
      { hidden: false, at: ACTION + 6_000 },
    ];
    const figures = hiddenFigures(l, ['short-polling', 'sse'], visibility, ACTION + 8_000);
    expect(figures.hiddenFromMs).toBe(2_000);
    expect(figures.hiddenToMs).toBe(6_000);
    expect(figures.lanes['short-polling']?.gapsVisibleMs).toEqual([300, 300, 300]);
    expect(figures.lanes['short-polling']?.gapsHiddenMs).toEqual([1_000, 1_000]);
    expect(figures.lanes.sse).toMatchObject({ receivedHidden: 2, shownHidden: 0, firstShownAfterMs: 6_020 });
  });

  it('has no hidden span when the page stayed visible', () => {
    const l = createRaceLog(1, ACTION, ['sse']);
    expect(hiddenFigures(l, ['sse'], [{ hidden: false, at: ACTION - 1 }], ACTION + 8_000)).toEqual({
      lanes: {},
    });
  });
});
