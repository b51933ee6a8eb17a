import { ROOM_EVENTS, ROOM_LIMITS, type StartRaceAck } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { roomSuite, SCENARIO } from './roomsHarness.ts';

const { serverWith, peerOf } = roomSuite();

const CLOCK = { offsetMs: -12.5, uncertaintyMs: 3, rttMs: 6 };

describe('malformed messages', () => {
  it('are refused VALIDATION_FAILED by ack, and the room and its members carry on', async () => {
    // This test sends a few dozen messages in well under a second: not flooding's business here;
    // nor is presence pacing: each clock report's change goes out on its own.
    const server = await serverWith({ ROOM_MESSAGES_PER_SECOND: '1000', ROOM_PRESENCE_INTERVAL_MS: '1' });
    const presenter = await peerOf(server);
    const { room } = await presenter.create({ device: 'desktop', scenario: SCENARIO });
    const member = await peerOf(server);
    await member.joinOk({ code: room.code });
    const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!start.ok) throw new Error(JSON.stringify(start));

    const refused = [
      await member.ask(ROOM_EVENTS.join, {}),
      await member.ask(ROOM_EVENTS.join, { code: 'not-a-code!', device: 'phone' }),
      await member.ask(ROOM_EVENTS.join, { code: room.code, device: 'toaster' }),
      await member.ask(ROOM_EVENTS.join, { code: room.code, device: 'phone', extra: 1 }),
      await member.ask(ROOM_EVENTS.join, { code: room.code, device: 'phone', presenterProof: 'zz' }),
      await member.ask(ROOM_EVENTS.join),
      await member.ask(ROOM_EVENTS.create, 'a string'),
      await member.ask(ROOM_EVENTS.create, null),
      await member.ask(ROOM_EVENTS.clock, { offsetMs: 'soon' }),
      await member.ask(ROOM_EVENTS.clock, [1, 2, 3]),
      await member.ask(ROOM_EVENTS.result, { raceId: start.race.raceId, lanes: [] }),
      await member.ask(ROOM_EVENTS.result, {
        raceId: start.race.raceId,
        lanes: [{ lane: 'sse', status: 'succeeded', totalPerceivedMs: -1 }],
      }),
      await member.ask(ROOM_EVENTS.result, {
        raceId: start.race.raceId,
        lanes: [{ lane: 'sse', status: 'succeeded', requests: 1.5 }],
      }),
      await member.ask(ROOM_EVENTS.result, 42),
      await presenter.ask(ROOM_EVENTS.setScenario, { scenario: { ...SCENARIO, lanes: ['carrier-pigeon'] } }),
      await presenter.ask(ROOM_EVENTS.setScenario, {
        scenario: { ...SCENARIO, spec: { durationMs: -1, steps: 1 } },
      }),
    ];
    for (const ack of refused) expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });

    // Without an ack, or with junk for every argument: nothing answers, nothing breaks.
    member.send(ROOM_EVENTS.result, { raceId: start.race.raceId, lanes: 'all of them' });
    member.send(ROOM_EVENTS.join);
    member.send(ROOM_EVENTS.startRace, 'junk', 'more junk');
    member.send(ROOM_EVENTS.end, { please: true });
    member.send(ROOM_EVENTS.clock, { ...CLOCK, rttMs: 99 }, 'not a function');
    member.send('room:unknown-event', { a: 1 });
    presenter.send(ROOM_EVENTS.setScenario, undefined);

    // The same socket still gets answers, the room still works, the other member saw nothing odd.
    expect(await member.ask(ROOM_EVENTS.clock, CLOCK)).toEqual({ ok: true });
    const lanes = [{ lane: 'sse', status: 'succeeded', totalPerceivedMs: 42 }];
    expect(await member.ask(ROOM_EVENTS.result, { raceId: start.race.raceId, lanes })).toEqual({ ok: true });
    const aggregate = await presenter.next(ROOM_EVENTS.aggregate, (a) => a.reported === 1);
    expect(aggregate.lanes[0]?.metrics.totalPerceivedMs?.values.map((v) => v.value)).toEqual([42]);
    expect(presenter.received(ROOM_EVENTS.ended)).toEqual([]);
    expect(presenter.received(ROOM_EVENTS.scenario)).toEqual([]);
    // The clock sent without a usable ack was applied too (an ack is optional), then the asked one.
    await presenter.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'updated' && c.participant.clock?.rttMs === 6,
    );
    const clocks = presenter
      .received(ROOM_EVENTS.presence)
      .flatMap((c) => (c.kind === 'updated' && c.participant.clock ? [c.participant.clock.rttMs] : []));
    expect(clocks).toEqual([99, 6]);
  });

  it('refuses a name over 40 characters after trimming, and keeps a trimmed one', async () => {
    const server = await serverWith();
    const presenter = await peerOf(server);
    const { room } = await presenter.create();
    const long = 'x'.repeat(ROOM_LIMITS.maxNameLength + 1);
    const a = await peerOf(server);
    expect(await a.join({ code: room.code, name: long })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(await a.ask(ROOM_EVENTS.create, { device: 'phone', name: long })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(await a.join({ code: room.code, name: '   ' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    const exactly = 'y'.repeat(ROOM_LIMITS.maxNameLength);
    const ok = await a.joinOk({ code: room.code, name: `  ${exactly}  ` });
    expect(ok.room.participants.find((p) => p.id === ok.self)?.name).toBe(exactly);
    const markup = await (await peerOf(server)).joinOk({ code: room.code, name: '<b>Ada</b>' });
    expect(markup.room.participants.find((p) => p.id === markup.self)?.name).toBe('<b>Ada</b>');
    // Codes are read as people type them: lower case, with the dash, Crockford's look-alikes.
    const typed = `${room.code.slice(0, 4)}-${room.code.slice(4)}`.toLowerCase();
    expect(await (await peerOf(server)).join({ code: typed })).toMatchObject({ ok: true });
  });
});

describe('flooding', () => {
  it("refuses one socket's excess RATE_LIMITED while another's result still lands in the aggregate", async () => {
    const server = await serverWith({ ROOM_MESSAGES_PER_SECOND: '5' });
    const presenter = await peerOf(server);
    const { room } = await presenter.create({ device: 'desktop', scenario: SCENARIO });
    const flooder = await peerOf(server);
    const flooderJoin = await flooder.joinOk({ code: room.code });
    const honest = await peerOf(server);
    const honestJoin = await honest.joinOk({ code: room.code });
    const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!start.ok) throw new Error(JSON.stringify(start));
    const raceId = start.race.raceId;

    const floodStartedAt = performance.now();
    const flood = Array.from({ length: 60 }, () => flooder.ask(ROOM_EVENTS.clock, CLOCK));
    const lanes = [{ lane: 'websocket', status: 'succeeded', totalPerceivedMs: 777 }];
    const honestAck = honest.ask(ROOM_EVENTS.result, { raceId, lanes });
    const answers = await Promise.all(flood);
    const floodMs = performance.now() - floodStartedAt;
    expect(await honestAck).toEqual({ ok: true });

    // 5 a second in fixed one-second windows: the flood spans at most ceil(floodMs / 1000) + 1 of them.
    const limited = answers.filter((a) => (a as { ok: boolean }).ok === false);
    expect(answers.length - limited.length).toBeLessThanOrEqual(5 * (Math.ceil(floodMs / 1_000) + 1));
    for (const a of limited) expect(a).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    expect(answers.length - limited.length).toBeGreaterThan(0);

    const aggregate = await presenter.next(ROOM_EVENTS.aggregate, (a) => a.reported === 1);
    expect(aggregate.lanes[0]?.metrics.totalPerceivedMs?.values).toEqual([
      { participantId: honestJoin.self, value: 777 },
    ]);
    // The flooder is still in the room, connected; the room did not end.
    const fresh = await peerOf(server);
    const snapshot = await fresh.joinOk({ code: room.code });
    expect(snapshot.room.participants.find((p) => p.id === flooderJoin.self)?.connected).toBe(true);
    expect(flooder.socket.connected).toBe(true);
  });
});

describe('clock reports', () => {
  it('are all kept, but one participant causes at most one presence update a second, the last one sent', async () => {
    // The room's own pacing apart (see "presence"): this is the participant's.
    const server = await serverWith({ ROOM_MESSAGES_PER_SECOND: '1000', ROOM_PRESENCE_INTERVAL_MS: '1' });
    const presenter = await peerOf(server);
    const { room } = await presenter.create();
    const member = await peerOf(server);
    const joined = await member.joinOk({ code: room.code });
    for (let rtt = 1; rtt <= 30; rtt++)
      expect(await member.ask(ROOM_EVENTS.clock, { ...CLOCK, rttMs: rtt })).toEqual({ ok: true });
    await presenter.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'updated' && c.participant.clock?.rttMs === 30,
    );
    const shown = presenter
      .received(ROOM_EVENTS.presence)
      .flatMap((c) => (c.kind === 'updated' && c.participant.clock ? [c.participant.clock.rttMs] : []));
    // The first as the room's batch found it (the throttle's leading run: throttle.test.ts), the last
    // one sent last.
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(shown.at(-1)).toBe(30);
    expect(shown.length).toBeLessThanOrEqual(3);
    expect(server.app.rooms.participants(room.code)?.find((p) => p.id === joined.self)?.clock?.rttMs).toBe(
      30,
    );
  });
});

describe('resent results', () => {
  it('do not speed up the aggregate: replacements after the count is complete stay throttled', async () => {
    const server = await serverWith({ ROOM_MESSAGES_PER_SECOND: '1000' });
    const presenter = await peerOf(server);
    const { room } = await presenter.create({ device: 'desktop', scenario: SCENARIO });
    const member = await peerOf(server);
    await member.joinOk({ code: room.code });
    const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!start.ok) throw new Error(JSON.stringify(start));
    const raceId = start.race.raceId;
    const lane = (ms: number) => [{ lane: 'sse', status: 'succeeded', totalPerceivedMs: ms }];
    const startedAt = performance.now();
    for (let i = 1; i <= 40; i++)
      expect(await member.ask(ROOM_EVENTS.result, { raceId, lanes: lane(i) })).toEqual({ ok: true });
    const last = await presenter.next(
      ROOM_EVENTS.aggregate,
      (a) => a.lanes[0]?.metrics.totalPerceivedMs?.values[0]?.value === 40,
    );
    const elapsedMs = performance.now() - startedAt;
    expect(last.reported).toBe(1);
    const sent = presenter.received(ROOM_EVENTS.aggregate).filter((a) => a.reported === 1);
    // The first result completes the count (sent at once); the 39 resends share ≤ 4 a second.
    expect(sent.length).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / 250));
    expect(sent.length).toBeLessThan(40);
  });
});

describe('room full', () => {
  it('answers ROOM_FULL past ROOM_MAX_PARTICIPANTS (presenter included) and lets in again after a leave', async () => {
    const server = await serverWith({ ROOM_MAX_PARTICIPANTS: '3' });
    const presenter = await peerOf(server);
    const { room } = await presenter.create();
    expect(room.maxParticipants).toBe(3);
    const a = await peerOf(server);
    const aJoin = await a.joinOk({ code: room.code });
    const b = await peerOf(server);
    await b.joinOk({ code: room.code });
    const c = await peerOf(server);
    expect(await c.join({ code: room.code })).toMatchObject({ ok: false, error: { code: 'ROOM_FULL' } });

    // An away participant keeps their place but not their seat: c takes it, and a cannot come back.
    a.close();
    await presenter.next(
      ROOM_EVENTS.presence,
      (ch) => ch.kind === 'updated' && ch.participant.id === aJoin.self && !ch.participant.connected,
    );
    await c.joinOk({ code: room.code });
    const aBack = await peerOf(server);
    expect(
      await aBack.join({
        code: room.code,
        resume: { participantId: aJoin.self, token: aJoin.participantToken },
      }),
    ).toMatchObject({ ok: false, error: { code: 'ROOM_FULL' } });

    expect(await b.ask(ROOM_EVENTS.leave)).toEqual({ ok: true });
    await presenter.next(ROOM_EVENTS.presence, (ch) => ch.kind === 'left');
    const resumed = await aBack.joinOk({
      code: room.code,
      resume: { participantId: aJoin.self, token: aJoin.participantToken },
    });
    expect(resumed.self).toBe(aJoin.self);
  });
  it('always lets the presenter back in, even when the hall filled while they reloaded', async () => {
    const server = await serverWith({ ROOM_MAX_PARTICIPANTS: '2' });
    const presenter = await peerOf(server);
    const created = await presenter.create();
    const code = created.room.code;
    const a = await peerOf(server);
    await a.joinOk({ code });
    presenter.close();
    await a.next(ROOM_EVENTS.presence, (ch) => ch.kind === 'updated' && !ch.participant.connected);
    const b = await peerOf(server);
    await b.joinOk({ code }); // the presenter's seat, while they were away
    const c = await peerOf(server);
    expect(await c.join({ code })).toMatchObject({ ok: false, error: { code: 'ROOM_FULL' } });

    const back = await peerOf(server);
    const rejoined = await back.joinAsPresenter(code, created.presenterSecret, {
      resume: { participantId: created.self, token: created.participantToken },
    });
    expect(rejoined).toMatchObject({ ok: true, role: 'presenter', self: created.self });
    expect(await back.ask(ROOM_EVENTS.startRace)).toMatchObject({ ok: true, race: { expected: 2 } });
  });
});

describe('failed-join rate limit', () => {
  it('refuses every join from an address after ROOM_FAILED_JOINS_PER_MINUTE wrong codes, a right one too', async () => {
    const server = await serverWith({ ROOM_FAILED_JOINS_PER_MINUTE: '3' });
    const presenter = await peerOf(server);
    const { room } = await presenter.create();
    const guesser = await peerOf(server);
    const wrong = room.code === '00000000' ? '11111111' : '00000000';
    for (let i = 0; i < 3; i++)
      expect(await guesser.join({ code: wrong })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const blocked = await guesser.join({ code: wrong });
    expect(blocked).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    if (!blocked.ok)
      expect((blocked.error.details as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    // The limit is per address, not per socket: a new connection from here is refused too.
    const again = await peerOf(server);
    expect(await again.join({ code: room.code })).toMatchObject({
      ok: false,
      error: { code: 'RATE_LIMITED' },
    });
  });

  it('does not count successful joins: a whole hall behind one address gets in', async () => {
    const server = await serverWith({ ROOM_FAILED_JOINS_PER_MINUTE: '3' });
    const presenter = await peerOf(server);
    const { room } = await presenter.create();
    for (let i = 0; i < 12; i++) await (await peerOf(server)).joinOk({ code: room.code, name: `Seat ${i}` });
  });
});

describe('the end of a room', () => {
  it('ends an idle room: room:ended {reason: idle} to everyone, then ROOM_ENDED for its code', async () => {
    // Long enough that a loaded machine still joins the member before the room goes quiet.
    const server = await serverWith({ ROOM_IDLE_MS: '1000' });
    const endedCodes: string[] = [];
    const stop = server.app.rooms.onRoomEnded((code) => endedCodes.push(code));
    const presenter = await peerOf(server);
    const member = await peerOf(server);
    const { room } = await presenter.create();
    const joined = await member.joinOk({ code: room.code });
    expect(server.app.rooms.verifyParticipant(room.code, joined.self, joined.participantToken)).toBe(
      'audience',
    );

    const [forPresenter, forMember] = await Promise.all([
      presenter.next(ROOM_EVENTS.ended),
      member.next(ROOM_EVENTS.ended),
    ]);
    expect(forPresenter).toEqual({ reason: 'idle' });
    expect(forMember).toEqual({ reason: 'idle' });
    expect(endedCodes).toEqual([room.code]);
    expect(server.app.rooms.exists(room.code)).toBe(false);
    expect(
      server.app.rooms.verifyParticipant(room.code, joined.self, joined.participantToken),
    ).toBeUndefined();
    expect(await (await peerOf(server)).join({ code: room.code })).toMatchObject({
      ok: false,
      error: { code: 'ROOM_ENDED' },
    });
    // Its members are in no room any more.
    expect(await member.ask(ROOM_EVENTS.clock, CLOCK)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    stop();
  });

  it('ends a room when its presenter says so', async () => {
    const server = await serverWith();
    const presenter = await peerOf(server);
    const { room } = await presenter.create();
    const member = await peerOf(server);
    await member.joinOk({ code: room.code });
    const ended = member.next(ROOM_EVENTS.ended);
    expect(await presenter.ask(ROOM_EVENTS.end)).toEqual({ ok: true });
    expect(await ended).toEqual({ reason: 'presenter' });
    expect(server.app.rooms.exists(room.code)).toBe(false);
    expect(await member.join({ code: room.code })).toMatchObject({
      ok: false,
      error: { code: 'ROOM_ENDED' },
    });
  });
});

describe('presence', () => {
  it('sends deltas: joined, clock updated, away, left', async () => {
    const server = await serverWith();
    const presenter = await peerOf(server);
    const { room } = await presenter.create();
    const member = await peerOf(server);
    const seen = () => presenter.received(ROOM_EVENTS.presence).length;
    // Each step waits for the presenter to see the last: changes within one interval are merged.
    const joined = await member.joinOk({ code: room.code, name: 'Ada', device: 'tablet' });
    await presenter.next(ROOM_EVENTS.presence, (c) => c.kind === 'joined');
    let before = seen();
    expect(await member.ask(ROOM_EVENTS.clock, CLOCK)).toEqual({ ok: true });
    await presenter.next(ROOM_EVENTS.presence, () => true, before);
    before = seen();
    member.close();
    await presenter.next(ROOM_EVENTS.presence, () => true, before);
    before = seen();
    const back = await peerOf(server);
    await back.joinOk({
      code: room.code,
      resume: { participantId: joined.self, token: joined.participantToken },
    });
    await presenter.next(ROOM_EVENTS.presence, () => true, before);
    expect(await back.ask(ROOM_EVENTS.leave)).toEqual({ ok: true });
    await presenter.next(ROOM_EVENTS.presence, (c) => c.kind === 'left');

    const changes = presenter.received(ROOM_EVENTS.presence);
    expect(changes.map((c) => c.kind)).toEqual(['joined', 'updated', 'updated', 'updated', 'left']);
    expect(changes[0]).toMatchObject({
      kind: 'joined',
      participant: { id: joined.self, name: 'Ada', device: 'tablet', role: 'audience', connected: true },
    });
    expect(changes[1]).toMatchObject({ participant: { clock: CLOCK, connected: true } });
    expect(changes[2]).toMatchObject({ participant: { clock: CLOCK, connected: false } });
    expect(changes[3]).toMatchObject({ participant: { id: joined.self, name: 'Ada', connected: true } });
    expect(changes[4]).toEqual({ kind: 'left', participantId: joined.self });
    // The room's batch goes to its own page too, with the record its ack gave; its leave does not
    // (it has left the room's channel by then). Its leave's ack came after that batch on its connection.
    expect(back.received(ROOM_EVENTS.presence)).toEqual([changes[3]]);
  });
});
