import { RaceExport } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { finishedRace, WIRE } from '../testing/finished-race.ts';
import { raceCsv, raceExport } from './race-view.ts';

describe('export', () => {
  it('round-trips through JSON and the shared schema unchanged', async () => {
    const store = await finishedRace();
    const exported = raceExport(store.getState(), store.getState().raceLog(), 2_000);
    expect(exported).toBeDefined();
    const parsed = RaceExport.parse(JSON.parse(JSON.stringify(exported)));
    expect(parsed).toEqual(exported);
  });

  it('keeps every event as received with its receipt and frame times, the settings, the clock and the server’s count', async () => {
    const store = await finishedRace();
    const exported = raceExport(store.getState(), store.getState().raceLog(), 2_000);
    expect(exported).toMatchObject({
      runId: 'race-00000042',
      actionAt: 1_000,
      pressedAt: 990,
      settings: {
        spec: { durationMs: 3_000, steps: 20 },
        lanes: ['short-polling', 'websocket'],
        view: 'auto',
      },
      clock: { offsetMs: 5_000, uncertaintyMs: 10 },
      wire: WIRE,
      wireFinal: true,
    });
    const ws = exported?.lanes.find((l) => l.lane === 'websocket');
    expect(ws?.events.map((e) => [e.event.seq, e.receivedAt, e.shownAt])).toEqual([
      [2, 1_012, 1_016],
      [3, 1_256, 1_316],
      [4, 1_402, 1_432],
    ]);
    expect(ws?.exchanges).toEqual([
      {
        kind: 'socket',
        label: 'WebSocket upgrade',
        sentAt: 1_001,
        openedAt: 1_004,
        endedAt: 1_404,
        outcome: 'closed',
      },
    ]);
    expect(ws?.measurements).toMatchObject({
      firstFeedbackMs: 16,
      totalPerceivedMs: 432,
      // Shown at 1 432; the server finished at 6 400 − 5 000 = 1 400 on the page's clock.
      completionLagMs: 32,
      requests: 1,
      bytesUp: 700,
      connectionsOpened: 1,
      connectionsAtOnce: 1,
    });
    const sp = exported?.lanes.find((l) => l.lane === 'short-polling');
    expect(sp).toMatchObject({ status: 'error', error: { code: 'NETWORK', message: 'offline' } });
    expect(sp?.states.map((s) => [s.task.status, s.receivedAt, s.shownAt])).toEqual([
      ['queued', 1_015, 1_016],
      ['running', 1_300, 1_316],
    ]);
    // 1 316 − (6 250 − 5 000): the age of the polled progress value when shown, exact by its updatedAt.
    expect(sp?.measurements.staleness).toEqual({ meanMs: 66, medianMs: 66, maxMs: 66, count: 1 });
  });

  it('writes the metrics table as CSV, one row per lane', async () => {
    const store = await finishedRace();
    const lines = raceCsv(store.getState(), store.getState().raceLog()).trim().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('websocket,WebSocket,succeeded,16.0,432.0,32.0,66.0,66.0,1,700,1500,,1,1,,0.0,');
  });
});
