import { LANE_IDS, type RoomScenario } from '@transport-lab/shared';

/**
 * The scenario of a room created without one: the page's own defaults (client
 * `DEFAULT_SPEC_INPUT` and `DEFAULT_LANE_SETTINGS`), every lane. The presenter changes it with
 * `room:scenario:set`.
 */
export const DEFAULT_ROOM_SCENARIO: RoomScenario = {
  spec: { durationMs: 3_000, steps: 20 },
  lanes: [...LANE_IDS],
  laneSettings: { longPollWaitMs: 25_000, hybridWaitS: 2, hybridPushLane: 'sse' },
};
