import type { Router } from 'express';
import type { Server } from 'socket.io';
import type { Logger } from '../observability/logger.ts';
import type { RoomDirectory } from './directory.ts';
import { registerBoardRoutes } from './routes.ts';
import { type BoardNoteLimits, BoardService } from './service.ts';
import { registerBoardSocket } from './socket.ts';
import { type BoardRelay, createBoardRelay } from './webhookRelay.ts';

export type { RoomDirectory, RoomRole } from './directory.ts';
export { type BoardNoteLimits, BoardService } from './service.ts';
export type { BoardRelay } from './webhookRelay.ts';

export interface BoardDeps {
  rooms: RoomDirectory;
  /** Other instances share socket.io through Redis (REDIS_URL): a `/board` socket here may follow
   *  the board of a room that lives on another instance (socketRelay.ts). */
  clustered?: boolean;
  logger: Logger;
  receiverOrigin: () => string | undefined;
  scheduleScale: number;
  attemptTimeoutMs: number;
  bodyLimitBytes: number;
  noteLimits: BoardNoteLimits;
}

export interface Boards {
  service: BoardService;
  /** The receiver's part of the webhook lane (see createReceiver's `route`). */
  relay: BoardRelay;
  /** The HTTP routes, on the API router (behind its JSON and error middleware). */
  registerRoutes(router: Router): void;
  /** The `/board` socket.io namespace. */
  registerSocket(io: Server): void;
  close(): void;
}

/** The shared board of each room: its state and log, its five lanes, and its propagation map. */
export function createBoards(deps: BoardDeps): Boards {
  const service = new BoardService({ rooms: deps.rooms, noteLimits: deps.noteLimits });
  const relay = createBoardRelay({ ...deps, boards: service });
  return {
    service,
    relay,
    registerRoutes: (router) => registerBoardRoutes({ router, boards: service }),
    registerSocket: (io) =>
      registerBoardSocket({
        io,
        boards: service,
        logger: deps.logger,
        clustered: deps.clustered ?? false,
        roomHere: (code) => deps.rooms.exists(code),
      }),
    close() {
      relay.close();
      service.close();
    },
  };
}
