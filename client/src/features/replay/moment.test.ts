import { RACE_EXPORT_VERSION, type RaceExport } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../store/create-store.ts';
import { raceCsv, raceExport } from '../../store/race-view.ts';
import { finishedRace } from '../../testing/finished-race.ts';
import { createRegistry } from '../../transports/registry.ts';
import { type MomentCache, momentAt, prepareRecording } from './moment.ts';
import { readRecording } from './open.ts';

async function recording(): Promise<{ live: Awaited<ReturnType<typeof finishedRace>>; data: RaceExport }> {
  const live = await finishedRace();
  const data = raceExport(live.getState(), live.getState().raceLog(), 2_000, 'http://hall.example:3000');
  if (!data) throw new Error('no export');
  return { live, data: JSON.parse(JSON.stringify(data)) as RaceExport };
}

/** A page's store with no server and no lanes: what a replay runs on. */
function replayStore() {
  return createAppStore({
    registry: createRegistry([]),
    now: () => 0,
    schedule: () => {},
    sampleClock: () => Promise.reject(new Error('no server')),
  });
}

describe('a recording played back', () => {
  it('ends with the live page’s figures: the same metrics table, the same timeline log', async () => {
    const { live, data } = await recording();
    const rec = prepareRecording(data, 'race.json');
    const store = replayStore();
    store.getState().showRecording(rec.info, momentAt(rec, rec.durationMs, new Map()));
    const replayed = store.getState();
    expect(raceCsv(replayed, replayed.raceLog())).toBe(raceCsv(live.getState(), live.getState().raceLog()));
    expect(replayed.race.lanes.websocket?.status).toBe('succeeded');
    expect(replayed.race.lanes['short-polling']).toMatchObject({
      status: 'error',
      detail: 'Error: network failure',
    });
    expect(replayed.race.wire).toEqual(live.getState().race.wire);
    // The same lines; their order within one frame is not in the export (the error's time is not).
    const said = (s: typeof replayed) => s.race.announcements.map((line) => line.text).sort();
    expect(said(replayed)).toEqual(said(live.getState()));
    const updates = (s: typeof replayed) =>
      s.raceLog().lanes.websocket?.updates.map((u) => [u.label, u.receivedAt, u.shownAt]);
    expect(updates(replayed)).toEqual(updates(live.getState()));
    // The export does not keep the exchanges' ids (the transports' own counters).
    const exchanges = (s: typeof replayed) =>
      s.raceLog().lanes.websocket?.exchanges.map(({ id: _, ...x }) => x);
    expect(exchanges(replayed)).toEqual(exchanges(live.getState()));
  });

  it('shows each thing from the frame that showed it, and nothing before', async () => {
    const { data } = await recording();
    const rec = prepareRecording(data, 'race.json');
    const cache: MomentCache = new Map();
    // The race started at 1 000; the first answers were shown at 1 016, the websocket's end at 1 432.
    const start = momentAt(rec, 0, cache);
    expect(start.race.lanes.websocket).toMatchObject({ status: 'running', eventsApplied: 0 });
    expect(start.race.lanes.websocket?.firstFeedbackAt).toBeUndefined();
    expect(start.race.wire.status).toBe('idle');
    const before = momentAt(rec, 15.9, cache);
    expect(before.race.lanes.websocket?.firstFeedbackAt).toBeUndefined();
    const first = momentAt(rec, 16, cache);
    expect(first.race.lanes.websocket).toMatchObject({
      status: 'running',
      firstFeedbackAt: 1_016,
      detail: 'Started',
    });
    expect(first.log.lanes.websocket?.exchanges[0]).toMatchObject({ sentAt: 1_001, openedAt: 1_004 });
    expect(first.log.lanes.websocket?.exchanges[0]?.endedAt).toBeUndefined();
    // Unchanged lanes keep their state object: a card re-renders only when its lane moved.
    expect(momentAt(rec, 17, cache).race.lanes.websocket).toBe(first.race.lanes.websocket);
    const done = momentAt(rec, 432, cache);
    expect(done.race.lanes.websocket).toMatchObject({ status: 'succeeded', finishedShownAt: 1_432 });
    // Both lanes ended in the frame of 1 432: both are read out, as the live page did.
    expect(done.race.announcements.map((a) => a.text)).toEqual([
      'Short polling error: offline.',
      'WebSocket succeeded after 432 milliseconds.',
    ]);
    // Short polling's card stopped on its network error in the frame of 1 432, as the export says.
    expect(done.race.lanes['short-polling']?.status).toBe('error');
    expect(momentAt(rec, 431, cache).race.lanes['short-polling']?.status).toBe('running');
    expect(done.race.lanes.websocket?.recordedMetrics).toMatchObject({
      firstFeedbackMs: 16,
      totalPerceivedMs: 432,
    });
  });

  it('says where and when it was made', async () => {
    const { data } = await recording();
    expect(prepareRecording(data, 'race.json').info).toEqual({
      source: 'race.json',
      exportedAt: 2_000,
      origin: 'http://hall.example:3000',
      runTag: 'race-00000042',
    });
  });
});

describe('opening a recording', () => {
  it('refuses what is not JSON, not an export, or incomplete, in words', async () => {
    expect(readRecording('{oops', 'a.json')).toEqual({
      ok: false,
      message: 'a.json is not a recording: it is not JSON.',
    });
    expect(readRecording('{"format":"other"}', 'b.json')).toMatchObject({
      ok: false,
      message: /b\.json is not a recording/,
    });
    const { data } = await recording();
    const broken = { ...data, lanes: 'none' };
    expect(readRecording(JSON.stringify(broken), 'c.json')).toMatchObject({
      ok: false,
      message: /c\.json is not a complete recording of version 1: .* at lanes\./,
    });
  });

  it('refuses a newer version naming both, and an unknown older one naming it', async () => {
    const { data } = await recording();
    const newer = readRecording(JSON.stringify({ ...data, version: RACE_EXPORT_VERSION + 1 }), 'n.json');
    expect(newer).toMatchObject({ ok: false });
    if (!newer.ok) {
      expect(newer.message).toContain(`format version ${RACE_EXPORT_VERSION + 1}`);
      expect(newer.message).toContain(`version ${RACE_EXPORT_VERSION})`);
    }
    expect(readRecording(JSON.stringify({ ...data, version: 0 }), 'o.json')).toMatchObject({
      ok: false,
      message: /format version 0, which this page cannot replay/,
    });
    expect(readRecording(JSON.stringify(data), 'ok.json')).toMatchObject({ ok: true });
  });
});

describe('the store while a recording is shown', () => {
  it('cancels a live race still running when a recording is opened', async () => {
    const { data } = await recording();
    const rec = prepareRecording(data, 'race.json');
    let cancels = 0;
    const store = createAppStore({
      registry: createRegistry([
        {
          id: 'websocket',
          run: () => ({
            cancel: () => {
              cancels += 1;
            },
            done: new Promise<void>(() => {}),
          }),
        },
      ]),
      now: () => 0,
      schedule: () => {},
      sampleClock: () => Promise.reject(new Error('no server')),
    });
    store.getState().setLaneSelected('websocket', true);
    store.getState().startRace(0);
    expect(store.getState().race.lanes.websocket?.status).toBe('running');
    store.getState().showRecording(rec.info, momentAt(rec, 0, new Map()));
    expect(cancels).toBe(1);
  });

  it('starts, connects and measures nothing live; Back to live empties the race and measures the clock', async () => {
    const { data } = await recording();
    const rec = prepareRecording(data, 'race.json');
    let runs = 0;
    let pings = 0;
    let wireReads = 0;
    const store = createAppStore({
      registry: createRegistry([
        {
          id: 'websocket',
          run() {
            runs += 1;
            return { cancel: () => {}, done: Promise.resolve() };
          },
          preconnect() {
            runs += 1;
          },
        },
      ]),
      now: () => 0,
      schedule: (callback) => callback(),
      startFrame: (callback) => callback(0),
      sampleClock: async () => {
        pings += 1;
        return { t0: 0, t1: 0, t2: 0, t3: 0 };
      },
      loadWireReport: async () => {
        wireReads += 1;
        throw new Error('no server');
      },
    });
    store.getState().showRecording(rec.info, momentAt(rec, rec.durationMs, new Map()));
    store.getState().requestStart();
    store.getState().startRace();
    store.getState().prepareNextRace();
    await store.getState().loadWireReport();
    await store.getState().measureClock();
    expect({ runs, pings, wireReads }).toEqual({ runs: 0, pings: 0, wireReads: 0 });
    // The recording's own estimate is shown, and its lanes.
    expect(store.getState().clock.estimate).toEqual(data.clock);
    expect(store.getState().selectedLanes).toEqual(['short-polling', 'websocket']);

    store.getState().leaveRecording();
    await Promise.resolve();
    const { race } = store.getState();
    expect(race.recording).toBeUndefined();
    expect(race.lanes).toEqual({});
    expect(store.getState().raceLog().lanes).toEqual({});
    expect(pings).toBeGreaterThan(0);
  });
});
