import { LANE_IDS, type LaneId } from '@transport-lab/shared';
import type { ServerLane } from './lane.ts';

export type { LabServer, LaneContext, LaneRoute, ServerLane } from './lane.ts';

/**
 * Loads each lane of `ids` from its folder, `transports/<id>/index.ts`, whose default export is its
 * `ServerLane`. The shared lane list (`LANE_IDS`) is the only list: a lane is added by its entry
 * there and its folder here, with no line to edit in this file or in app.ts.
 */
export async function loadServerLanes(ids: readonly LaneId[]): Promise<ServerLane[]> {
  return Promise.all(
    ids.map(async (id) => {
      let module: { default?: Partial<ServerLane> };
      try {
        module = await import(`./${id}/index.ts`);
      } catch (cause) {
        throw new Error(
          `lane '${id}' is in the shared LANE_IDS but server/src/transports/${id}/index.ts does not load`,
          {
            cause,
          },
        );
      }
      const lane = module.default;
      if (lane?.id !== id || typeof lane.register !== 'function' || !Array.isArray(lane.counted))
        throw new Error(
          `server/src/transports/${id}/index.ts must export as default the ServerLane with id '${id}'`,
        );
      return lane as ServerLane;
    }),
  );
}

/**
 * Every lane the server serves, in the page's order (shared `LANE_IDS`): app.ts registers them in
 * this order, the wire ledger counts their routes, the faults wrap their streams, the OpenAPI
 * document holds their descriptions, and server/test/laneContract.test.ts runs one contract suite
 * over each.
 */
export const SERVER_LANES: readonly ServerLane[] = await loadServerLanes(LANE_IDS);
