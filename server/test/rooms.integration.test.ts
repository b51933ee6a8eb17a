import {
  aggregateRace,
  type LaneResult,
  type ParticipantId,
  type RaceAggregate,
  ROOM_EVENTS,
  type StartRaceAck,
} from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';
import { connectPeers, RoomPeer, SCENARIO } from './roomsHarness.ts';

const AUDIENCE = 200;

let server: TestServer;
const peers: RoomPeer[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const peer of peers) peer.close();
  await server.close();
});

/**
 * Participant i's own figures: distinct for every participant and metric (no two participants share
 * a value, so each can be found in the aggregate), with a failed lane and a missing metric here and
 * there, as real pages report them.
 */
function figuresOf(i: number): LaneResult[] {
  return [
    {
      lane: 'short-polling',
      status: i % 17 === 0 ? 'failed' : 'succeeded',
      firstFeedbackMs: 20 + i * 0.5,
      totalPerceivedMs: 900 + i * 3.25,
      completionLagMs: 400 - i * 1.5,
      requests: 3 + i,
      bytesUp: 1_000 + 7 * i,
      bytesDown: 5_000 + 11 * i,
    },
    {
      lane: 'sse',
      status: 'succeeded',
      firstFeedbackMs: 10 + i * 0.25,
      totalPerceivedMs: 600 + i * 2.5,
      ...(i % 10 === 0 ? {} : { completionLagMs: 5 + i * 0.125 }),
      requests: 1,
      bytesUp: 500 + i,
      bytesDown: 3_000 + 13 * i,
    },
    // Outliers on purpose: every 50th participant is far slower on the websocket lane.
    {
      lane: 'websocket',
      status: i % 23 === 0 ? 'error' : 'succeeded',
      firstFeedbackMs: 5 + i * 0.1,
      totalPerceivedMs: i % 50 === 0 ? 20_000 + i : 550 + i * 0.75,
      completionLagMs: 2 + i * 0.01,
      requests: 1,
      bytesUp: 300 + i,
      bytesDown: 2_000 + 17 * i,
    },
  ];
}

describe(`a room of ${AUDIENCE} participants racing together`, () => {
  it("gives the presenter an aggregate equal to aggregateRace over the participants' own figures, each value exactly once", async () => {
    const presenter = await RoomPeer.connect(server.baseUrl);
    peers.push(presenter);
    const created = await presenter.create({ device: 'desktop', name: 'Presenter', scenario: SCENARIO });
    const code = created.room.code;

    const audience = await connectPeers(server.baseUrl, AUDIENCE);
    peers.push(...audience);
    const ids: ParticipantId[] = [];
    for (let i = 0; i < AUDIENCE; i += 25) {
      const acks = await Promise.all(
        audience.slice(i, i + 25).map((peer, k) => peer.joinOk({ code, name: `Phone ${i + k}` })),
      );
      for (const ack of acks) {
        expect(ack.role).toBe('audience');
        ids.push(ack.self);
      }
    }
    expect(new Set(ids).size).toBe(AUDIENCE);

    // Everyone hears the race, and it expects exactly the connected audience.
    const start = (await presenter.ask(ROOM_EVENTS.startRace)) as StartRaceAck;
    if (!start.ok) throw new Error(JSON.stringify(start));
    expect(start.race.expected).toBe(AUDIENCE);
    expect(start.race.scenario).toEqual(SCENARIO);
    const heard = await Promise.all(audience.map((peer) => peer.next(ROOM_EVENTS.race)));
    for (const race of heard) expect(race).toEqual(start.race);
    const raceId = start.race.raceId;

    // Every participant reports its own figures, in batches (a hall's results arrive over seconds).
    const own = new Map<ParticipantId, LaneResult[]>();
    const startedAt = performance.now();
    for (let i = 0; i < AUDIENCE; i += 40) {
      const acks = await Promise.all(
        audience.slice(i, i + 40).map((peer, k) => {
          const lanes = figuresOf(i + k);
          own.set(ids[i + k] as ParticipantId, lanes);
          return peer.ask(ROOM_EVENTS.result, { raceId, lanes });
        }),
      );
      for (const ack of acks) expect(ack).toEqual({ ok: true });
    }

    const final = await presenter.next(ROOM_EVENTS.aggregate, (a) => a.reported === AUDIENCE);
    const elapsedMs = performance.now() - startedAt;
    const expected: RaceAggregate = aggregateRace(raceId, AUDIENCE, own);
    expect(final).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(final.lanes.map((l) => l.lane)).toEqual(['short-polling', 'sse', 'websocket']);
    expect(final.lanes.find((l) => l.lane === 'websocket')?.metrics.totalPerceivedMs?.outliers).toHaveLength(
      AUDIENCE / 50,
    );

    // Each participant's value appears exactly once per lane and metric, and is theirs.
    for (const lane of final.lanes) {
      for (const [metric, distribution] of Object.entries(lane.metrics)) {
        const reportedBy = distribution.values.map((v) => v.participantId);
        expect(new Set(reportedBy).size).toBe(reportedBy.length);
        for (const { participantId, value } of distribution.values) {
          const mine = own.get(participantId)?.find((r) => r.lane === lane.lane);
          expect(mine?.[metric as keyof LaneResult]).toBe(value);
        }
        const shouldHave = [...own.values()].filter(
          (lanes) => lanes.find((r) => r.lane === lane.lane)?.[metric as keyof LaneResult] !== undefined,
        ).length;
        expect(reportedBy).toHaveLength(shouldHave);
      }
    }

    // Throttled: at most one aggregate per 250 ms, plus the one at the start and the immediate last.
    const aggregates = presenter.received(ROOM_EVENTS.aggregate).filter((a) => a.raceId === raceId);
    expect(aggregates.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 250) + 3);
    expect(aggregates.at(-1)).toEqual(final);

    // Progress reaches everyone; the aggregate reaches the presenter only.
    const progress = await Promise.all(
      audience.map((peer) => peer.next(ROOM_EVENTS.raceProgress, (p) => p.reported === AUDIENCE)),
    );
    for (const p of progress) expect(p).toEqual({ raceId, expected: AUDIENCE, reported: AUDIENCE });
    expect(audience.every((peer) => peer.received(ROOM_EVENTS.aggregate).length === 0)).toBe(true);
  });
});
