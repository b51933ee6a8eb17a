import type { IncomingMessage } from 'node:http';
import {
  API_PATHS,
  API_ROUTES,
  type ClientToServerEvents,
  type LaneId,
  type ServerToClientEvents,
} from '@transport-lab/shared';
import type { Router } from 'express';
import type { Server } from 'socket.io';
import type { TaskOwnership } from '../access/index.ts';
import type { StreamTokens } from '../access/streamTokens.ts';
import type { DescribeRoute } from '../contract/describe.ts';
import type { AsyncTasks } from '../http/createTask.ts';
import type { Logger } from '../observability/logger.ts';
import type { TaskEngine } from '../tasks/engine.ts';
import type { TaskStarter } from '../tasks/startTask.ts';
import type { WebhookService } from '../webhooks/types.ts';

export type LabServer = Server<ClientToServerEvents, ServerToClientEvents>;

/** One of a lane's HTTP routes: a method and an express route pattern (`/api/tasks/:id/stream`). */
export interface LaneRoute {
  method: 'GET' | 'POST';
  route: string;
}

/** What every asynchronous lane's client asks of the task resource: the create (`POST /api/tasks`,
 *  http/createTask.ts) and the cancel (`POST …/cancel`, http/taskRoutes.ts). */
export const ASYNC_TASK_ROUTES: readonly LaneRoute[] = [
  { method: 'POST', route: API_PATHS.tasks },
  { method: 'POST', route: API_ROUTES.cancel },
];

/**
 * A lane on the server: one folder under `transports/`, one entry in `transports/index.ts`. What
 * the rest of the server needs to know of it is declared here, so that app.ts, the wire ledger and
 * the faults read the list instead of naming lanes:
 * - `counted`: every request its client makes to start, follow and cancel a task (whoever serves
 *   the route: `POST /api/tasks` is the task resource's, cancel is common). The wire ledger counts
 *   the union over all lanes, tagged requests only; the page's observation routes are in no lane.
 * - `socketIo`: its client speaks socket.io (every request under socket.io's path is counted).
 * - `streams`: its GET routes answered as event streams, which a buffer-streams fault holds.
 * Routes are data, not predicates, so that the union compiles to one regular expression per method
 * (a request pays one test, not one per lane: http/wireReport.ts).
 */
export interface ServerLane {
  id: LaneId;
  counted: readonly LaneRoute[];
  socketIo?: boolean;
  streams?: readonly string[];
  /** Describes the lane's own routes in the OpenAPI document (contract/describe.ts has the pieces). */
  describe?(route: DescribeRoute): void;
  /** Adds the lane's routes, socket handlers and task-resource plug-ins; called once, in list order. */
  register(ctx: LaneContext): void;
}

/** What a lane composes: everything it may use, handed in, so that it imports no other lane. */
export interface LaneContext {
  /** The API router: the lab's middleware (logging, body parsing, wire stamps) runs before a lane's
   *  routes, the `/api` 404 and the error envelope after them. */
  router: Router;
  /** socket.io, with the origin check and the per-client socket bound already in place. */
  io: LabServer;
  engine: TaskEngine;
  logger: Logger;
  /** The one way to create a task (tasks/startTask.ts). */
  tasks: TaskStarter;
  /** `POST /api/tasks`, the asynchronous task resource: a lane adds what it needs (http/createTask.ts). */
  asyncTasks: AsyncTasks;
  /** Counts a held request or stream among the open ones (MAX_OPEN_STREAMS, MAX_STREAMS_PER_CLIENT),
   *  or throws the refusal (429) for a client past its share; the returned function uncounts it
   *  (more than once is harmless). */
  openStream: (req: IncomingMessage) => () => void;
  /** Who may cancel which task (access/ownership.ts). */
  ownership: TaskOwnership;
  webhooks: WebhookService;
  settings: LaneSettings;
  /** Short-lived stream tokens (access/streamTokens.ts): a stream opened with one ends when it expires. */
  streamTokens: Pick<StreamTokens, 'check'>;
}

/** The server settings lanes read (config.ts has their units and bounds). */
export interface LaneSettings {
  syncTimeoutMs: number;
  /** WIRE_ACCOUNTING is on: a lane may report its own handshake bytes (the websocket's upgrade). */
  wireAccounting: boolean;
}

/** An express route pattern as the source of an exact-match regular expression (no anchors). */
export function routeSource(pattern: string): string {
  return pattern.replace(/:[A-Za-z]+/g, '[^/]+');
}

/** One anchored alternation of route patterns: a request is tested once, whatever their number. */
export function routesRegex(patterns: Iterable<string>): RegExp {
  const unique = [...new Set(patterns)].map(routeSource);
  // An empty alternation would match every path: no routes match none.
  return unique.length === 0 ? /(?!)/ : new RegExp(`^(?:${unique.join('|')})$`);
}
