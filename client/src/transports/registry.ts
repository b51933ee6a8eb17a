import { LANE_IDS, type LaneId, PUSH_LANES } from '@transport-lab/shared';
import { createHttpStreamingClient } from './http-streaming/index.ts';
import { createHybridClient, type PushFollowers } from './hybrid/index.ts';
import { createLongPollingClient } from './long-polling/index.ts';
import { createRequestResponseClient } from './request-response/index.ts';
import { createShortPollingClient } from './short-polling/index.ts';
import { createSseClient } from './sse/index.ts';
import type { TransportClient } from './types.ts';
import { createWebhookClient } from './webhook/index.ts';
import { createWebSocketClient } from './websocket/index.ts';

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

/**
 * The lanes that stand alone, each one folder under `transports/` (its own client, its own tests).
 * This file is the only one that imports lane folders: a lane reaches another only through what is
 * composed here (the hybrid gets the push lanes' followers).
 */
const STANDALONE_LANES: readonly TransportClient[] = [
  createRequestResponseClient(),
  createShortPollingClient(),
  createLongPollingClient(),
  createSseClient(),
  createHttpStreamingClient(),
  createWebhookClient(),
  createWebSocketClient(),
];

/** The push lanes' followers of the page's own lanes. */
export const PUSH_FOLLOWERS: PushFollowers = pushFollowers(STANDALONE_LANES);

/** Every lane; a lane appears on the page once its client is listed here. */
export const defaultRegistry: TransportRegistry = createRegistry([
  ...STANDALONE_LANES,
  createHybridClient(PUSH_FOLLOWERS),
]);
