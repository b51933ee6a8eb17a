import { randomBytes } from 'node:crypto';
import { ROOM_EVENTS, type RoomScenario, type StartRaceAck } from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';
import { proofOf, RoomPeer, SCENARIO } from './roomsHarness.ts';

let server: TestServer;
const peers: RoomPeer[] = [];

beforeAll(async () => {
  // Refused proofs count as failed joins; this suite refuses many on purpose from one address.
  server = await startTestServer({ ROOM_FAILED_JOINS_PER_MINUTE: '1000' });
});

afterAll(async () => {
  for (const peer of peers) peer.close();
  await server.close();
});

async function peer(): Promise<RoomPeer> {
  const p = await RoomPeer.connect(server.baseUrl);
  peers.push(p);
  return p;
}

/** A room with its presenter, one audience member who will misbehave and one who watches. */
async function roomWithAudience() {
  const presenter = await peer();
  const created = await presenter.create({ device: 'desktop', scenario: SCENARIO });
  const code = created.room.code;
  const intruder = await peer();
  const intruderJoin = await intruder.joinOk({ code, name: 'Mallory' });
  const watcher = await peer();
  const watcherJoin = await watcher.joinOk({ code, name: 'Walter' });
  return { presenter, created, code, intruder, intruderJoin, watcher, watcherJoin };
}

const OTHER_SCENARIO: RoomScenario = { ...SCENARIO, spec: { durationMs: 100, steps: 2 }, lanes: ['hybrid'] };

describe('presenter-only actions', () => {
  it('refuses scenario, start and end from an audience member with FORBIDDEN and changes nothing', async () => {
    const { presenter, code, intruder, watcher } = await roomWithAudience();
    const refusals = [
      await intruder.ask(ROOM_EVENTS.setScenario, { scenario: OTHER_SCENARIO }),
      await intruder.ask(ROOM_EVENTS.startRace),
      await intruder.ask(ROOM_EVENTS.end),
    ];
    for (const ack of refusals) expect(ack).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

    // A fresh join sees the room as it was: the same scenario, no race, everyone still there.
    const fresh = await peer();
    const snapshot = await fresh.joinOk({ code });
    expect(snapshot.room.scenario).toEqual(SCENARIO);
    expect(snapshot.room.race).toBeNull();
    expect(snapshot.room.participants.map((p) => p.name)).toEqual([null, 'Mallory', 'Walter', null]);

    // Nothing was broadcast: the presenter's own change is the first scenario the watcher hears of,
    // and (pushes on one socket arrive in order) anything the refusals had sent would have come first.
    const ok = await presenter.ask(ROOM_EVENTS.setScenario, { scenario: OTHER_SCENARIO });
    expect(ok).toEqual({ ok: true });
    await watcher.next(ROOM_EVENTS.scenario);
    expect(watcher.received(ROOM_EVENTS.scenario)).toEqual([OTHER_SCENARIO]);
    expect(watcher.received(ROOM_EVENTS.race)).toEqual([]);
    expect(watcher.received(ROOM_EVENTS.ended)).toEqual([]);
    expect(server.app.rooms.exists(code)).toBe(true);
  });

  it("sends the presenter's fault to the audience during a race, and refuses it from anyone else", async () => {
    const { presenter, intruder, watcher } = await roomWithAudience();
    const fault = { kind: 'drop-connections', lane: 'websocket' } as const;
    // Before any race there is nothing to inject into.
    expect(await presenter.ask(ROOM_EVENTS.injectFault, { fault })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!start.ok) throw new Error('the race did not start');
    expect(await intruder.ask(ROOM_EVENTS.injectFault, { fault })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await intruder.ask(ROOM_EVENTS.injectFault, { fault: { kind: 'restart-server' } })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(await presenter.ask(ROOM_EVENTS.injectFault, { fault })).toEqual({ ok: true });
    const notice = await watcher.next(ROOM_EVENTS.fault);
    expect(notice).toMatchObject({ raceId: start.race.raceId, fault });
    // Only the presenter's reached the audience: pushes on one socket arrive in order.
    expect(watcher.received(ROOM_EVENTS.fault)).toHaveLength(1);
  });

  it('refuses them from a socket in no room, and from a presenter of another room', async () => {
    const { code, watcher } = await roomWithAudience();
    const stranger = await peer();
    for (const event of [ROOM_EVENTS.startRace, ROOM_EVENTS.end])
      expect(await stranger.ask(event)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await stranger.ask(ROOM_EVENTS.setScenario, { scenario: OTHER_SCENARIO })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });

    // The presenter of room B joins room A as audience: B's rights do not carry over.
    const otherPresenter = await peer();
    await otherPresenter.create();
    await otherPresenter.joinOk({ code });
    expect(await otherPresenter.ask(ROOM_EVENTS.startRace)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    const fresh = await peer();
    expect((await fresh.joinOk({ code })).room.race).toBeNull();
    expect(watcher.received(ROOM_EVENTS.race)).toEqual([]);
  });
});

describe('the presenter proof', () => {
  it('is refused when forged, when made for another room, or without a nonce; nobody joins', async () => {
    const { code, created, watcher, watcherJoin } = await roomWithAudience();
    const other = await (await peer()).create();

    const forger = await peer();
    await forger.hello();
    const forged = await forger.join({ code, presenterProof: randomBytes(32).toString('hex') });
    expect(forged).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

    // Room B's secret, over room A's code and this connection's nonce.
    const nonce = await forger.hello();
    const otherRooms = await forger.join({
      code,
      presenterProof: proofOf(other.presenterSecret, code, nonce),
    });
    expect(otherRooms).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

    // Room A's secret but over room B's code: a proof for another room.
    const nonce2 = await forger.hello();
    const wrongCode = await forger.join({
      code,
      presenterProof: proofOf(created.presenterSecret, other.room.code, nonce2),
    });
    expect(wrongCode).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

    // A right proof over a nonce this connection never asked for.
    const noHello = await peer();
    const nonceOfAnother = await forger.hello();
    const unasked = await noHello.join({
      code,
      presenterProof: proofOf(created.presenterSecret, code, nonceOfAnother),
    });
    expect(unasked).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

    const fresh = await peer();
    const snapshot = await fresh.joinOk({ code });
    expect(snapshot.room.participants.filter((p) => p.role === 'presenter')).toHaveLength(1);
    expect(snapshot.room.participants).toHaveLength(4); // presenter, Mallory, Walter, fresh
    // Presence is sent in order: once the fresh join is seen, anyone who joined before it was too.
    await watcher.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'joined' && c.participant.id === snapshot.self,
    );
    const joinsSeen = watcher
      .received(ROOM_EVENTS.presence)
      .filter((c) => c.kind === 'joined' && c.participant.id !== watcherJoin.self);
    expect(joinsSeen).toHaveLength(1);
  });

  it("is refused when replayed: on another connection, and again on the presenter's own", async () => {
    const { code, created } = await roomWithAudience();
    // The presenter reloads: a new connection, a fresh nonce, the proof seen on the wire.
    const reloaded = await peer();
    const nonce = await reloaded.hello();
    const seenOnTheWire = proofOf(created.presenterSecret, code, nonce);
    const accepted = await reloaded.join({
      code,
      presenterProof: seenOnTheWire,
      resume: { participantId: created.self, token: created.participantToken },
      device: 'desktop',
    });
    expect(accepted).toMatchObject({ ok: true, role: 'presenter', self: created.self });

    const attacker = await peer();
    await attacker.hello(); // its own nonce, which the replayed proof was not made over
    const replayed = await attacker.join({ code, presenterProof: seenOnTheWire });
    expect(replayed).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // Without asking for a nonce at all.
    const attacker2 = await peer();
    expect(await attacker2.join({ code, presenterProof: seenOnTheWire })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    // On the presenter's own connection, the nonce is spent.
    expect(await reloaded.join({ code, presenterProof: seenOnTheWire })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await attacker.ask(ROOM_EVENTS.startRace)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
  });

  it('keeps the rights of a presenter who reloads: same participant, can start a race', async () => {
    const { presenter, code, created, watcher } = await roomWithAudience();
    presenter.close();
    await watcher.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'updated' && c.participant.id === created.self && !c.participant.connected,
    );
    const reloaded = await peer();
    const rejoined = await reloaded.joinAsPresenter(code, created.presenterSecret, {
      resume: { participantId: created.self, token: created.participantToken },
    });
    expect(rejoined).toMatchObject({ ok: true, role: 'presenter', self: created.self });
    if (!rejoined.ok) return;
    expect(rejoined.participantToken).toBe(created.participantToken);
    expect(rejoined.room.participants.filter((p) => p.role === 'presenter')).toHaveLength(1);

    const start = (await reloaded.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    expect(start).toMatchObject({ ok: true, race: { expected: 2 } });
    await watcher.next(ROOM_EVENTS.race);
  });

  it("does not let a resume token stand in for the proof: the presenter's participant needs both", async () => {
    const { code, created } = await roomWithAudience();
    const thief = await peer();
    const resumed = await thief.join({
      code,
      resume: { participantId: created.self, token: created.participantToken },
    });
    expect(resumed).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await thief.ask(ROOM_EVENTS.startRace)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });
});

describe('participants', () => {
  it('rejoin with {participantId, token} as the same person, keeping their result', async () => {
    const { presenter, code, created, intruder, intruderJoin } = await roomWithAudience();
    const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!start.ok) throw new Error(JSON.stringify(start));
    const lanes = [{ lane: 'sse', status: 'succeeded', totalPerceivedMs: 123.5 }];
    expect(await intruder.ask(ROOM_EVENTS.result, { raceId: start.race.raceId, lanes })).toEqual({
      ok: true,
    });
    intruder.close();

    const back = await peer();
    const resumed = await back.joinOk({
      code,
      name: 'Mallory',
      resume: { participantId: intruderJoin.self, token: intruderJoin.participantToken },
    });
    expect(resumed.self).toBe(intruderJoin.self);
    expect(resumed.room.participants.find((p) => p.id === intruderJoin.self)?.connected).toBe(true);
    expect(resumed.room.participants).toHaveLength(3);

    // The presenter's reload shows the aggregate at once, with the result still in it.
    const reloaded = await peer();
    const aggregateNow = reloaded.next(ROOM_EVENTS.aggregate);
    expect(await reloaded.joinAsPresenter(code, created.presenterSecret)).toMatchObject({ ok: true });
    const aggregate = await aggregateNow;
    expect(aggregate.reported).toBe(1);
    expect(aggregate.lanes[0]?.metrics.totalPerceivedMs?.values).toEqual([
      { participantId: intruderJoin.self, value: 123.5 },
    ]);

    // A wrong token resumes nobody.
    const impostor = await peer();
    expect(
      await impostor.join({ code, resume: { participantId: intruderJoin.self, token: 'A'.repeat(22) } }),
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('stay one participant when the same connection joins again, and a presenter keeps the rights it has', async () => {
    const { presenter, code, created, intruder, intruderJoin, watcher, watcherJoin } =
      await roomWithAudience();
    const again = await intruder.joinOk({ code, name: 'Mallory' });
    expect(again.self).toBe(intruderJoin.self);
    expect(again.room.participants).toHaveLength(3);
    const presenterAgain = await presenter.joinOk({ code, device: 'desktop' });
    expect(presenterAgain).toMatchObject({ self: created.self, role: 'presenter' });
    expect(await presenter.ask(ROOM_EVENTS.startRace)).toMatchObject({ ok: true });
    expect(await intruder.ask(ROOM_EVENTS.startRace)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    await watcher.next(ROOM_EVENTS.race);
    await watcher.presenceSettled(watcherJoin.self);
    const joinsSeen = watcher
      .received(ROOM_EVENTS.presence)
      .filter((c) => c.kind === 'joined' && c.participant.id !== watcherJoin.self);
    expect(joinsSeen).toEqual([]);
  });

  it('refuse a result from the presenter, for another race, for a lane not raced, or with a lane twice', async () => {
    const { presenter, intruder } = await roomWithAudience();
    const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!start.ok) throw new Error(JSON.stringify(start));
    const raceId = start.race.raceId;
    const lane = { lane: 'sse', status: 'succeeded', totalPerceivedMs: 10 };
    expect(await presenter.ask(ROOM_EVENTS.result, { raceId, lanes: [lane] })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await intruder.ask(ROOM_EVENTS.result, { raceId: 'another-race', lanes: [lane] })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(
      await intruder.ask(ROOM_EVENTS.result, { raceId, lanes: [{ ...lane, lane: 'hybrid' }] }),
    ).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await intruder.ask(ROOM_EVENTS.result, { raceId, lanes: [lane, lane] })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    // A second report replaces the first: the participant is counted once, with the newer figures.
    expect(await intruder.ask(ROOM_EVENTS.result, { raceId, lanes: [lane] })).toEqual({ ok: true });
    expect(
      await intruder.ask(ROOM_EVENTS.result, { raceId, lanes: [{ ...lane, totalPerceivedMs: 20 }] }),
    ).toEqual({ ok: true });
    const last = await presenter.next(
      ROOM_EVENTS.aggregate,
      (a) => a.lanes[0]?.metrics.totalPerceivedMs?.values[0]?.value === 20,
    );
    expect(last.reported).toBe(1);
    expect(last.lanes[0]?.metrics.totalPerceivedMs?.count).toBe(1);
  });
});
