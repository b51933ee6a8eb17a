import { ROOM_EVENTS, type StartRaceAck } from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';
import { RoomPeer, SCENARIO } from './roomsHarness.ts';

let server: TestServer;
const peers: RoomPeer[] = [];

beforeAll(async () => {
  // Each presence change as it happens (a batch a millisecond at most): this suite waits for a
  // participant's away state, which a longer interval may merge with its return (rooms.safety
  // tests the pacing).
  server = await startTestServer({ ROOM_PRESENCE_INTERVAL_MS: '1' });
});

afterAll(async () => {
  for (const peer of peers) peer.close();
  await server.close();
});

async function peer(reconnection = false): Promise<RoomPeer> {
  const p = await RoomPeer.connect(server.baseUrl, { reconnection });
  peers.push(p);
  return p;
}

const CLOCK = { offsetMs: 1, uncertaintyMs: 1, rttMs: 2 };

/** Cuts the connection under the socket (as a phone's network does); the client reconnects. */
function dropNetwork(p: RoomPeer): Promise<void> {
  const back = new Promise<void>((resolve) => p.socket.once('connect', () => resolve()));
  p.socket.io.engine.close();
  return back;
}

describe('connection state recovery on /room', () => {
  it('brings a dropped socket back into its room as the same participant, with the pushes it missed', async () => {
    const presenter = await peer();
    const { room } = await presenter.create({ device: 'desktop' });
    const member = await peer(true);
    const joined = await member.joinOk({ code: room.code, name: 'Phone' });
    // A first broadcast, so that the client has an offset to recover from.
    expect(await presenter.ask(ROOM_EVENTS.setScenario, { scenario: SCENARIO })).toEqual({ ok: true });
    await member.next(ROOM_EVENTS.scenario);

    const reconnected = dropNetwork(member);
    await presenter.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'updated' && c.participant.id === joined.self && !c.participant.connected,
    );
    const whileAway = { ...SCENARIO, lanes: ['sse' as const] };
    expect(await presenter.ask(ROOM_EVENTS.setScenario, { scenario: whileAway })).toEqual({ ok: true });
    await reconnected;
    expect(member.socket.recovered).toBe(true);

    await presenter.next(
      ROOM_EVENTS.presence,
      (c) => c.kind === 'updated' && c.participant.id === joined.self && c.participant.connected,
    );
    expect(await member.next(ROOM_EVENTS.scenario, (s) => s.lanes.length === 1)).toEqual(whileAway);
    expect(await member.ask(ROOM_EVENTS.clock, CLOCK)).toEqual({ ok: true });
    const snapshot = await (await peer()).joinOk({ code: room.code });
    expect(snapshot.room.participants.filter((p) => p.id === joined.self)).toEqual([
      expect.objectContaining({ connected: true, clock: CLOCK }),
    ]);
  });

  it('gives a presenter who comes back the current aggregate (aggregates are not kept for recovery)', async () => {
    const presenter = await peer(true);
    const { room } = await presenter.create({ device: 'desktop', scenario: SCENARIO });
    const member = await peer();
    const joined = await member.joinOk({ code: room.code });
    const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!start.ok) throw new Error(JSON.stringify(start));
    await presenter.next(ROOM_EVENTS.aggregate, (a) => a.reported === 0);

    const reconnected = dropNetwork(presenter);
    await member.next(ROOM_EVENTS.presence, (c) => c.kind === 'updated' && !c.participant.connected);
    const lanes = [{ lane: 'sse', status: 'succeeded', totalPerceivedMs: 250 }];
    expect(await member.ask(ROOM_EVENTS.result, { raceId: start.race.raceId, lanes })).toEqual({ ok: true });
    await reconnected;
    expect(presenter.socket.recovered).toBe(true);
    const aggregate = await presenter.next(ROOM_EVENTS.aggregate, (a) => a.reported === 1);
    expect(aggregate.lanes[0]?.metrics.totalPerceivedMs?.values).toEqual([
      { participantId: joined.self, value: 250 },
    ]);
    // Its rights came back with it.
    expect(await presenter.ask(ROOM_EVENTS.setScenario, { scenario: SCENARIO })).toEqual({ ok: true });
  });

  it('leaves a recovered socket in no room when its participant rejoined elsewhere meanwhile', async () => {
    const presenter = await peer();
    const { room } = await presenter.create({ device: 'desktop' });
    const member = await peer(true);
    const joined = await member.joinOk({ code: room.code });
    expect(await presenter.ask(ROOM_EVENTS.setScenario, { scenario: SCENARIO })).toEqual({ ok: true });
    await member.next(ROOM_EVENTS.scenario);

    const reconnected = dropNetwork(member);
    await presenter.next(ROOM_EVENTS.presence, (c) => c.kind === 'updated' && !c.participant.connected);
    const otherTab = await peer();
    await otherTab.joinOk({
      code: room.code,
      resume: { participantId: joined.self, token: joined.participantToken },
    });
    await reconnected;
    expect(member.socket.recovered).toBe(true);
    expect(await member.ask(ROOM_EVENTS.clock, CLOCK)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await otherTab.ask(ROOM_EVENTS.clock, CLOCK)).toEqual({ ok: true });
    // Room pushes now reach the tab that speaks for the participant, not the old socket.
    expect(
      await presenter.ask(ROOM_EVENTS.setScenario, { scenario: { ...SCENARIO, lanes: ['hybrid'] } }),
    ).toEqual({
      ok: true,
    });
    await otherTab.next(ROOM_EVENTS.scenario);
    // A round trip on the old socket: had the broadcast been sent to it, it would have come first.
    await member.ask(ROOM_EVENTS.clock, CLOCK);
    const forOld = member.received(ROOM_EVENTS.scenario);
    expect(forOld.some((s) => s.lanes[0] === 'hybrid')).toBe(false);
  });
});
