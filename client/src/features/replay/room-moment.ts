import type { RaceAggregate, RaceProgress, RoomRaceExport } from '@transport-lab/shared';

/**
 * A room's race recording (issue 17, item 3) as a playback: at a position (ms since the presenter's
 * page heard the race start), the newest progress count and aggregate it had received by then, as
 * recorded, never recomputed.
 */
export interface PreparedRoomRecording {
  data: RoomRaceExport;
  source: string;
  /** Each update's position (ms since the start), ascending. */
  at: number[];
  durationMs: number;
}

export interface RoomMoment {
  /** How many updates had come: the same count, the same moment. */
  passed: number;
  progress: RaceProgress | undefined;
  aggregate: RaceAggregate | undefined;
}

export function prepareRoomRecording(data: RoomRaceExport, source: string): PreparedRoomRecording {
  const updates = [...data.updates].sort((a, b) => a.receivedAt - b.receivedAt);
  const ordered = { ...data, updates };
  const at = updates.map((u) => Math.max(0, u.receivedAt - data.startedAt));
  return { data: ordered, source, at, durationMs: at.at(-1) ?? 0 };
}

export function roomMomentAt(rec: PreparedRoomRecording, positionMs: number): RoomMoment {
  let passed = 0;
  while (passed < rec.at.length && (rec.at[passed] as number) <= positionMs) passed++;
  let progress: RaceProgress | undefined;
  let aggregate: RaceAggregate | undefined;
  for (const update of rec.data.updates.slice(0, passed)) {
    if (update.aggregate) {
      aggregate = update.aggregate;
      progress = {
        raceId: update.aggregate.raceId,
        expected: update.aggregate.expected,
        reported: update.aggregate.reported,
      };
    }
    if (update.progress) progress = update.progress;
  }
  return { passed, progress, aggregate };
}
