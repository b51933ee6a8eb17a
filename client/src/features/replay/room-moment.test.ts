import type { RaceAggregate, RoomRaceExport } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { readRecording } from './open.ts';
import { prepareRoomRecording, roomMomentAt } from './room-moment.ts';

const AGGREGATE: RaceAggregate = { raceId: 'race-000009', expected: 2, reported: 2, lanes: [] };

const ROOM: RoomRaceExport = {
  format: 'transport-lab/room-race',
  version: 1,
  protocolVersion: 1,
  exportedAt: 9_000,
  code: 'ABCD2345',
  race: {
    raceId: 'race-000009',
    scenario: {
      spec: { durationMs: 1_000, steps: 5 },
      lanes: ['websocket'],
      laneSettings: { longPollWaitMs: 25_000, hybridWaitS: 2, hybridPushLane: 'sse' },
    },
    startedAt: 5,
    expected: 2,
  },
  startedAt: 1_000,
  participants: [],
  // Out of order in the file: played in the order they came.
  updates: [
    { receivedAt: 2_500, aggregate: AGGREGATE },
    { receivedAt: 1_200, progress: { raceId: 'race-000009', expected: 2, reported: 1 } },
  ],
};

describe('a room’s race played back', () => {
  it('shows each count and aggregate from the moment the presenter’s page received it', () => {
    const rec = prepareRoomRecording(ROOM, 'room.json');
    expect(rec.durationMs).toBe(1_500);
    expect(roomMomentAt(rec, 199)).toEqual({ passed: 0, progress: undefined, aggregate: undefined });
    expect(roomMomentAt(rec, 200).progress?.reported).toBe(1);
    expect(roomMomentAt(rec, 1_499).aggregate).toBeUndefined();
    expect(roomMomentAt(rec, 1_500)).toMatchObject({
      passed: 2,
      aggregate: AGGREGATE,
      progress: { reported: 2 },
    });
  });

  it('is opened as a room’s recording, and a newer version is refused naming both', () => {
    expect(readRecording(JSON.stringify(ROOM), 'room.json')).toMatchObject({ ok: true, kind: 'room' });
    expect(readRecording(JSON.stringify({ ...ROOM, version: 2 }), 'room.json')).toMatchObject({
      ok: false,
      message: /format version 2, newer than this page reads \(version 1\)/,
    });
    expect(readRecording(JSON.stringify({ ...ROOM, updates: 'none' }), 'room.json')).toMatchObject({
      ok: false,
      message: /not a complete recording of version 1: .* at updates\./,
    });
  });
});
