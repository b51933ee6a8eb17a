import type { LaneId, WireReport } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { progress, succeeded, taskState } from '../testing/fixtures.ts';
import { createRegistry } from '../transports/registry.ts';
import type { Report, RunOptions, TransportClient } from '../transports/types.ts';
import { createAppStore, type StoreDeps } from './index.ts';
import { START_RENDER_WAIT_MS } from './race-slice.ts';

type Store = ReturnType<typeof createAppStore>;

/** A lane that notes the race's action time as it starts, or throws from its start when told to. */
function lane(id: LaneId, store: () => Store, options: { throws?: boolean } = {}) {
  const starts: Array<{ actionAt: number | undefined; report: Report; options: RunOptions | undefined }> = [];
  let finish: () => void = () => {};
  const client: TransportClient = {
    id,
    run(_spec, report, runOptions) {
      if (options.throws) throw new Error('no socket for you');
      starts.push({ actionAt: store().getState().race.actionAt, report, options: runOptions });
      return {
        cancel: () => {},
        done: new Promise<void>((resolve) => {
          finish = resolve;
        }),
      };
    },
  };
  return { client, starts, finish: () => finish() };
}

function setup(throwing: LaneId[] = [], extra: Partial<StoreDeps> = {}) {
  let store: Store | undefined;
  const get = () => {
    if (!store) throw new Error('no store yet');
    return store;
  };
  const ids: LaneId[] = ['request-response', 'short-polling', 'sse', 'websocket'];
  const lanes = Object.fromEntries(ids.map((id) => [id, lane(id, get, { throws: throwing.includes(id) })]));
  const startFrames: Array<(at: number) => void> = [];
  const frames: Array<() => void> = [];
  let now = 0;
  store = createAppStore({
    registry: createRegistry(Object.values(lanes).map((l) => l.client)),
    now: () => now,
    schedule: (callback) => frames.push(callback),
    startFrame: (callback) => startFrames.push(callback),
    sampleClock: async () => ({ t0: 0, t1: 0, t2: 0, t3: 0 }),
    ...extra,
  });
  const startFrame = (at: number) => {
    now = at + 0.4; // the callback runs a little after the frame's timestamp
    for (const callback of startFrames.splice(0)) callback(at);
  };
  const frame = (at: number) => {
    now = at;
    for (const callback of frames.splice(0)) callback();
  };
  const of = (id: LaneId) => {
    const found = lanes[id];
    if (!found) throw new Error(`no lane ${id}`);
    return found;
  };
  return { store, of, startFrame, frame, startFrames };
}

describe('fair start', () => {
  it('starts no lane on the press, then every lane in one frame with that frame’s time as the action', () => {
    const { store, of, startFrame } = setup();
    store.getState().requestStart({ pressedAt: 990 });
    expect(of('websocket').starts).toHaveLength(0);
    expect(store.getState().race.runId).toBe(0);

    startFrame(1_000.25);
    const actionTimes = (['request-response', 'short-polling', 'sse', 'websocket'] as const).map(
      (id) => of(id).starts.map((s) => s.actionAt)[0],
    );
    expect(actionTimes).toEqual([1_000.25, 1_000.25, 1_000.25, 1_000.25]);
    expect(store.getState().race).toMatchObject({ actionAt: 1_000.25, pressedAt: 990, runId: 1 });
    expect(store.getState().raceLog().actionAt).toBe(1_000.25);
  });

  it('takes a second press before the frame as the same start', () => {
    const { store, of, startFrame, startFrames } = setup();
    store.getState().requestStart();
    store.getState().requestStart();
    expect(startFrames).toHaveLength(1);
    startFrame(500);
    expect(of('sse').starts).toHaveLength(1);
  });

  it('reports a lane whose start throws on its own card, and starts the others all the same', () => {
    const { store, of, startFrame, frame } = setup(['short-polling']);
    store.getState().requestStart();
    startFrame(1_000);
    expect(of('request-response').starts).toHaveLength(1);
    expect(of('sse').starts).toHaveLength(1);
    expect(of('websocket').starts).toHaveLength(1);
    frame(1_016);
    const { lanes } = store.getState().race;
    expect(lanes['short-polling']).toMatchObject({
      status: 'error',
      error: { code: 'CLIENT', message: 'The lane could not start: no socket for you', fromServer: false },
    });
    expect(lanes.websocket?.status).toBe('running');
    expect(lanes.sse?.status).toBe('running');
  });

  it('Run alone races that lane by itself with the current task', () => {
    const { store, of, startFrame } = setup();
    store.getState().setSpecField('steps', '7');
    store.getState().requestStart({ only: 'sse' });
    startFrame(2_000);
    expect(of('sse').starts).toHaveLength(1);
    expect(of('websocket').starts).toHaveLength(0);
    expect(Object.keys(store.getState().race.lanes)).toEqual(['sse']);
    expect(store.getState().race.alone).toBe('sse');
    expect(Object.keys(store.getState().raceLog().lanes)).toEqual(['sse']);
  });

  it('calls the race settled once every lane’s run has settled', async () => {
    const { store, of, startFrame } = setup();
    store.getState().requestStart();
    startFrame(1_000);
    expect(store.getState().race.settled).toBe(false);
    for (const id of ['request-response', 'short-polling', 'sse'] as const) of(id).finish();
    await Promise.resolve();
    expect(store.getState().race.settled).toBe(false);
    const settled = new Promise<void>((resolve) => {
      const stop = store.subscribe((state) => {
        if (state.race.settled) {
          stop();
          resolve();
        }
      });
    });
    of('websocket').finish();
    await settled;
    expect(store.getState().race.settled).toBe(true);
  });
});

describe('race log', () => {
  it('records each exchange, frame, event and reconnect with the page’s times, outside the state', () => {
    const { store, of, startFrame, frame } = setup();
    let notified = 0;
    store.getState().subscribeRaceLog(() => {
      notified += 1;
    });
    store.getState().requestStart();
    startFrame(1_000);
    const { report } = of('websocket').starts[0] ?? { report: () => {} };
    report({ type: 'sent', id: 9, kind: 'socket', label: 'WebSocket upgrade', at: 1_001 });
    report({ type: 'opened', id: 9, at: 1_004 });
    report({ type: 'frame', direction: 'up', bytes: 40, at: 1_005 });
    report({ type: 'event', event: progress(3, 1, 10_020), at: 1_030 });
    report({ type: 'reconnect', count: 0, at: 1_031 });
    report({ type: 'reconnect', count: 1, at: 1_032 });
    report({ type: 'event', event: succeeded(4, 10_040), at: 1_045 });
    report({ type: 'ended', id: 9, outcome: 'closed', at: 1_046 });
    frame(1_050);
    const log = store.getState().raceLog().lanes.websocket;
    expect(log?.exchanges).toEqual([
      {
        id: 9,
        kind: 'socket',
        label: 'WebSocket upgrade',
        sentAt: 1_001,
        openedAt: 1_004,
        endedAt: 1_046,
        outcome: 'closed',
      },
    ]);
    expect(log?.frames).toEqual([{ direction: 'up', bytes: 40, at: 1_005 }]);
    expect(log?.updates.map((u) => [u.label, u.serverAt, u.receivedAt, u.shownAt])).toEqual([
      ['progress 1/4', 10_020, 1_030, 1_050],
      ['succeeded', 10_040, 1_045, 1_050],
    ]);
    expect(log?.reconnects).toEqual([{ count: 1, at: 1_032 }]);
    // One notice, with the first frame: the start's views (timeline, faults) follow its first batch.
    expect(notified).toBe(1);
  });
});

describe('wire tags and the server’s count', () => {
  function report(runId: string, openStreams: number): WireReport {
    return { runId, lanes: {}, openStreams };
  }

  it('tags each lane’s run with its lane and one fresh run id per race', () => {
    let n = 0;
    const { store, of, startFrame } = setup([], { newRunId: () => `race-000${++n}-abcd` });
    store.getState().requestStart();
    startFrame(1_000);
    expect(of('sse').starts[0]?.options?.tag).toEqual({ lane: 'sse', runId: 'race-0001-abcd' });
    expect(of('websocket').starts[0]?.options?.tag).toEqual({ lane: 'websocket', runId: 'race-0001-abcd' });
    expect(store.getState().race.runTag).toBe('race-0001-abcd');
  });

  it('fetches the report once the race has settled, asking again while the server has exchanges open', async () => {
    const asked: string[] = [];
    const answers = [report('r', 2), report('r', 1), report('r', 0)];
    const { store, of, startFrame } = setup([], {
      newRunId: () => 'race-00000001',
      loadWireReport: async (runId) => {
        asked.push(runId);
        const next = answers.shift();
        if (!next) throw new Error('asked too often');
        return next;
      },
      wait: async () => {},
    });
    store.getState().requestStart();
    startFrame(1_000);
    expect(asked).toEqual([]);
    const ready = new Promise<void>((resolve) => {
      const stop = store.subscribe((state) => {
        if (state.race.wire.status === 'ready') {
          stop();
          resolve();
        }
      });
    });
    for (const id of ['request-response', 'short-polling', 'sse', 'websocket'] as const) of(id).finish();
    await ready;
    expect(asked).toEqual(['race-00000001', 'race-00000001', 'race-00000001']);
    expect(store.getState().race.wire).toMatchObject({
      status: 'ready',
      final: true,
      report: { openStreams: 0 },
    });
  });

  it('says why when the server has no count', async () => {
    const { store, of, startFrame } = setup([], {
      loadWireReport: async () => {
        throw new Error('the server has no count of this race (expired, or never seen)');
      },
    });
    store.getState().requestStart();
    startFrame(1_000);
    const failed = new Promise<void>((resolve) => {
      const stop = store.subscribe((state) => {
        if (state.race.wire.status === 'error') {
          stop();
          resolve();
        }
      });
    });
    for (const id of ['request-response', 'short-polling', 'sse', 'websocket'] as const) of(id).finish();
    await failed;
    expect(store.getState().race.wire.error).toMatch(/no count/);
  });
});

describe('a connection opened ahead of the race', () => {
  /** The websocket lane's client gains what a lane that connects ahead has: preconnect, preconnected. */
  function withAhead(extra: Partial<StoreDeps> = {}) {
    let n = 0;
    const made = setup([], { newRunId: () => `race-000${++n}-abcd`, ...extra });
    const client = made.of('websocket').client;
    const opened: Array<{ lane: string; runId: string }> = [];
    let usable: { lane: LaneId; runId: string } | undefined;
    client.preconnect = (tag) => {
      opened.push(tag);
      usable = tag;
    };
    client.preconnected = () => usable;
    return { ...made, opened, lose: () => (usable = undefined) };
  }

  it('is opened for the next race, once, and that race takes its tag', () => {
    const { store, of, startFrame, opened } = withAhead();
    store.getState().prepareNextRace();
    store.getState().prepareNextRace();
    expect(opened).toEqual([{ lane: 'websocket', runId: 'race-0001-abcd' }]);
    store.getState().requestStart();
    startFrame(1_000);
    expect(store.getState().race.runTag).toBe('race-0001-abcd');
    expect(of('sse').starts[0]?.options?.tag).toEqual({ lane: 'sse', runId: 'race-0001-abcd' });
  });

  it('is opened again for the race after, and not while a race runs', () => {
    const { store, of, startFrame, opened } = withAhead();
    store.getState().prepareNextRace();
    store.getState().requestStart();
    startFrame(1_000);
    store.getState().prepareNextRace();
    expect(opened).toHaveLength(1);
    for (const id of ['request-response', 'short-polling', 'sse', 'websocket'] as const) of(id).finish();
    store.getState().applyReports(
      (['request-response', 'short-polling', 'sse', 'websocket'] as const).map((lane) => ({
        runId: 1,
        lane,
        report: { type: 'aborted', at: 1_100 },
      })),
      1_100,
    );
    store.getState().prepareNextRace();
    expect(opened.map((tag) => tag.runId)).toEqual(['race-0001-abcd', 'race-0002-abcd']);
  });

  it('is not taken by a cold start (a guided scenario that counts the connect): the race connects anew', () => {
    const { store, startFrame, opened } = withAhead();
    store.getState().prepareNextRace();
    store.getState().requestStart({ cold: true });
    startFrame(1_000);
    expect(store.getState().race.runTag).toBe('race-0002-abcd');
    expect(opened).toHaveLength(1);
  });

  it('is kept for a later race when a race runs without its lane', () => {
    const { store, startFrame, opened } = withAhead();
    store.getState().prepareNextRace();
    store.getState().requestStart({ only: 'sse' });
    startFrame(1_000);
    expect(store.getState().race.runTag).toBe('race-0002-abcd');
    expect(opened).toHaveLength(1);
  });

  it('is not taken once lost, nor under network conditions other than its own', () => {
    let epoch: string | undefined = 'link-a';
    const { store, startFrame, opened, lose } = withAhead({ connectionEpoch: () => epoch });
    store.getState().prepareNextRace();
    lose();
    store.getState().requestStart();
    startFrame(1_000);
    expect(store.getState().race.runTag).toBe('race-0002-abcd');

    const second = withAhead({ connectionEpoch: () => epoch });
    epoch = 'link-a';
    second.store.getState().prepareNextRace();
    epoch = undefined; // changing: nothing is opened meanwhile
    second.store.getState().prepareNextRace();
    epoch = 'link-b';
    second.store.getState().requestStart();
    second.startFrame(1_000);
    expect(second.store.getState().race.runTag).toBe('race-0002-abcd');
    expect(second.opened).toHaveLength(1);
    expect(opened).toHaveLength(1);
  });
});

describe('the start’s render', () => {
  function held() {
    const calls: string[] = [];
    const made = setup([], {
      renderGate: { hold: () => calls.push('hold'), release: () => calls.push('release') },
    });
    return { ...made, calls };
  }

  it('is held in the start frame, while every lane sends, and comes with the first answer', () => {
    const { store, of, startFrame, frame, calls } = held();
    store.getState().requestStart();
    startFrame(1_000);
    // The state is the race's at once; only its render waits.
    expect(store.getState().race.lanes.sse?.status).toBe('running');
    expect(of('sse').starts).toHaveLength(1);
    expect(calls).toEqual(['hold']);
    of('sse').starts[0]?.report({ type: 'link', detail: 'Creating the task…', at: 1_001 });
    frame(1_016);
    expect(calls).toEqual(['hold']);
    of('sse').starts[0]?.report({ type: 'task', task: taskState(), at: 1_020 });
    frame(1_033);
    expect(calls).toEqual(['hold', 'release']);
    // The frame that rendered the start applied the answer: it is the lane's first feedback.
    expect(store.getState().race.lanes.sse?.firstFeedbackAt).toBe(1_033);
  });

  it('comes without an answer once the wait is over', () => {
    const { store, startFrame, frame, calls } = held();
    store.getState().requestStart();
    startFrame(1_000);
    frame(1_016);
    frame(1_083);
    expect(calls).toEqual(['hold']);
    frame(1_000 + START_RENDER_WAIT_MS);
    expect(calls).toEqual(['hold', 'release']);
    frame(1_116);
    expect(calls).toEqual(['hold', 'release']);
  });
});
