import {
  type ClockSample,
  type LaneId,
  type PublicSettings,
  RaceExport,
  type TaskSpec,
} from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../testing/async-fakes.ts';
import {
  finishedState,
  progress,
  queued,
  runningState,
  started,
  succeeded,
  taskState,
} from '../testing/fixtures.ts';
import { createRegistry } from '../transports/registry.ts';
import type { Report, RunOptions, TransportClient } from '../transports/types.ts';
import { createAppStore } from './index.ts';
import { bestLanes, laneMetrics } from './metrics.ts';
import { raceExport } from './race-view.ts';

/** A lane client that records its runs and lets the test speak for the server. */
function fakeClient(id: LaneId) {
  const runs: Array<{ spec: TaskSpec; report: Report; options: RunOptions | undefined; cancelled: number }> =
    [];
  const client: TransportClient = {
    id,
    run(spec, report, options) {
      const run = { spec, report, options, cancelled: 0 };
      runs.push(run);
      return {
        done: Promise.resolve(),
        cancel: () => {
          run.cancelled += 1;
        },
      };
    },
  };
  const last = () => {
    const run = runs.at(-1);
    if (!run) throw new Error(`${id} never ran`);
    return run;
  };
  return { client, runs, last };
}

function setup(sample?: ClockSample, loadSettings?: () => Promise<PublicSettings>) {
  const rr = fakeClient('request-response');
  const ws = fakeClient('websocket');
  const frames: Array<() => void> = [];
  let now = 0;
  const store = createAppStore({
    registry: createRegistry([rr.client, ws.client]),
    now: () => now,
    schedule: (callback) => frames.push(callback),
    sampleClock: async () => sample ?? { t0: 0, t1: 0, t2: 0, t3: 0 },
    ...(loadSettings ? { loadSettings } : {}),
  });
  /** Runs the pending animation frame at client time `at`. */
  const frame = (at: number) => {
    now = at;
    for (const callback of frames.splice(0)) callback();
  };
  const lane = (id: LaneId) => {
    const found = store.getState().race.lanes[id];
    if (!found) throw new Error(`${id} has no run`);
    return found;
  };
  return { store, rr, ws, frame, lane };
}

describe('race slice', () => {
  it('starting marks every selected lane running and starts each with the parsed spec', () => {
    const { store, rr, ws, lane } = setup();
    store.getState().setSpecField('durationMs', '1500');
    store.getState().setSpecField('steps', '5');
    store.getState().startRace(1_000);
    expect(lane('request-response').status).toBe('running');
    expect(lane('websocket').status).toBe('running');
    expect(store.getState().race.actionAt).toBe(1_000);
    expect(rr.last().spec).toEqual({ durationMs: 1_500, steps: 5 });
    expect(ws.last().spec).toEqual({ durationMs: 1_500, steps: 5 });
  });

  it('starts only the lanes that are selected', () => {
    const { store, rr, ws } = setup();
    store.getState().setLaneSelected('request-response', false);
    store.getState().startRace(1_000);
    expect(rr.runs).toHaveLength(0);
    expect(ws.runs).toHaveLength(1);
    expect(store.getState().race.lanes['request-response']).toBeUndefined();
  });

  it('does not start with a spec the shared schema refuses', () => {
    const { store, ws } = setup();
    store.getState().setSpecField('steps', '0');
    store.getState().startRace(1_000);
    expect(ws.runs).toHaveLength(0);
    expect(store.getState().race.runId).toBe(0);
  });

  it('holds reports until the animation frame, then applies them all in one update', () => {
    const { store, ws, frame, lane } = setup();
    store.getState().startRace(1_000);
    let updates = 0;
    store.subscribe(() => {
      updates += 1;
    });
    const { report } = ws.last();
    report({ type: 'task', task: taskState(), at: 1_010 });
    report({ type: 'event', event: queued(), at: 1_011 });
    report({ type: 'event', event: started(), at: 1_012 });
    report({ type: 'event', event: progress(3, 1, 10_020), at: 1_013 });
    expect(lane('websocket').percent).toBe(0);
    expect(updates).toBe(0);
    frame(1_020);
    expect(updates).toBe(1);
    expect(lane('websocket')).toMatchObject({
      step: 1,
      steps: 4,
      percent: 25,
      lastSeq: 3,
      detail: 'Step 1 of 4',
    });
    expect(lane('websocket').firstFeedbackAt).toBe(1_020);
  });

  it('records as shown only the last progress value of a frame, at that frame’s time', () => {
    const { store, ws, frame, lane } = setup();
    store.getState().startRace(1_000);
    const { report } = ws.last();
    report({ type: 'event', event: progress(3, 1, 10_020), at: 1_013 });
    report({ type: 'event', event: progress(4, 2, 10_030), at: 1_014 });
    frame(1_040);
    report({ type: 'event', event: progress(5, 3, 10_050), at: 1_050 });
    frame(1_060);
    expect(lane('websocket').progressShown).toEqual([
      { serverAt: 10_030, shownAt: 1_040 },
      { serverAt: 10_050, shownAt: 1_060 },
    ]);
    expect(lane('websocket').percent).toBe(75);
  });

  it('computes first feedback, total perceived and completion lag with the measured clock offset', async () => {
    // Server 5 000 ms ahead: a symmetric 20 ms round trip.
    const { store, ws, rr, frame, lane } = setup({ t0: 0, t1: 5_010, t2: 5_010, t3: 20 });
    await store.getState().measureClock();
    expect(store.getState().clock.estimate).toMatchObject({ offsetMs: 5_000, uncertaintyMs: 10 });

    store.getState().startRace(1_000);
    ws.last().report({ type: 'task', task: taskState(), at: 1_025 });
    frame(1_030);
    ws.last().report({ type: 'event', event: succeeded(2, 8_000), at: 3_035 });
    rr.last().report({ type: 'task', task: finishedState(7_900), at: 3_100 });
    frame(3_040);

    const { race, clock } = store.getState();
    expect(laneMetrics(lane('websocket'), race.actionAt, clock.estimate)).toEqual({
      firstFeedbackMs: 30,
      totalPerceivedMs: 2_040,
      completionLagMs: 40,
    });
    expect(laneMetrics(lane('request-response'), race.actionAt, clock.estimate)).toEqual({
      firstFeedbackMs: 2_040,
      totalPerceivedMs: 2_040,
      completionLagMs: 140,
    });
    expect(lane('websocket').status).toBe('succeeded');
    expect(lane('request-response').status).toBe('succeeded');
  });

  it('leaves completion lag unmeasured while the clock offset is unknown', () => {
    const { store, ws, frame, lane } = setup();
    store.getState().startRace(1_000);
    ws.last().report({ type: 'event', event: succeeded(1, 8_000), at: 1_990 });
    frame(2_000);
    const metrics = laneMetrics(lane('websocket'), 1_000, store.getState().clock.estimate);
    expect(metrics.totalPerceivedMs).toBe(1_000);
    expect(metrics.completionLagMs).toBeUndefined();
  });

  it('adds wire counts as they are reported', () => {
    const { store, ws, frame, lane } = setup();
    store.getState().startRace(1_000);
    const { report } = ws.last();
    report({ type: 'wire', delta: { requests: 1 }, at: 1 });
    report({ type: 'wire', delta: { bytesUp: 8 }, at: 2 });
    report({ type: 'wire', delta: { bytesDown: 33 }, at: 3 });
    report({ type: 'wire', delta: { bytesDown: 7 }, at: 4 });
    frame(1_100);
    expect(lane('websocket').wire).toEqual({ requests: 1, bytesUp: 8, bytesDown: 40 });
  });

  it('marks only the failing lane as error and announces its end', () => {
    const { store, rr, frame, lane } = setup();
    store.getState().startRace(1_000);
    rr.last().report({
      type: 'error',
      error: {
        code: 'SYNC_TIMEOUT',
        message: 'too slow',
        status: 504,
        taskId: 'task-0001',
        fromServer: true,
      },
      at: 1_500,
    });
    frame(1_510);
    expect(lane('request-response')).toMatchObject({ status: 'error', taskId: 'task-0001', endedAt: 1_510 });
    expect(lane('websocket').status).toBe('running');
    expect(store.getState().race.announcements.map((a) => a.text)).toEqual([
      'Request/response error: too slow.',
    ]);
  });

  it('announces each lane that ends, one line each, even when they end in the same frame', () => {
    const { store, rr, ws, frame } = setup();
    store.getState().startRace(1_000);
    ws.last().report({ type: 'event', event: succeeded(1, 5), at: 2_000 });
    rr.last().report({ type: 'task', task: finishedState(7_900), at: 2_001 });
    frame(2_010);
    expect(store.getState().race.announcements.map((a) => a.text)).toEqual([
      'WebSocket succeeded after 1010 milliseconds.',
      'Request/response succeeded after 1010 milliseconds.',
    ]);
  });

  it('ignores reports from an earlier run', () => {
    const { store, ws, rr, frame, lane } = setup();
    store.getState().startRace(1_000);
    const first = ws.last().report;
    first({ type: 'event', event: succeeded(1, 5), at: 1_100 });
    rr.last().report({ type: 'aborted', at: 1_100 });
    frame(1_100);
    store.getState().startRace(2_000);
    expect(store.getState().race.runId).toBe(2);
    first({ type: 'event', event: progress(1, 3, 9), at: 2_010 });
    frame(2_020);
    expect(lane('websocket')).toMatchObject({ status: 'running', percent: 0, eventsApplied: 0 });
  });

  it('cancel asks each running lane to cancel, and an aborted lane ends cancelled', () => {
    const { store, rr, ws, frame, lane } = setup();
    store.getState().startRace(1_000);
    store.getState().cancelRace();
    expect(rr.last().cancelled).toBe(1);
    expect(ws.last().cancelled).toBe(1);
    rr.last().report({ type: 'aborted', at: 1_200 });
    frame(1_210);
    expect(lane('request-response')).toMatchObject({ status: 'cancelled', endedAt: 1_210 });
    expect(lane('request-response').finishedShownAt).toBeUndefined();
  });

  it('refuses a second start while a race runs', () => {
    const { store, ws } = setup();
    store.getState().startRace(1_000);
    store.getState().startRace(1_001);
    expect(ws.runs).toHaveLength(1);
  });
});

describe('settings slice', () => {
  it('keeps the registry order of lanes whatever the order of clicks', () => {
    const { store } = setup();
    store.getState().setLaneSelected('request-response', false);
    store.getState().setLaneSelected('request-response', true);
    expect(store.getState().selectedLanes).toEqual(['request-response', 'websocket']);
  });

  it('offers only lanes the registry implements', () => {
    const { store } = setup();
    store.getState().setLaneSelected('sse', true);
    expect(store.getState().availableLanes).toEqual(['request-response', 'websocket']);
    expect(store.getState().selectedLanes).not.toContain('sse');
  });
});

describe('trace ids', () => {
  it('gives each lane’s task its own trace-id, shown at once and handed to its run', () => {
    const { store, rr, ws, lane } = setup();
    store.getState().startRace(1_000);
    const rrTrace = rr.last().options?.traceId;
    const wsTrace = ws.last().options?.traceId;
    expect(rrTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(wsTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(rrTrace).not.toBe(wsTrace);
    expect(lane('request-response').traceId).toBe(rrTrace);
    expect(lane('websocket').traceId).toBe(wsTrace);
  });

  it('takes the server’s trace-id once the task’s state names it, and exports it', () => {
    const { store, ws, frame, lane } = setup();
    store.getState().startRace(1_000);
    const serverTrace = 'aaaabbbbccccddddeeeeffff00001111';
    ws.last().report({ type: 'task', task: { ...taskState(), traceId: serverTrace }, at: 1_010 });
    frame(1_016);
    expect(lane('websocket').traceId).toBe(serverTrace);
    const state = store.getState();
    const exported = RaceExport.parse(raceExport(state, state.raceLog(), 2_000));
    expect(exported.lanes.find((l) => l.lane === 'websocket')?.traceId).toBe(serverTrace);
  });
});

describe('lane settings and server settings', () => {
  it('hands each run the validated lane settings and the server’s settings', async () => {
    const { store, ws } = setup(undefined, async () => SETTINGS);
    await store.getState().loadServerSettings();
    store.getState().setLaneSetting('pollIntervalMs', '750');
    store.getState().setHybridPushLane('long-polling');
    store.getState().startRace(1_000);
    expect(ws.last().options).toEqual({
      tag: { lane: 'websocket', runId: expect.stringMatching(/^[0-9a-f]{32}$/) },
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      settings: {
        pollIntervalMs: 750,
        longPollWaitMs: 25_000,
        hybridWaitS: 2,
        hybridPushLane: 'long-polling',
      },
      server: SETTINGS,
    });
  });

  it('does not start while a lane setting is invalid', () => {
    const { store, ws } = setup();
    store.getState().setLaneSetting('longPollWaitMs', '99');
    store.getState().startRace(1_000);
    expect(ws.runs).toHaveLength(0);
  });

  it('fetches the server’s settings once, and says why when it cannot', async () => {
    let calls = 0;
    const { store } = setup(undefined, async () => {
      calls += 1;
      throw new Error('offline');
    });
    await Promise.all([store.getState().loadServerSettings(), store.getState().loadServerSettings()]);
    expect(calls).toBe(1);
    expect(store.getState().server).toEqual({ status: 'error', error: 'offline' });
  });
});

describe('lane reports beyond events', () => {
  it('counts wasted polls and keeps every poll with the frame that showed it, the last one after the end', () => {
    const { store, ws, frame, lane } = setup();
    store.getState().startRace(1_000);
    const { report } = ws.last();
    report({ type: 'poll', poll: { outcome: 'wasted', status: 304, label: '304 Not Modified' }, at: 1_100 });
    frame(1_110);
    report({ type: 'poll', poll: { outcome: 'error', label: 'network' }, at: 1_200 });
    report({ type: 'poll', poll: { outcome: 'news', status: 200, label: '200' }, at: 1_300 });
    report({ type: 'task', task: finishedState(11_000), at: 1_300 });
    report({ type: 'poll', poll: { outcome: 'wasted', status: 304, label: 'late' }, at: 1_301 });
    frame(1_310);
    expect(lane('websocket').wastedPolls).toBe(2);
    expect(lane('websocket').polls?.map((p) => [p.outcome, p.shownAt])).toEqual([
      ['wasted', 1_110],
      ['error', 1_310],
      ['news', 1_310],
      ['wasted', 1_310],
    ]);
  });

  it('records a polled progress value’s age, and marks it as an upper bound that earns no best mark', () => {
    const { store, ws, rr, frame, lane } = setup();
    store.getState().startRace(1_000);
    ws.last().report({
      type: 'task',
      task: runningState(1, 3),
      at: 1_500,
      progress: { serverAt: 10_251, exact: false },
    });
    rr.last().report({ type: 'event', event: progress(3, 1, 10_300), at: 1_500 });
    frame(1_520);
    expect(lane('websocket').progressShown).toEqual([{ serverAt: 10_251, shownAt: 1_520 }]);
    expect(lane('websocket').progressAgeBound).toBe('upper');
    ws.last().report({ type: 'task', task: finishedState(11_000), at: 2_000 });
    rr.last().report({ type: 'task', task: finishedState(11_000), at: 2_000 });
    frame(2_010);
    const { race } = store.getState();
    const measured = (['websocket', 'request-response'] as const).map((id) => ({
      id,
      lane: lane(id),
      metrics: laneMetrics(lane(id), race.actionAt, { offsetMs: 0, uncertaintyMs: 0, rttMs: 0, samples: 1 }),
    }));
    expect(measured[0]?.metrics.staleness?.meanMs).toBeGreaterThan(
      measured[1]?.metrics.staleness?.meanMs ?? 0,
    );
    expect(bestLanes(measured).staleness.size).toBe(0);
  });

  it('keeps the path, reconnects, relay hops and the delivery log', () => {
    const { store, ws, frame, lane } = setup();
    store.getState().startRace(1_000);
    const { report } = ws.last();
    report({ type: 'path', path: { kind: 'pushed', text: '202 → SSE' }, at: 1_010 });
    report({ type: 'reconnect', count: 0, at: 1_015 });
    report({ type: 'reconnect', count: 1, at: 1_020 });
    report({ type: 'event', event: succeeded(2, 10_100), at: 1_030 });
    report({
      type: 'relay',
      hop: { seq: 2, eventAt: 10_100, receivedAt: 10_110, relayedAt: 10_111, attempt: 1 },
      at: 1_030,
    });
    report({ type: 'deliveries', log: { taskId: 'task-0001', subscriber: null, deliveries: [] }, at: 1_040 });
    frame(1_050);
    expect(lane('websocket')).toMatchObject({
      path: { kind: 'pushed', text: '202 → SSE' },
      reconnects: 1,
      hops: [{ seq: 2, eventAt: 10_100, receivedAt: 10_110, relayedAt: 10_111, attempt: 1, shownAt: 1_050 }],
      deliveries: { taskId: 'task-0001', subscriber: null, deliveries: [] },
      status: 'succeeded',
    });
  });
});

describe('clock slice', () => {
  it('reports an error when no ping is answered', async () => {
    const store = createAppStore({
      registry: createRegistry([]),
      now: () => 0,
      schedule: () => {},
      sampleClock: async () => {
        throw new Error('offline');
      },
    });
    await store.getState().measureClock();
    expect(store.getState().clock).toEqual({ status: 'error', error: 'offline' });
  });
});
