import { LANE_IDS, type LaneId, PUSH_LANES } from '@transport-lab/shared';
import type { ClientLane, PushFollowers, TransportClient } from './types.ts';

/** Which lanes this client can run, in the page's order (`LANE_IDS`), and the client for each. */
export interface TransportRegistry {
  readonly lanes: readonly LaneId[];
  get(id: LaneId): TransportClient | undefined;
}

export function createRegistry(clients: readonly TransportClient[]): TransportRegistry {
  const byId = new Map<LaneId, TransportClient>(clients.map((client) => [client.id, client]));
  return {
    lanes: LANE_IDS.filter((id) => byId.has(id)),
    get: (id) => byId.get(id),
  };
}

/** The followers of the push lanes (`PUSH_LANES`) among `clients`, for a lane that composes them. */
export function pushFollowers(clients: readonly TransportClient[]): PushFollowers {
  const followers: PushFollowers = {};
  for (const client of clients) {
    const id = PUSH_LANES.find((push) => push === client.id);
    if (id !== undefined && client.follow !== undefined) followers[id] = client.follow;
  }
  return followers;
}

/** The lanes made, and the push followers the composing ones were handed. */
export interface ComposedLanes {
  clients: TransportClient[];
  followers: PushFollowers;
}

/**
 * Makes each lane's client from its folder's default export (`modules`, keyed `./<id>/index.ts`), in
 * the shared list's order: first the lanes that stand alone, then those that compose the push lanes'
 * followers gathered from the first. A lane of `ids` without a folder is not offered; a folder whose
 * export names another lane is a mistake worth stopping for.
 */
export function composeLanes(
  modules: Readonly<Record<string, ClientLane>>,
  ids: readonly LaneId[] = LANE_IDS,
): ComposedLanes {
  const lanes = ids.flatMap((id) => {
    const lane = modules[`./${id}/index.ts`];
    if (lane === undefined) return [];
    if (lane.id !== id) throw new Error(`client/src/transports/${id}/index.ts exports the lane '${lane.id}'`);
    return [lane];
  });
  const clients = lanes.flatMap((lane) => (lane.composes === undefined ? [lane.create()] : []));
  const followers = pushFollowers(clients);
  for (const lane of lanes) if (lane.composes === 'push-followers') clients.push(lane.create(followers));
  return { clients, followers };
}
