import { type LaneId, RaceExport, type WireReport } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { progress, runningState, started, succeeded, taskState } from '../testing/fixtures.ts';
import { createRegistry } from '../transports/registry.ts';
import type { Report, TransportClient } from '../transports/types.ts';
import { createAppStore } from './index.ts';
import { raceCsv, raceExport } from './race-view.ts';

function fakeLane(id: LaneId) {
  const runs: Report[] = [];
  const client: TransportClient = {
    id,
    run(_spec, report) {
      runs.push(report);
      return { cancel: () => {}, done: Promise.resolve() };
    },
  };
  return { client, report: (r: Parameters<Report>[0]) => runs.at(-1)?.(r) };
}

const WIRE: WireReport = {
  runId: 'race-00000042',
  openStreams: 0,
  lanes: {
    websocket: {
      requests: 1,
      bytesUp: 700,
      bytesDown: 1_500,
      connectionsOpened: 1,
      openConnections: 0,
      maxOpenConnections: 1,
      serverToReceiver: { requests: 0, bytesUp: 0, bytesDown: 0 },
      receiverToPage: {
        requests: 0,
        bytesUp: 0,
        bytesDown: 0,
        connectionsOpened: 0,
        openConnections: 0,
        maxOpenConnections: 0,
      },
    },
  },
};

/** A two-lane race run by hand to its end: the server 5 000 ms ahead, a 20 ms round trip. */
async function finishedRace() {
  const ws = fakeLane('websocket');
  const sp = fakeLane('short-polling');
  const frames: Array<() => void> = [];
  let now = 0;
  const store = createAppStore({
    registry: createRegistry([sp.client, ws.client]),
    now: () => now,
    schedule: (callback) => frames.push(callback),
    startFrame: (callback) => callback(1_000),
    sampleClock: async () => ({ t0: 0, t1: 5_010, t2: 5_010, t3: 20 }),
    newRunId: () => 'race-00000042',
    loadWireReport: async () => WIRE,
  });
  const frame = (at: number) => {
    now = at;
    for (const callback of frames.splice(0)) callback();
  };
  await store.getState().measureClock();
  const wired = new Promise<void>((resolve) => {
    const stop = store.subscribe((s) => {
      if (s.race.wire.status === 'ready') {
        stop();
        resolve();
      }
    });
  });
  store.getState().requestStart({ pressedAt: 990 });

  ws.report({ type: 'sent', id: 1, kind: 'socket', label: 'WebSocket upgrade', at: 1_001 });
  ws.report({
    type: 'wire',
    delta: { requests: 1, connections: 1, bytesUp: 700, bytesDown: 1_500 },
    at: 1_002,
  });
  ws.report({ type: 'opened', id: 1, at: 1_004 });
  ws.report({ type: 'frame', direction: 'up', bytes: 40, at: 1_005 });
  ws.report({ type: 'task', task: taskState(), at: 1_010 });
  ws.report({ type: 'event', event: started(6_011), at: 1_012 });
  sp.report({ type: 'sent', id: 2, kind: 'http', label: 'POST /api/tasks', at: 1_001 });
  sp.report({ type: 'ended', id: 2, outcome: 'answered', status: 202, at: 1_015 });
  sp.report({ type: 'task', task: taskState(), at: 1_015 });
  frame(1_016);
  ws.report({ type: 'event', event: progress(3, 1, 6_250), at: 1_256 });
  sp.report({ type: 'poll', poll: { outcome: 'news', status: 200, label: '200, running 25%' }, at: 1_300 });
  sp.report({
    type: 'task',
    task: runningState(1, 3, { updatedAt: 6_250 }),
    at: 1_300,
    progress: { serverAt: 6_250, exact: true },
  });
  frame(1_316);
  ws.report({ type: 'event', event: succeeded(4, 6_400), at: 1_402 });
  ws.report({ type: 'reconnect', count: 1, at: 1_403 });
  ws.report({ type: 'ended', id: 1, outcome: 'closed', at: 1_404 });
  sp.report({ type: 'error', error: { code: 'NETWORK', message: 'offline', fromServer: false }, at: 1_420 });
  frame(1_432);
  await wired;
  return store;
}

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
    expect(lines[2]).toBe('websocket,WebSocket,succeeded,16.0,432.0,32.0,66.0,66.0,1,700,1500,,1,1,,');
  });
});
