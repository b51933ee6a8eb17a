import { type Participant, ROOM_EVENTS, type StartRaceAck } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { BUDGET_STORES } from './budgetStores.ts';
import type { TestServer } from './harness.ts';
import { BOT, expectLimitedAck, PHONE } from './limitsHarness.ts';
import { requireRedis, TEST_REDIS_URL, testRedisKeys } from './redisForTests.ts';
import { connectPeers, type RoomPeer, roomSuite, SCENARIO } from './roomsHarness.ts';

/**
 * Issue 11, item 2: rooms bounded per client (docs/security.md, "Limits"). One address past a bound
 * is refused by a coded ack (`RATE_LIMITED`, its reason, a sentence) while a phone on another
 * address joins and races meanwhile, its figure in the presenter's aggregate.
 */
const { serverWith, peerOf, track } = roomSuite();

/** The presenter's room; the presenter is on this machine, as a hall's presenter is. */
async function roomOf(server: TestServer) {
  const presenter = await peerOf(server);
  const created = await presenter.create({ device: 'desktop', scenario: SCENARIO });
  return { presenter, code: created.room.code };
}

/** A phone on another address joins, the presenter starts a race, and the phone's figure reaches
 *  the presenter's aggregate. */
async function phoneRaces(server: TestServer, presenter: RoomPeer, code: string): Promise<void> {
  const phone = await peerOf(server, PHONE);
  const joined = await phone.joinOk({ code, name: 'Phone' });
  const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
  if (!start.ok) throw new Error(JSON.stringify(start));
  await phone.next(ROOM_EVENTS.race, (race) => race.raceId === start.race.raceId);
  const lanes = [{ lane: 'sse', status: 'succeeded', totalPerceivedMs: 321 }];
  expect(await phone.ask(ROOM_EVENTS.result, { raceId: start.race.raceId, lanes })).toEqual({ ok: true });
  const aggregate = await presenter.next(
    ROOM_EVENTS.aggregate,
    (a) => a.raceId === start.race.raceId && a.reported === 1,
  );
  expect(aggregate.lanes[0]?.metrics.totalPerceivedMs?.values).toEqual([
    { participantId: joined.self, value: 321 },
  ]);
}

describe("a room's seats per client", () => {
  it('refuses one address past its share while a phone on another joins and races; a resume keeps its one seat', async () => {
    // 10 seats, half of them one address's share: 5.
    const server = await serverWith({ ROOM_MAX_PARTICIPANTS: '10' });
    const { presenter, code } = await roomOf(server);
    const bots = await Promise.all(Array.from({ length: 6 }, () => peerOf(server, BOT)));
    const seated = [];
    for (const bot of bots.slice(0, 5)) seated.push(await bot.joinOk({ code }));
    const sixth = bots[5] as RoomPeer;
    expect(expectLimitedAck(await sixth.join({ code }), 'room-seats')).toMatchObject({ limit: 5 });

    // The room is not full for anyone else.
    await phoneRaces(server, presenter, code);

    // A second tab of a seated bot takes over its participant: the same seat.
    const first = seated[0] ?? expect.unreachable();
    const tab = await peerOf(server, BOT);
    await tab.joinOk({ code, resume: { participantId: first.self, token: first.participantToken } });
    // One that drops frees its seat; back with its token, it takes that seat again, and only that.
    const second = seated[1] ?? expect.unreachable();
    (bots[1] as RoomPeer).close();
    await presenter.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'updated' && c.participant.id === second.self && !c.participant.connected,
    );
    const back = await peerOf(server, BOT);
    await back.joinOk({ code, resume: { participantId: second.self, token: second.participantToken } });
    expectLimitedAck(await sixth.join({ code }), 'room-seats');
    const connected = (server.app.rooms.participants(code) ?? []).filter((p) => p.connected);
    expect(connected).toHaveLength(1 + 5 + 1); // the presenter, the bots' share, the phone
  });
});

describe.each(BUDGET_STORES)('joins per client a minute, counted in %s', (store) => {
  it('refuses new participants past the budget, not resumes or repeated joins, while a phone joins and races', async (context) => {
    let onStore = {};
    if (store === 'redis') {
      await requireRedis(context);
      onStore = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: testRedisKeys().prefix };
    }
    const server = await serverWith({ ...onStore, ROOM_JOINS_PER_CLIENT_PER_MINUTE: '3' });
    const { presenter, code } = await roomOf(server);
    const bots = await Promise.all(Array.from({ length: 4 }, () => peerOf(server, BOT)));
    // A refused join costs nothing from the budget.
    const wrong = code === '00000000' ? '11111111' : '00000000';
    expect(await (bots[0] as RoomPeer).join({ code: wrong })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    const joined = [];
    for (const bot of bots.slice(0, 3)) joined.push(await bot.joinOk({ code }));
    const details = expectLimitedAck(await (bots[3] as RoomPeer).join({ code }), 'room-joins-per-minute');
    expect(details.limit).toBe(3);
    expect(details.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(details.retryAfterS).toBeLessThanOrEqual(60);

    // Not new participants: the same connection joining again, and a participant back with its token.
    const first = joined[0] ?? expect.unreachable();
    expect((await (bots[0] as RoomPeer).joinOk({ code })).self).toBe(first.self);
    (bots[0] as RoomPeer).close();
    const back = await peerOf(server, BOT);
    const resumed = await back.joinOk({
      code,
      resume: { participantId: first.self, token: first.participantToken },
    });
    expect(resumed.self).toBe(first.self);

    await phoneRaces(server, presenter, code);
    expectLimitedAck(await (bots[3] as RoomPeer).join({ code }), 'room-joins-per-minute');
  });
});

describe('rooms per connection and per client', () => {
  it('refuses a connection its third live room and an address its fourth, while another address creates one and races', async () => {
    const server = await serverWith({
      ROOM_MAX_ROOMS_PER_SOCKET: '2',
      ROOM_MAX_ROOMS_PER_CLIENT: '3',
      ROOM_IDLE_MS: '600000',
    });
    const a = await peerOf(server, BOT);
    await a.create();
    await a.create();
    const perConnection = expectLimitedAck(
      await a.ask(ROOM_EVENTS.create, { device: 'desktop' }),
      'rooms-per-connection',
    );
    expect(perConnection.limit).toBe(2);
    // When the soonest of its rooms would end idle.
    expect(perConnection.retryAfterS).toBeGreaterThan(590);
    expect(perConnection.retryAfterS).toBeLessThanOrEqual(600);
    // A room that ends no longer counts.
    expect(await a.ask(ROOM_EVENTS.end)).toEqual({ ok: true });
    await a.create();

    // Another connection from the same address: the address has one room left.
    const b = await peerOf(server, BOT);
    await b.create();
    expect(expectLimitedAck(await b.ask(ROOM_EVENTS.create, { device: 'desktop' }), 'rooms').limit).toBe(3);

    // Another address creates its room; a phone joins it and races.
    const other = await peerOf(server, { 'x-forwarded-for': '198.51.100.7' });
    const created = await other.create({ device: 'desktop', scenario: SCENARIO });
    await phoneRaces(server, other, created.room.code);
    // This machine is not bounded per client.
    const local = [await peerOf(server), await peerOf(server)];
    for (const peer of local) for (let i = 0; i < 2; i++) await peer.create();
  });
});

describe('presence fan-out', () => {
  it('sends a room at most one presence message per interval, each with the latest state, while a phone races', async () => {
    const INTERVAL_MS = 200;
    const BOTS = 30;
    const server = await serverWith({
      ROOM_PRESENCE_INTERVAL_MS: String(INTERVAL_MS),
      ROOM_MESSAGES_PER_SECOND: '1000',
    });
    const { presenter, code } = await roomOf(server);
    const start = performance.now();
    const watcher = await peerOf(server, PHONE);
    const watcherJoin = await watcher.joinOk({ code, name: 'Watcher' });
    const race = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!race.ok) throw new Error(JSON.stringify(race));

    // 30 bots join and report their clocks 3 times each: unbatched, 30 joins and 60 clock updates
    // (each participant's own pacing lets two through), one message each to every page.
    const bots = await connectPeers(server.baseUrl, BOTS);
    track(...bots);
    const joins = await Promise.all(bots.map((bot) => bot.joinOk({ code })));
    const rtt = (i: number, report: number) => 10 * i + report;
    await Promise.all(
      bots.map(async (bot, i) => {
        for (let report = 1; report <= 3; report++)
          expect(
            await bot.ask(ROOM_EVENTS.clock, { offsetMs: 0, uncertaintyMs: 1, rttMs: rtt(i, report) }),
          ).toEqual({
            ok: true,
          });
      }),
    );
    const lanes = [{ lane: 'websocket', status: 'succeeded', totalPerceivedMs: 77 }];
    expect(await watcher.ask(ROOM_EVENTS.result, { raceId: race.race.raceId, lanes })).toEqual({ ok: true });
    await Promise.all(
      joins.map((join, i) =>
        watcher.next(
          ROOM_EVENTS.presence,
          (c) =>
            c.kind !== 'left' && c.participant.id === join.self && c.participant.clock?.rttMs === rtt(i, 3),
        ),
      ),
    );
    const elapsedMs = performance.now() - start;
    const messages = watcher.presenceBatches.length;

    // Every message went out after the watcher joined and before it saw the last, at least an
    // interval apart.
    expect(messages).toBeLessThanOrEqual(Math.floor(elapsedMs / INTERVAL_MS) + 1);
    expect(watcher.received(ROOM_EVENTS.presence).length).toBeGreaterThan(messages);
    // Applied in order, the changes leave every bot as it last reported.
    const folded = new Map<string, Participant>();
    for (const change of watcher.received(ROOM_EVENTS.presence))
      if (change.kind === 'left') folded.delete(change.participantId);
      else folded.set(change.participant.id, change.participant);
    for (const [i, join] of joins.entries()) expect(folded.get(join.self)?.clock?.rttMs).toBe(rtt(i, 3));
    // The phone's race meanwhile: its figure is in the aggregate.
    const aggregate = await presenter.next(ROOM_EVENTS.aggregate, (a) => a.reported === 1);
    expect(aggregate.lanes[0]?.metrics.totalPerceivedMs?.values).toEqual([
      { participantId: watcherJoin.self, value: 77 },
    ]);
  });
});
