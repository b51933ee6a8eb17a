import type { LaneId, WireReport } from '@transport-lab/shared';
import { createAppStore } from '../store/create-store.ts';
import { createRegistry } from '../transports/registry.ts';
import type { Report, TransportClient } from '../transports/types.ts';
import { progress, runningState, started, succeeded, taskState } from './fixtures.ts';

/**
 * A two-lane race run by hand through a store to its end (the export's and the replay's tests): the
 * websocket succeeds, short polling ends in a network error.
 */
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

export const WIRE: WireReport = {
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
export async function finishedRace() {
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
