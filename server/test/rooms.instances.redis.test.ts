import {
  aggregateRace,
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  BOARD_PATHS,
  type BoardChange,
  type BoardSubscribeAck,
  type LaneResult,
  type ParticipantId,
  ROOM_EVENTS,
  type StartRaceAck,
} from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { postJson } from './boardClients.ts';
import { serversOnOneRedis } from './redisServers.ts';
import { RoomPeer, SCENARIO } from './roomsHarness.ts';

/**
 * Rooms across two instances on one Redis (issue 14): a room lives on the instance that created it;
 * a phone whose socket reached the other instance joins it, hears its presence and its race, reports
 * its figures and is counted once, through the relay (server/src/rooms/relay.ts). In CI these fail
 * when no Redis answers.
 */
describe('a room across two instances on one Redis', () => {
  const { server, cleanup } = serversOnOneRedis();

  async function peer(baseUrl: string): Promise<RoomPeer> {
    const connected = await RoomPeer.connect(baseUrl);
    cleanup(() => connected.close());
    return connected;
  }

  /** Two instances and a room created on A by a presenter there. */
  async function roomOnA() {
    const a = await server();
    const b = await server();
    const presenter = await peer(a.baseUrl);
    const created = await presenter.create({ device: 'desktop', scenario: SCENARIO });
    return { a, b, presenter, created, code: created.room.code };
  }

  const figures = (firstFeedbackMs: number): LaneResult[] =>
    SCENARIO.lanes.map((lane) => ({
      lane,
      status: 'succeeded',
      firstFeedbackMs,
      totalPerceivedMs: 500 + firstFeedbackMs,
      requests: 3,
      bytesUp: 1_000,
      bytesDown: 4_000,
    }));

  it('lets a participant on B join a room on A, hear the race started through A, and be counted once', async () => {
    const { a, b, presenter, created, code } = await roomOnA();
    expect(b.app.rooms.exists(code)).toBe(false);

    const onB = await peer(b.baseUrl);
    const onA = await peer(a.baseUrl);
    const joinedOnB = await onB.joinOk({ code, name: 'on B' });
    expect(joinedOnB.role).toBe('audience');
    expect(joinedOnB.room.participants.map((p) => p.id)).toEqual([created.self, joinedOnB.self]);
    const joinedOnA = await onA.joinOk({ code, name: 'on A' });

    // Presence crosses both ways: the presenter on A hears B's phone, B's phone hears A's.
    await presenter.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'joined' && c.participant.id === joinedOnB.self,
    );
    await onB.next(ROOM_EVENTS.presence, (c) => c.kind === 'joined' && c.participant.id === joinedOnA.self);

    // Presenter-only actions from B's audience socket are refused by A, and nothing is broadcast.
    const refused = (await onB.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('FORBIDDEN');

    const started = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!started.ok) throw new Error(`room:race:start refused: ${JSON.stringify(started)}`);
    expect(started.race.expected).toBe(2);
    const heardOnB = await onB.next(ROOM_EVENTS.race);
    expect(heardOnB.raceId).toBe(started.race.raceId);
    expect(onB.received(ROOM_EVENTS.race)).toHaveLength(1);

    // B's phone reports twice (a lost ack resent, other figures): the second replaces the first.
    const raceId = started.race.raceId;
    for (const firstFeedbackMs of [40, 30]) {
      const ack = (await onB.ask(ROOM_EVENTS.result, { raceId, lanes: figures(firstFeedbackMs) })) as {
        ok: boolean;
      };
      expect(ack.ok).toBe(true);
    }
    const reportedOnA = (await onA.ask(ROOM_EVENTS.result, { raceId, lanes: figures(20) })) as {
      ok: boolean;
    };
    expect(reportedOnA.ok).toBe(true);

    const aggregate = await presenter.next(ROOM_EVENTS.aggregate, (agg) => agg.reported === 2);
    const expected = aggregateRace(
      raceId,
      2,
      new Map<ParticipantId, readonly LaneResult[]>([
        [joinedOnB.self, figures(30)],
        [joinedOnA.self, figures(20)],
      ]),
    );
    expect(aggregate).toEqual(expected);
    await onB.next(ROOM_EVENTS.raceProgress, (p) => p.reported === 2 && p.expected === 2);
    // One room, held by A: every participant once.
    expect(a.app.rooms.participants(code)?.map((p) => p.id)).toEqual([
      created.self,
      joinedOnB.self,
      joinedOnA.self,
    ]);
    expect(b.app.rooms.participants(code)).toBeUndefined();

    // B's phone goes away: A marks it away, and the presenter hears it.
    onB.close();
    await presenter.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'updated' && c.participant.id === joinedOnB.self && !c.participant.connected,
    );
    expect(a.app.rooms.participants(code)?.find((p) => p.id === joinedOnB.self)?.connected).toBe(false);
  });

  it('recovers a phone on B that dropped: A marks it away, then back, and it gets the pushes it missed', async () => {
    const { a, b, presenter, code } = await roomOnA();
    const phone = await peer(b.baseUrl);
    const joined = await phone.joinOk({ code, name: 'on B' });
    const onA = () => a.app.rooms.participants(code)?.filter((p) => p.id === joined.self) ?? [];
    // A first broadcast, so that the client has an offset to recover from.
    expect(await presenter.ask(ROOM_EVENTS.setScenario, { scenario: SCENARIO })).toEqual({ ok: true });
    await phone.next(ROOM_EVENTS.scenario);

    // Its network drops: B sees the disconnect and tells A, which marks the participant away. (The
    // page reconnects at once; this client waits, so that the away state can be seen on A first.)
    phone.socket.io.engine.close();
    await phone.disconnected();
    await expect.poll(() => onA().map((p) => p.connected), { timeout: 10_000 }).toEqual([false]);
    const whileAway = { ...SCENARIO, lanes: ['sse' as const] };
    expect(await presenter.ask(ROOM_EVENTS.setScenario, { scenario: whileAway })).toEqual({ ok: true });

    // Back on B: recovered there, B tells A, and the participant is connected again, the same one.
    const back = new Promise<void>((resolve) => phone.socket.once('connect', () => resolve()));
    phone.socket.connect();
    await back;
    expect(phone.socket.recovered).toBe(true);
    await expect.poll(() => onA().map((p) => p.connected), { timeout: 10_000 }).toEqual([true]);
    await presenter.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'updated' && c.participant.id === joined.self && c.participant.connected,
    );
    expect(await phone.next(ROOM_EVENTS.scenario, (scenario) => scenario.lanes.length === 1)).toEqual(
      whileAway,
    );
    // It speaks in the room again, through B.
    const clock = (await phone.ask(ROOM_EVENTS.clock, { offsetMs: 0, uncertaintyMs: 1, rttMs: 2 })) as {
      ok: boolean;
    };
    expect(clock.ok).toBe(true);
  });

  it("follows the board of A's room from a /board socket on B: catch-up, each change live once, the presenter's map, the end", async () => {
    const { a, b, presenter, created, code } = await roomOnA();
    const phone = await peer(b.baseUrl);
    const joined = await phone.joinOk({ code });
    const credentials = { participantId: joined.self, token: joined.participantToken };
    const presenterCredentials = { participantId: created.self, token: created.participantToken };
    // The board's HTTP routes are the room's home's (the cluster's nginx routes them there by code).
    const edit = (editId: string, value: number) =>
      postJson(`${a.baseUrl}${BOARD_PATHS.edits(code)}`, {
        ...credentials,
        editId,
        op: { type: 'slider.set', value },
      });
    expect((await edit('edit-one', 10)).status).toBe(200);

    const board = connect(`${b.baseUrl}${BOARD_NAMESPACE}`, { forceNew: true, transports: ['websocket'] });
    cleanup(() => void board.disconnect());
    const changes: BoardChange[] = [];
    board.on(BOARD_EVENTS.change, (change: BoardChange) => changes.push(change));
    const propagation: unknown[] = [];
    board.on(BOARD_EVENTS.propagation, (update: unknown) => propagation.push(update));
    const subscribe = (request: object) =>
      new Promise<BoardSubscribeAck>((resolve) => board.emit(BOARD_EVENTS.subscribe, request, resolve));
    // The audience's token does not bring the map; the presenter's does, over B.
    const refused = await subscribe({ code, after: 0, presenter: credentials });
    expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const ack = await subscribe({ code, after: 0, presenter: presenterCredentials });
    if (!ack.ok) throw new Error(`board:subscribe refused: ${JSON.stringify(ack)}`);
    expect(ack.catchUp.changes.map((c) => c.version)).toEqual([1]);
    expect(ack.map?.code).toBe(code);

    for (const [index, value] of [20, 30, 40].entries()) {
      expect((await edit(`edit-next-${index}`, value)).status).toBe(200);
    }
    await expect.poll(() => changes.map((c) => c.version), { timeout: 10_000 }).toEqual([2, 3, 4]);
    // A page's report of when it showed a change reaches the presenter's map on B.
    const report = await postJson(`${a.baseUrl}${BOARD_PATHS.reports(code)}`, {
      ...credentials,
      lane: 'websocket',
      clockUncertaintyMs: 1,
      shown: [{ version: 4, delayMs: 12 }],
    });
    expect(report.status).toBe(200);
    await expect.poll(() => propagation.length, { timeout: 10_000 }).toBeGreaterThan(0);

    // Unknown boards are refused through the relay as here.
    const unknown = await subscribe({ code: 'ZZZZZZZZ', after: 0 });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    // The room ends on A: B's board socket is told.
    const ended = new Promise<void>((resolve) => board.once(BOARD_EVENTS.ended, () => resolve()));
    expect(((await presenter.ask(ROOM_EVENTS.end)) as { ok: boolean }).ok).toBe(true);
    await ended;
    expect(changes.map((c) => c.version)).toEqual([2, 3, 4]);
  });

  it('gives presenter rights on B to a proof made for A’s room, and ends the room for a phone on B', async () => {
    const a = await server();
    const b = await server();
    const creator = await peer(a.baseUrl);
    const created = await creator.create({ device: 'desktop', scenario: SCENARIO });
    const code = created.room.code;

    // The presenter's second screen on B proves its rights over B's own nonce.
    const second = await peer(b.baseUrl);
    const proved = await second.joinAsPresenter(code, created.presenterSecret);
    if (!proved.ok) throw new Error(`presenter join refused: ${JSON.stringify(proved)}`);
    expect(proved.role).toBe('presenter');
    // A replayed proof (its nonce is spent) is refused.
    const replay = await second.join({
      code,
      presenterProof: 'a'.repeat(64),
      device: 'desktop',
    });
    expect(replay.ok).toBe(false);

    const phone = await peer(b.baseUrl);
    const joined = await phone.joinOk({ code });
    const started = (await second.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!started.ok) throw new Error(`room:race:start from B refused: ${JSON.stringify(started)}`);
    expect(started.race.expected).toBe(1);
    await creator.next(ROOM_EVENTS.race, (race) => race.raceId === started.race.raceId);

    // The aggregate is sent to each presenter socket by its id: A's creator and B's second screen.
    await phone.ask(ROOM_EVENTS.result, { raceId: started.race.raceId, lanes: figures(25) });
    for (const screen of [creator, second]) {
      const aggregate = await screen.next(ROOM_EVENTS.aggregate, (agg) => agg.reported === 1);
      expect(aggregate.lanes.length).toBe(SCENARIO.lanes.length);
    }
    expect(a.app.rooms.participants(code)?.filter((p) => p.id === joined.self)).toHaveLength(1);

    const ended = (await second.ask(ROOM_EVENTS.end)) as { ok: boolean };
    expect(ended.ok).toBe(true);
    expect(await phone.next(ROOM_EVENTS.ended)).toEqual({ reason: 'presenter' });
    expect(a.app.rooms.exists(code)).toBe(false);
    // The phone's instance learns the room is gone at its next message: it speaks in no room.
    const after = (await phone.ask(ROOM_EVENTS.clock, { offsetMs: 0, uncertaintyMs: 1, rttMs: 2 })) as {
      ok: boolean;
      error?: { code: string };
    };
    expect(after).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    // A late joiner on B is told by A that the room has ended, as A's own phones are.
    expect(await phone.join({ code })).toMatchObject({ ok: false, error: { code: 'ROOM_ENDED' } });
    expect(await phone.join({ code: 'ZZZZ-ZZZZ' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });
});
