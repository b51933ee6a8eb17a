import { LANE_IDS, type LaneId } from '@transport-lab/shared';
import { createHybridClient } from './hybrid.ts';
import { createLongPollingClient } from './long-polling.ts';
import { createRequestResponseClient } from './request-response.ts';
import { createShortPollingClient } from './short-polling.ts';
import { createSseClient } from './sse.ts';
import type { TransportClient } from './types.ts';
import { createWebhookClient } from './webhook.ts';
import { createWebSocketClient } from './websocket.ts';

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

/** Every lane; a lane appears on the page once its client is listed here. */
export const defaultRegistry: TransportRegistry = createRegistry([
  createRequestResponseClient(),
  createShortPollingClient(),
  createLongPollingClient(),
  createSseClient(),
  createWebhookClient(),
  createWebSocketClient(),
  createHybridClient(),
]);
