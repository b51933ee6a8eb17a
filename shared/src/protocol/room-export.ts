import { z } from 'zod';
import { Participant, RaceAggregate, RaceProgress, RoomCode, RoomRace } from './room.ts';

/**
 * A room's race as a file (issue 17, item 3): the race everyone ran, who was in the room, and every
 * progress count and aggregate the presenter's page received, with the time it received each (page
 * clock, epoch ms), so that the room's race can be replayed on the projector as it came in.
 */

/** Bumped whenever `RoomRaceExport` changes shape; a reader checks it before anything else. */
export const ROOM_RACE_EXPORT_VERSION = 1;

export const RoomRaceUpdate = z.object({
  /** When the presenter's page received it (page clock, epoch ms). */
  receivedAt: z.number(),
  progress: RaceProgress.optional(),
  aggregate: RaceAggregate.optional(),
});
export type RoomRaceUpdate = z.infer<typeof RoomRaceUpdate>;

export const RoomRaceExport = z.object({
  format: z.literal('transport-lab/room-race'),
  version: z.literal(ROOM_RACE_EXPORT_VERSION),
  protocolVersion: z.int().min(1),
  exportedAt: z.number(),
  /** The page's origin where the room ran: where a replay says it was made. */
  origin: z.string().max(200).optional(),
  code: RoomCode,
  race: RoomRace,
  /** When the presenter's page heard the race start (page clock, epoch ms): the replay's 0. */
  startedAt: z.number(),
  participants: z.array(Participant),
  updates: z.array(RoomRaceUpdate),
});
export type RoomRaceExport = z.infer<typeof RoomRaceExport>;
