import { httpStreamingLane } from './http-streaming/index.ts';
import { hybridLane } from './hybrid/index.ts';
import type { ServerLane } from './lane.ts';
import { longPollingLane } from './long-polling/index.ts';
import { requestResponseLane } from './request-response/index.ts';
import { shortPollingLane } from './short-polling/index.ts';
import { sseLane } from './sse/index.ts';
import { webhookLane } from './webhook/index.ts';
import { websocketLane } from './websocket/index.ts';

export type { LabServer, LaneContext, LaneRoute, ServerLane } from './lane.ts';

/**
 * Every lane the server serves, in the page's order (shared `LANE_IDS`): app.ts registers them in
 * this order, the wire ledger counts their routes, the faults wrap their streams, and
 * server/test/laneContract.test.ts runs one contract suite over each. Adding a lane on the server is
 * a folder under `transports/` exporting a `ServerLane`, and one line here.
 */
export const SERVER_LANES: readonly ServerLane[] = [
  requestResponseLane,
  shortPollingLane,
  longPollingLane,
  sseLane,
  httpStreamingLane,
  webhookLane,
  websocketLane,
  hybridLane,
];
