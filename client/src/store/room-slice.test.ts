import { createHmac } from 'node:crypto';
import {
  type Fault,
  type LaneId,
  type Participant,
  type RaceAggregate,
  RaceResult,
  ROOM_EVENTS,
  RoomRaceExport,
  type RoomScenario,
  type RoomState,
  type TaskSpec,
} from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import type { RoomConnection, RoomPushEvent, RoomRequestEvent } from '../services/room-connection.ts';
import { credentialsKey, loadCredentials, memoryStorage } from '../services/room-storage.ts';
import { succeeded, taskState } from '../testing/fixtures.ts';
import { createRegistry } from '../transports/registry.ts';
import type { Report, TransportClient } from '../transports/types.ts';
import { createAppStore } from './index.ts';
import { laneMetrics } from './metrics.ts';
import { metricsTable } from './race-view.ts';
import { participantLabel, problemText, raceResultOf, scenarioFromSettings } from './room-slice.ts';

const CODE = 'ABCD2345';
const SECRET = 'presenter-secret-0123456789abcdef';
const TOKEN_1 = 'participant-token-aaaaaaaaaaaaaaa';
const TOKEN_2 = 'participant-token-bbbbbbbbbbbbbbb';
const NONCE = 'nonce-0123456789abcdef';
const SCENARIO: RoomScenario = {
  spec: { durationMs: 1_500, steps: 5 },
  lanes: ['request-response', 'websocket'],
  laneSettings: { longPollWaitMs: 20_000, hybridWaitS: 2, hybridPushLane: 'sse' },
};

function participant(id: string, overrides: Partial<Participant> = {}): Participant {
  return {
    id,
    name: null,
    device: 'phone',
    role: 'audience',
    connected: true,
    clock: null,
    joinedAt: 1,
    ...overrides,
  };
}

function roomState(overrides: Partial<RoomState> = {}): RoomState {
  return {
    code: CODE,
    createdAt: 1,
    idleMs: 60_000,
    maxParticipants: 500,
    participants: [participant('presenter1', { role: 'presenter', device: 'desktop', name: 'Ada' })],
    scenario: SCENARIO,
    race: null,
    ...overrides,
  };
}

type Responder = (payload: unknown) => unknown;

/** A room socket the test speaks for: answers requests from `responders`, pushes events on demand. */
function fakeConnection(responders: Partial<Record<RoomRequestEvent, Responder>>) {
  const listeners = new Map<string, (payload: unknown) => void>();
  const sent: Array<{ event: RoomRequestEvent; payload: unknown }> = [];
  let status: ((s: 'connected' | 'disconnected' | 'failed') => void) | undefined;
  let closed = 0;
  const connection: RoomConnection = {
    async request(event, payload) {
      sent.push({ event, payload });
      const responder = responders[event];
      if (!responder) throw new Error(`no answer for ${event}`);
      return responder(payload);
    },
    on(event, listener) {
      listeners.set(event, listener);
    },
    onStatus(listener) {
      status = listener;
    },
    close() {
      closed += 1;
    },
  };
  return {
    connection,
    sent,
    push(event: RoomPushEvent, payload: unknown) {
      listeners.get(event)?.(payload);
    },
    status(s: 'connected' | 'disconnected') {
      status?.(s);
    },
    closed: () => closed,
  };
}

/** A lane client whose runs the test finishes; `done` settles when the test says so. */
function fakeClient(id: LaneId) {
  const runs: Array<{ spec: TaskSpec; report: Report; settle: () => void }> = [];
  const client: TransportClient = {
    id,
    run(spec, report) {
      let settle = () => {};
      const done = new Promise<void>((resolve) => {
        settle = resolve;
      });
      runs.push({ spec, report, settle });
      return { done, cancel: () => {} };
    },
  };
  return { client, runs };
}

function setup(
  options: {
    storage?: ReturnType<typeof memoryStorage>;
    initialRoomCode?: string;
    injectFault?: (fault: Fault) => Promise<string>;
  } = {},
) {
  const rr = fakeClient('request-response');
  const ws = fakeClient('websocket');
  const frames: Array<() => void> = [];
  const timers: Array<{ callback: () => void; ms: number; cancelled: boolean }> = [];
  let now = 0;
  const storage = options.storage ?? memoryStorage();
  const connections: Array<ReturnType<typeof fakeConnection>> = [];
  let responders: Partial<Record<RoomRequestEvent, Responder>> = {};
  const store = createAppStore({
    registry: createRegistry([rr.client, ws.client]),
    now: () => now,
    schedule: (callback) => frames.push(callback),
    // Server 1 000 ms ahead, 20 ms round trip.
    sampleClock: async () => ({ t0: 0, t1: 1_010, t2: 1_010, t3: 20 }),
    room: {
      connect: () => {
        const fake = fakeConnection(responders);
        connections.push(fake);
        return fake.connection;
      },
      storage,
      device: () => 'phone',
      ...(options.injectFault ? { injectFault: options.injectFault } : {}),
      setTimer: (callback, ms) => {
        const timer = { callback, ms, cancelled: false };
        timers.push(timer);
        return () => {
          timer.cancelled = true;
        };
      },
    },
    ...(options.initialRoomCode ? { initialRoomCode: options.initialRoomCode } : {}),
  });
  const frame = (at: number) => {
    now = at;
    for (const callback of frames.splice(0)) callback();
  };
  const answer = (next: Partial<Record<RoomRequestEvent, Responder>>) => {
    responders = next;
  };
  const socket = () => {
    const last = connections.at(-1);
    if (!last) throw new Error('no room connection was opened');
    return last;
  };
  return { store, rr, ws, frame, storage, answer, socket, connections, timers };
}

/** Lets awaited acks resolve. */
const settleMicrotasks = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const audienceJoinAck = {
  ok: true,
  room: roomState({
    participants: [
      participant('presenter1', { role: 'presenter', device: 'desktop', name: 'Ada' }),
      participant('phone-one'),
    ],
  }),
  self: 'phone-one',
  role: 'audience',
  participantToken: TOKEN_1,
};

describe('room slice: building a RaceResult from the page’s finished race', () => {
  it('reports per lane the figures the page’s own metrics table shows', async () => {
    const { store, rr, ws, frame } = setup();
    await store.getState().measureClock();
    store.getState().startRace(1_000);
    const wsRun = ws.runs[0];
    const rrRun = rr.runs[0];
    if (!wsRun || !rrRun) throw new Error('lanes did not start');
    wsRun.report({ type: 'wire', delta: { requests: 1, bytesUp: 410, bytesDown: 1_203 }, at: 1_001 });
    wsRun.report({ type: 'task', task: taskState(), at: 1_025 });
    frame(1_030);
    wsRun.report({ type: 'event', event: succeeded(2, 3_000), at: 2_035 });
    rrRun.report({ type: 'wire', delta: { requests: 1, bytesUp: 300 }, at: 1_002 });
    rrRun.report({
      type: 'error',
      error: { code: 'NETWORK', message: 'offline', fromServer: false },
      at: 2_050,
    });
    frame(2_040.5);

    const state = store.getState();
    const result = raceResultOf('race-000001', ['request-response', 'websocket'], state);
    expect(RaceResult.safeParse(result).success).toBe(true);

    const ws1 = result.lanes.find((l) => l.lane === 'websocket');
    const metrics = laneMetrics(
      state.race.lanes.websocket ?? (undefined as never),
      state.race.actionAt,
      state.clock.estimate,
    );
    expect(ws1).toEqual({
      lane: 'websocket',
      status: 'succeeded',
      firstFeedbackMs: metrics.firstFeedbackMs,
      totalPerceivedMs: metrics.totalPerceivedMs,
      completionLagMs: metrics.completionLagMs,
      requests: 1,
      bytesUp: 410,
      bytesDown: 1_203,
    });
    // The same numbers as the table's cells: the phone's page and the room's aggregate agree.
    const { rows } = metricsTable(state, state.raceLog());
    const row = rows.find((r) => r.id === 'websocket');
    expect(ws1?.totalPerceivedMs).toBe(row?.cells.totalPerceived.value);
    expect(ws1?.totalPerceivedMs).toBe(1_040.5);
    expect(ws1?.completionLagMs).toBe(row?.cells.completionLag.value);

    // The server's own lateness for the lane's task travels with its figures, for the aggregate.
    const late = setup();
    late.store.getState().startRace(1_000);
    const lateRun = late.ws.runs[0];
    if (!lateRun) throw new Error('websocket did not start');
    lateRun.report({ type: 'event', event: { ...succeeded(2, 3_000), dueAt: 2_860 }, at: 2_035 });
    late.frame(2_040);
    expect(raceResultOf('race-000001', ['websocket'], late.store.getState()).lanes[0]?.serverLatenessMs).toBe(
      140,
    );

    // So does its queue time, as the server stamped it (queued → started), for the aggregate.
    const queued = setup();
    queued.store.getState().startRace(1_000);
    const queuedRun = queued.ws.runs[0];
    if (!queuedRun) throw new Error('websocket did not start');
    const taskId = succeeded(2, 3_000).taskId;
    const spec = { durationMs: 1_000, steps: 1 };
    queuedRun.report({
      type: 'event',
      event: { type: 'queued', taskId, seq: 1, at: 1_100, spec, position: 2 },
      at: 1_101,
    });
    queuedRun.report({ type: 'event', event: { type: 'started', taskId, seq: 2, at: 1_850 }, at: 1_851 });
    queuedRun.report({ type: 'event', event: succeeded(3, 3_000), at: 2_035 });
    queued.frame(2_040);
    expect(raceResultOf('race-000001', ['websocket'], queued.store.getState()).lanes[0]?.queueMs).toBe(750);

    // A figure past the schema's bounds is left out; the rest of the result still goes.
    const huge = setup();
    huge.store.getState().startRace(1_000);
    const hugeRun = huge.ws.runs[0];
    if (!hugeRun) throw new Error('websocket did not start');
    hugeRun.report({ type: 'wire', delta: { requests: 1, bytesDown: 2e9 }, at: 1_001 });
    hugeRun.report({ type: 'event', event: succeeded(2, 3_000), at: 2_035 });
    huge.frame(2_040);
    const bounded = raceResultOf('race-000001', ['websocket'], huge.store.getState());
    expect(RaceResult.safeParse(bounded).success).toBe(true);
    expect(bounded.lanes[0]?.bytesDown).toBeUndefined();
    expect(bounded.lanes[0]?.requests).toBe(1);

    // An errored lane says so, with its wire cost and no times (it never showed the task's end).
    expect(result.lanes.find((l) => l.lane === 'request-response')).toEqual({
      lane: 'request-response',
      status: 'error',
      requests: 1,
      bytesUp: 300,
    });
  });

  it('leaves out a byte total that is only a lower bound, and marks a lane the page did not run as error', () => {
    const { store, ws, frame } = setup();
    store.getState().setLaneSelected('request-response', false);
    store.getState().startRace(1_000);
    const run = ws.runs[0];
    if (!run) throw new Error('websocket did not start');
    run.report({
      type: 'wire',
      delta: { requests: 2, bytesUp: 100, bytesDown: 900, unmeasuredDown: 1 },
      at: 1_001,
    });
    run.report({ type: 'event', event: succeeded(2, 3_000), at: 1_500 });
    frame(1_600);
    const result = raceResultOf('race-000002', ['websocket', 'sse'], store.getState());
    expect(result.lanes).toEqual([
      // No clock estimate yet: completion lag is not measured, so not reported.
      {
        lane: 'websocket',
        status: 'succeeded',
        firstFeedbackMs: 600,
        totalPerceivedMs: 600,
        requests: 2,
        bytesUp: 100,
      },
      { lane: 'sse', status: 'error' },
    ]);
  });

  it('turns the page’s race settings into a scenario the shared schema accepts', () => {
    const { store } = setup();
    store.getState().setSpecField('durationMs', '2500');
    store.getState().setSpecField('steps', '10');
    const made = scenarioFromSettings(store.getState());
    expect(made).toMatchObject({
      ok: true,
      scenario: { spec: { durationMs: 2_500, steps: 10 }, lanes: ['request-response', 'websocket'] },
    });
    store.getState().setSpecField('steps', '0');
    expect(scenarioFromSettings(store.getState()).ok).toBe(false);
  });
});

describe('room slice: presenter', () => {
  const createAck = {
    ok: true,
    room: roomState(),
    self: 'presenter1',
    presenterSecret: SECRET,
    participantToken: TOKEN_1,
  };

  it('creates a room with the page’s settings as scenario and keeps the secret out of the state', async () => {
    const { store, answer, socket, storage } = setup();
    answer({ [ROOM_EVENTS.create]: () => createAck });
    await store.getState().createRoom();
    const { room } = store.getState();
    expect(room).toMatchObject({ phase: 'joined', role: 'presenter', code: CODE, screen: 'room' });
    const request = socket().sent[0];
    expect(request?.event).toBe(ROOM_EVENTS.create);
    expect(request?.payload).toMatchObject({
      device: 'phone',
      scenario: { spec: { durationMs: 3_000, steps: 20 }, lanes: ['request-response', 'websocket'] },
    });
    expect(loadCredentials(storage, CODE)).toEqual({
      participantId: 'presenter1',
      token: TOKEN_1,
      presenterSecret: SECRET,
    });
    expect(JSON.stringify(store.getState().room)).not.toContain(SECRET);
  });

  it('after a reload, rejoins from `?room=` with a fresh proof over the new nonce and keeps presenter rights', async () => {
    const storage = memoryStorage();
    const first = setup({ storage });
    first.answer({ [ROOM_EVENTS.create]: () => createAck });
    await first.store.getState().createRoom();

    // The reload: a new page (a new store) with the same localStorage, opened at ?room=ABCD-2345.
    const second = setup({ storage, initialRoomCode: 'ABCD-2345' });
    expect(second.store.getState().room).toMatchObject({ screen: 'room', joinCode: 'ABCD-2345' });
    second.answer({
      [ROOM_EVENTS.hello]: () => ({ ok: true, nonce: NONCE }),
      [ROOM_EVENTS.join]: () => ({
        ok: true,
        room: roomState(),
        self: 'presenter1',
        role: 'presenter',
        participantToken: TOKEN_2,
      }),
    });
    await second.store.getState().rejoinFromLink();

    const [hello, join] = second.socket().sent;
    expect(hello?.event).toBe(ROOM_EVENTS.hello);
    expect(join?.event).toBe(ROOM_EVENTS.join);
    const expectedProof = createHmac('sha256', Buffer.from(SECRET, 'utf8'))
      .update(`${CODE}:${NONCE}`)
      .digest('hex');
    expect(join?.payload).toEqual({
      code: CODE,
      device: 'phone',
      presenterProof: expectedProof,
      resume: { participantId: 'presenter1', token: TOKEN_1 },
    });
    expect(JSON.stringify(join?.payload)).not.toContain(SECRET);
    expect(second.store.getState().room).toMatchObject({ phase: 'joined', role: 'presenter' });
    // The new token replaces the old; the secret stays.
    expect(loadCredentials(storage, CODE)).toEqual({
      participantId: 'presenter1',
      token: TOKEN_2,
      presenterSecret: SECRET,
    });
  });

  it('after a dropped connection, rejoins by itself with a new proof', async () => {
    const { store, answer, socket } = setup();
    let nonce = 0;
    answer({
      [ROOM_EVENTS.create]: () => createAck,
      [ROOM_EVENTS.hello]: () => ({ ok: true, nonce: `nonce-number-${++nonce}-abcdefgh` }),
      [ROOM_EVENTS.join]: () => ({
        ok: true,
        room: roomState(),
        self: 'presenter1',
        role: 'presenter',
        participantToken: TOKEN_2,
      }),
    });
    await store.getState().createRoom();
    socket().status('connected');
    socket().status('disconnected');
    expect(store.getState().room.connection).toBe('offline');
    socket().status('connected');
    await settleMicrotasks();
    const events = socket().sent.map((s) => s.event);
    expect(events).toEqual([ROOM_EVENTS.create, ROOM_EVENTS.hello, ROOM_EVENTS.join]);
    const join = socket().sent[2]?.payload as { presenterProof: string };
    expect(join.presenterProof).toBe(
      createHmac('sha256', SECRET).update(`${CODE}:nonce-number-1-abcdefgh`).digest('hex'),
    );
  });

  it('shows a refusal from an ack with its code, and stays presenter', async () => {
    const { store, answer } = setup();
    answer({
      [ROOM_EVENTS.create]: () => createAck,
      [ROOM_EVENTS.startRace]: () => ({ ok: false, error: { code: 'RATE_LIMITED', message: 'slow down' } }),
    });
    await store.getState().createRoom();
    await store.getState().startForEveryone();
    expect(store.getState().room.problem).toEqual({
      action: 'start',
      code: 'RATE_LIMITED',
      message: 'slow down',
    });
    expect(store.getState().room.pending).toBeUndefined();
    expect(store.getState().room.role).toBe('presenter');
  });

  it('records the room’s race as the presenter received it, for its export', async () => {
    const { store, answer, socket, frame } = setup();
    answer({
      [ROOM_EVENTS.create]: () => createAck,
      [ROOM_EVENTS.startRace]: () => ({
        ok: true,
        race: { raceId: 'race-000009', scenario: SCENARIO, startedAt: 5, expected: 1 },
      }),
    });
    await store.getState().createRoom();
    expect(store.getState().roomRaceExport(1_000)).toBeUndefined();
    frame(100);
    await store.getState().startForEveryone();
    frame(150);
    socket().push(ROOM_EVENTS.raceProgress, { raceId: 'race-000009', expected: 1, reported: 0 });
    frame(300);
    const aggregate: RaceAggregate = { raceId: 'race-000009', expected: 1, reported: 1, lanes: [] };
    socket().push(ROOM_EVENTS.aggregate, aggregate);
    const exported = RoomRaceExport.parse(store.getState().roomRaceExport(1_000, 'http://hall.example:3000'));
    expect(exported).toMatchObject({
      format: 'transport-lab/room-race',
      version: 1,
      exportedAt: 1_000,
      origin: 'http://hall.example:3000',
      code: CODE,
      race: { raceId: 'race-000009' },
      startedAt: 100,
      updates: [
        { receivedAt: 150, progress: { reported: 0 } },
        { receivedAt: 300, aggregate },
      ],
    });
  });

  it('keeps the aggregate of the current race only, and announces who reported', async () => {
    const { store, answer, socket } = setup();
    answer({
      [ROOM_EVENTS.create]: () => createAck,
      [ROOM_EVENTS.startRace]: () => ({
        ok: true,
        race: { raceId: 'race-000009', scenario: SCENARIO, startedAt: 5, expected: 2 },
      }),
    });
    await store.getState().createRoom();
    socket().push(ROOM_EVENTS.presence, [
      { kind: 'joined', participant: participant('phone-one', { name: 'Bea' }) },
    ]);
    await store.getState().startForEveryone();
    const aggregate: RaceAggregate = {
      raceId: 'race-000009',
      expected: 2,
      reported: 1,
      lanes: [
        {
          lane: 'websocket',
          succeeded: 1,
          failed: 0,
          metrics: {
            totalPerceivedMs: {
              count: 1,
              min: 1_600,
              median: 1_600,
              p95: 1_600,
              max: 1_600,
              mean: 1_600,
              values: [{ participantId: 'phone-one', value: 1_600 }],
              outliers: [],
            },
          },
        },
      ],
    };
    socket().push(ROOM_EVENTS.aggregate, { ...aggregate, raceId: 'race-000008' });
    expect(store.getState().room.aggregate).toBeUndefined();
    socket().push(ROOM_EVENTS.aggregate, aggregate);
    expect(store.getState().room.aggregate).toEqual(aggregate);
    expect(store.getState().room.progress).toEqual({ raceId: 'race-000009', expected: 2, reported: 1 });
    const texts = store.getState().room.announcements.map((a) => a.text);
    expect(texts).toContain('Bea joined on a phone.');
    expect(texts).toContain('Results from Bea: 1 of 2 reported.');
  });
});

describe('room slice: parsing what the server sends', () => {
  it('drops and counts a payload the shared schemas refuse; the state is untouched', async () => {
    const { store, answer, socket } = setup();
    answer({ [ROOM_EVENTS.join]: () => audienceJoinAck });
    store.getState().setRoomJoinCode('abcd-2345');
    await store.getState().joinRoom();
    const before = store.getState().room.participants;
    socket().push(ROOM_EVENTS.presence, [{ kind: 'joined', participant: { id: 'x', name: '<b>' } }]);
    socket().push(ROOM_EVENTS.presence, [{ kind: 'exploded' }]);
    socket().push(ROOM_EVENTS.race, { raceId: 'no spaces allowed', expected: -1 });
    socket().push(ROOM_EVENTS.aggregate, { raceId: 'race-000001', lanes: 'all' });
    socket().push(ROOM_EVENTS.ended, { reason: 'bored' });
    const { room } = store.getState();
    expect(room.ignoredMessages).toBe(5);
    expect(room.participants).toBe(before);
    expect(room.phase).toBe('joined');
    expect(room.race).toBeUndefined();
  });

  it('applies presence batches in order: joined, updated, left; a join it already knows is not announced', async () => {
    const { store, answer, socket } = setup();
    answer({ [ROOM_EVENTS.join]: () => audienceJoinAck });
    store.getState().setRoomJoinCode(CODE);
    await store.getState().joinRoom();
    socket().push(ROOM_EVENTS.presence, [
      { kind: 'joined', participant: participant('phone-two') },
      // Its own record, echoed to everyone in the room, and one the join answer already listed.
      {
        kind: 'updated',
        participant: participant('phone-one', { clock: { offsetMs: 1, uncertaintyMs: 2, rttMs: 3 } }),
      },
      {
        kind: 'joined',
        participant: participant('presenter1', { role: 'presenter', device: 'desktop', name: 'Ada' }),
      },
    ]);
    socket().push(ROOM_EVENTS.presence, [
      { kind: 'updated', participant: participant('phone-two', { connected: false }) },
    ]);
    expect(store.getState().room.participants.map((p) => [p.id, p.connected])).toEqual([
      ['presenter1', true],
      ['phone-one', true],
      ['phone-two', false],
    ]);
    expect(store.getState().room.participants[1]?.clock).toEqual({ offsetMs: 1, uncertaintyMs: 2, rttMs: 3 });
    socket().push(ROOM_EVENTS.presence, [{ kind: 'left', participantId: 'phone-two' }]);
    expect(store.getState().room.participants.map((p) => p.id)).toEqual(['presenter1', 'phone-one']);
    expect(store.getState().room.announcements.map((a) => a.text)).toEqual([
      'You joined room ABCD2345.',
      'Anonymous phon joined on a phone.',
      'Anonymous phon left the room.',
    ]);
  });

  it('refuses a malformed code before asking the server', async () => {
    const { store, connections } = setup();
    store.getState().setRoomJoinCode('ABC');
    await store.getState().joinRoom();
    expect(connections).toHaveLength(0);
    expect(store.getState().room.problem?.code).toBe('VALIDATION_FAILED');
  });

  it.each([
    ['NOT_FOUND', 'no such room'],
    ['ROOM_FULL', 'full'],
    ['ROOM_ENDED', 'gone'],
    ['RATE_LIMITED', 'too many'],
  ])('shows a %s join refusal and closes the socket', async (code, message) => {
    const { store, answer, socket } = setup();
    answer({ [ROOM_EVENTS.join]: () => ({ ok: false, error: { code, message } }) });
    store.getState().setRoomJoinCode(CODE);
    await store.getState().joinRoom();
    expect(store.getState().room).toMatchObject({
      phase: 'idle',
      problem: { action: 'join', code, message },
    });
    expect(socket().closed()).toBe(1);
  });

  it('forgets a room’s credentials when rejoining finds it gone, and keeps them on another refusal', async () => {
    const storage = memoryStorage();
    const first = setup({ storage });
    first.answer({ [ROOM_EVENTS.join]: () => audienceJoinAck });
    first.store.getState().setRoomJoinCode(CODE);
    await first.store.getState().joinRoom();

    const limited = setup({ storage, initialRoomCode: CODE });
    limited.answer({
      [ROOM_EVENTS.join]: () => ({ ok: false, error: { code: 'RATE_LIMITED', message: 'wait' } }),
    });
    await limited.store.getState().rejoinFromLink();
    expect(loadCredentials(storage, CODE)).toBeDefined();

    const gone = setup({ storage, initialRoomCode: CODE });
    gone.answer({
      [ROOM_EVENTS.join]: () => ({
        ok: false,
        error: { code: 'NOT_FOUND', message: 'No room has this code.' },
      }),
    });
    await gone.store.getState().rejoinFromLink();
    expect(gone.store.getState().room.problem?.code).toBe('NOT_FOUND');
    expect(loadCredentials(storage, CODE)).toBeUndefined();
  });

  it("says a bound's refusal in the server's own sentence, and any other refusal in the page's words", () => {
    const seats =
      'This network already holds 25 of this room’s seats, its share: the rest are kept for other devices. Try again in 2 s, or when someone on it leaves.';
    expect(problemText({ action: 'join', code: 'RATE_LIMITED', message: seats })).toBe(seats);
    expect(problemText({ action: 'join', code: 'RATE_LIMITED', message: '' })).toBe(
      'Too many attempts: wait a minute, then try again.',
    );
    expect(problemText({ action: 'join', code: 'ROOM_FULL', message: 'This room holds 50 people.' })).toBe(
      'This room is full.',
    );
  });

  it('names an anonymous participant by the first letters of its id', () => {
    expect(participantLabel({ id: 'k3J9xxxx', name: null })).toBe('Anonymous k3J9');
    expect(participantLabel({ id: 'k3J9xxxx', name: 'Kim' })).toBe('Kim');
  });
});

describe('room slice: audience runs the room’s race', () => {
  it('takes the scenario as its settings, races it, and reports once every lane has ended and settled', async () => {
    const { store, answer, socket, frame, rr, ws } = setup();
    answer({
      [ROOM_EVENTS.join]: () => audienceJoinAck,
      [ROOM_EVENTS.clock]: () => ({ ok: true }),
      [ROOM_EVENTS.result]: () => ({ ok: true }),
    });
    store.getState().setRoomJoinCode(CODE);
    store.getState().setRoomName('  Bea ');
    await store.getState().joinRoom();
    expect(socket().sent[0]?.payload).toEqual({ code: CODE, device: 'phone', name: 'Bea' });

    // The clock, once measured, is reported to the room.
    await store.getState().measureClock();
    await settleMicrotasks();
    const clock = socket().sent.find((s) => s.event === ROOM_EVENTS.clock);
    expect(clock?.payload).toEqual({ offsetMs: 1_000, uncertaintyMs: 10, rttMs: 20 });
    // The server tells the others; this page's own row takes it from the ack.
    expect(store.getState().room.participants.find((p) => p.id === 'phone-one')?.clock).toEqual({
      offsetMs: 1_000,
      uncertaintyMs: 10,
      rttMs: 20,
    });

    socket().push(ROOM_EVENTS.race, {
      raceId: 'race-000042',
      scenario: { ...SCENARIO, spec: { durationMs: 1_500, steps: 5, failAtStep: 4 } },
      startedAt: 10,
      expected: 2,
    });
    expect(store.getState().specInput).toEqual({ durationMs: '1500', steps: '5', failAtStep: '4' });
    expect(store.getState().room.mine).toMatchObject({ raceId: 'race-000042', status: 'running' });
    frame(1_000); // the fair start's frame
    expect(ws.runs[0]?.spec).toEqual({ durationMs: 1_500, steps: 5, failAtStep: 4 });
    const wsRun = ws.runs[0];
    const rrRun = rr.runs[0];
    if (!wsRun || !rrRun) throw new Error('lanes did not start');
    wsRun.report({ type: 'event', event: succeeded(2, 3_000), at: 2_000 });
    rrRun.report({ type: 'event', event: succeeded(2, 3_100), at: 2_100 });
    frame(2_200);
    // Ended, but the byte counts have not settled: nothing sent yet.
    expect(socket().sent.some((s) => s.event === ROOM_EVENTS.result)).toBe(false);
    wsRun.settle();
    rrRun.settle();
    await settleMicrotasks();

    const sent = socket().sent.find((s) => s.event === ROOM_EVENTS.result);
    expect(sent?.payload).toEqual(raceResultOf('race-000042', SCENARIO.lanes, store.getState()));
    expect(sent?.payload).toMatchObject({
      raceId: 'race-000042',
      lanes: [
        { lane: 'request-response', status: 'succeeded', totalPerceivedMs: 1_200 },
        { lane: 'websocket', status: 'succeeded', totalPerceivedMs: 1_200 },
      ],
    });
    expect(store.getState().room.mine?.status).toBe('reported');
  });

  it("applies the presenter's fault to its own run of the room's race, and no other", async () => {
    const injected: Fault[] = [];
    const { store, answer, socket, frame } = setup({
      injectFault: async (fault) => {
        injected.push(fault);
        return 'Dropped 1 connection of WebSocket.';
      },
    });
    answer({ [ROOM_EVENTS.join]: () => audienceJoinAck, [ROOM_EVENTS.result]: () => ({ ok: true }) });
    store.getState().setRoomJoinCode(CODE);
    await store.getState().joinRoom();
    const fault = { kind: 'drop-connections', lane: 'websocket' } as const;
    // Before this page runs the race: nothing to apply it to.
    socket().push(ROOM_EVENTS.fault, { raceId: 'race-000042', fault, at: 5 });
    await settleMicrotasks();
    expect(injected).toEqual([]);

    socket().push(ROOM_EVENTS.race, {
      raceId: 'race-000042',
      scenario: SCENARIO,
      startedAt: 10,
      expected: 2,
    });
    frame(1_000);
    const runTag = store.getState().race.runTag;
    expect(runTag).toBeDefined();
    socket().push(ROOM_EVENTS.fault, { raceId: 'race-000099', fault, at: 6 }); // another race
    socket().push(ROOM_EVENTS.fault, { raceId: 'race-000042', fault: { kind: 'restart-server' }, at: 7 }); // not a room fault
    socket().push(ROOM_EVENTS.fault, { raceId: 'race-000042', fault, at: 8 });
    await settleMicrotasks();
    expect(injected).toEqual([{ ...fault, runId: runTag }]);
    expect(store.getState().room.announcements.at(-1)?.text).toBe(
      'The presenter injected a fault: Dropped 1 connection of WebSocket.',
    );
  });

  it('reports every lane as error when the race could not start', async () => {
    const { store, answer, socket, timers } = setup();
    answer({ [ROOM_EVENTS.join]: () => audienceJoinAck, [ROOM_EVENTS.result]: () => ({ ok: true }) });
    store.getState().setRoomJoinCode(CODE);
    await store.getState().joinRoom();
    socket().push(ROOM_EVENTS.race, {
      raceId: 'race-000043',
      scenario: { ...SCENARIO, lanes: ['sse'] },
      startedAt: 10,
      expected: 1,
    });
    await settleMicrotasks();
    expect(timers).toHaveLength(0);
    const sent = socket().sent.find((s) => s.event === ROOM_EVENTS.result);
    expect(sent?.payload).toEqual({ raceId: 'race-000043', lanes: [{ lane: 'sse', status: 'error' }] });
  });

  it('after a reload mid-race, runs the room’s race again and reports it; after a reload once reported, does not', async () => {
    const storage = memoryStorage();
    const race = {
      raceId: 'race-000044',
      scenario: { ...SCENARIO, lanes: ['websocket'] },
      startedAt: 10,
      expected: 1,
    };
    const first = setup({ storage });
    first.answer({ [ROOM_EVENTS.join]: () => audienceJoinAck, [ROOM_EVENTS.result]: () => ({ ok: true }) });
    first.store.getState().setRoomJoinCode(CODE);
    await first.store.getState().joinRoom();
    first.socket().push(ROOM_EVENTS.race, race);
    first.frame(1_000);
    expect(first.ws.runs).toHaveLength(1);
    expect(loadCredentials(storage, CODE)?.racing).toBe('race-000044');

    // The reload, before the lane ended: the room's state still names the race.
    const rejoinAck = {
      ...audienceJoinAck,
      room: { ...audienceJoinAck.room, race },
      participantToken: TOKEN_2,
    };
    const second = setup({ storage, initialRoomCode: CODE });
    second.answer({ [ROOM_EVENTS.join]: () => rejoinAck, [ROOM_EVENTS.result]: () => ({ ok: true }) });
    await second.store.getState().rejoinFromLink();
    expect(second.store.getState().room.mine).toMatchObject({ raceId: 'race-000044', status: 'running' });
    second.frame(2_000);
    const run = second.ws.runs[0];
    if (!run) throw new Error('the race did not run again');
    run.report({ type: 'event', event: succeeded(2, 3_000), at: 2_500 });
    second.frame(2_600);
    run.settle();
    await settleMicrotasks();
    expect(second.socket().sent.find((s) => s.event === ROOM_EVENTS.result)?.payload).toMatchObject({
      raceId: 'race-000044',
      lanes: [{ lane: 'websocket', status: 'succeeded', totalPerceivedMs: 600 }],
    });
    expect(loadCredentials(storage, CODE)?.reported).toBe('race-000044');

    // Reloaded again, the result already in: the page waits for the next race.
    const third = setup({ storage, initialRoomCode: CODE });
    third.answer({ [ROOM_EVENTS.join]: () => rejoinAck });
    await third.store.getState().rejoinFromLink();
    expect(third.store.getState().room.phase).toBe('joined');
    expect(third.store.getState().room.mine).toBeUndefined();
    third.frame(3_000);
    expect(third.ws.runs).toHaveLength(0);
  });

  it('forgets the room’s credentials when the room ends', async () => {
    const { store, answer, socket, storage } = setup();
    answer({ [ROOM_EVENTS.join]: () => audienceJoinAck });
    store.getState().setRoomJoinCode(CODE);
    await store.getState().joinRoom();
    expect(storage.map.has(credentialsKey(CODE))).toBe(true);
    socket().push(ROOM_EVENTS.ended, { reason: 'presenter' });
    expect(store.getState().room).toMatchObject({ phase: 'ended', endedReason: 'presenter' });
    expect(storage.map.has(credentialsKey(CODE))).toBe(false);
    expect(socket().closed()).toBe(1);
  });
});
