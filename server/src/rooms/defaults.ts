import { DEFAULT_LANE_SETTINGS, DEFAULT_TASK_SPEC, LANE_IDS, type RoomScenario } from '@transport-lab/shared';

/**
 * The scenario of a room created without one: the page's own defaults (shared `DEFAULT_TASK_SPEC`
 * and `DEFAULT_LANE_SETTINGS`), every lane. The presenter changes it with
 * `room:scenario:set`.
 */
export const DEFAULT_ROOM_SCENARIO: RoomScenario = {
  spec: { ...DEFAULT_TASK_SPEC },
  lanes: [...LANE_IDS],
  laneSettings: { ...DEFAULT_LANE_SETTINGS },
};
