import { LANE_IDS, LANES, type LaneId, type LaneMechanism } from '../protocol/lanes.ts';

/**
 * The lanes the guide's rules speak of, grouped by how each learns of progress (`LANES[id].mechanism`):
 * the guide keeps no list of lanes of its own, so a new lane is ranked by saying which mechanism it is.
 */
export const lanesOf = (...mechanisms: LaneMechanism[]): LaneId[] =>
  LANE_IDS.filter((id) => mechanisms.includes(LANES[id].mechanism));
export const BLOCKING = lanesOf('blocking');
export const POLLING = lanesOf('polling');
export const HELD_POLL = lanesOf('held-poll');
export const EVENT_STREAM = lanesOf('event-stream');
export const FETCH_STREAM = lanesOf('fetch-stream');
export const CALLBACK = lanesOf('callback');
export const SOCKET = lanesOf('socket');
export const WAIT_PUSH = lanesOf('wait-then-push');
/** Lanes that hold a connection open while the task runs. */
export const HELD = lanesOf('held-poll', 'event-stream', 'fetch-stream', 'socket', 'wait-then-push');
/** Lanes that start with a 202 (or an acknowledgement) and learn the end by another exchange. */
export const ASYNC = LANE_IDS.filter((id) => !BLOCKING.includes(id));
/** A response read as it arrives: what a buffering proxy holds back. */
export const STREAMS = lanesOf('event-stream', 'fetch-stream');
/** Lanes that show each step as it happens. */
export const PUSH = lanesOf('held-poll', 'event-stream', 'fetch-stream', 'socket');
