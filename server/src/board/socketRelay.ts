import {
  BOARD_EVENTS,
  type BoardChanges,
  type BoardSubscribeRequest,
  type ErrorCode,
  type PropagationMap,
} from '@transport-lab/shared';
import { AppError, errorBody } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { askOtherInstances } from '../socketCluster.ts';
import type { BoardService } from './service.ts';
import type { BoardNamespace } from './socket.ts';

/**
 * The board's websocket lane across instances (REDIS_URL). A board lives beside its room, on the
 * room's home instance (rooms/relay.ts). A `/board` socket on another instance subscribes to it
 * through this relay: its instance joins the socket to the board's channel first, then asks the
 * other instances (socket.io's `serverSideEmit` over the Redis adapter); the home reads the
 * catch-up and keeps the subscription's listeners on behalf of the socket, and the others answer
 * null. The changes themselves reach the socket as every board change reaches its channel: the
 * home's broadcast, through the adapter. Joining before asking leaves no gap: a change applied
 * before the home read the catch-up is in it, one applied after is broadcast to a channel the
 * socket is already in (a change that comes both ways is dropped by the page, by version).
 *
 * The HTTP lanes need no relay: their paths carry the code, and the cluster's nginx routes
 * `/api/boards/CODE…` to the room's instance by the code's first symbol, as it routes `?room=CODE`.
 */

const RELAY_EVENT = 'board:relay';

export type BoardRelayRequest =
  | { op: 'subscribe'; socketId: string; request: BoardSubscribeRequest }
  | { op: 'forget'; socketId: string };

export interface BoardRelayAnswer {
  catchUp?: BoardChanges;
  map?: PropagationMap;
  error?: { code: string; message: string; details?: unknown };
}

export interface BoardServerSideEvents {
  [RELAY_EVENT]: (request: BoardRelayRequest, reply: (answer: BoardRelayAnswer | null) => void) => void;
}

/** On every instance of a cluster: serves the subscriptions of other instances' sockets to boards
 *  whose room lives here, and sends this instance's to theirs. */
export function createBoardSocketRelay({
  nsp,
  boards,
  roomHere,
  logger,
  boardRoom,
}: {
  nsp: BoardNamespace;
  boards: BoardService;
  /** The room lives on this instance. */
  roomHere: (code: string) => boolean | Promise<boolean>;
  logger: Logger;
  boardRoom: (code: string) => string;
}) {
  /** A socket of another instance → what its subscriptions here hold (listeners), released when its
   *  instance says it went away. */
  const held = new Map<string, Array<() => void>>();

  async function serve(request: BoardRelayRequest): Promise<BoardRelayAnswer | null> {
    if (request.op === 'forget') {
      for (const off of held.get(request.socketId)?.splice(0) ?? []) off();
      held.delete(request.socketId);
      return null;
    }
    const { code, after, presenter } = request.request;
    if (!(await roomHere(code))) return null;
    const { socketId } = request;
    const offs = held.get(socketId) ?? [];
    held.set(socketId, offs);
    try {
      if (presenter) {
        const role = await boards.authorize(code, presenter);
        if (role !== 'presenter') throw new AppError('FORBIDDEN', 'Only the presenter sees the map.');
        offs.push(
          await boards.watchPropagation(code, (update) =>
            nsp.to(socketId).emit(BOARD_EVENTS.propagation, update),
          ),
        );
      }
      const following = await boards.follow(
        code,
        after,
        () => undefined, // the broadcast to the board's channel carries the changes
        () => {
          nsp.to(socketId).emit(BOARD_EVENTS.ended);
          nsp.in(socketId).socketsLeave(boardRoom(code));
        },
      );
      offs.push(following.off);
      const map = presenter ? await boards.propagation(code) : undefined;
      return { catchUp: following.catchUp, ...(map ? { map } : {}) };
    } catch (error) {
      const body = errorBody(error);
      if (body.code === 'INTERNAL') logger.error({ err: error, socketId }, 'relayed board subscribe failed');
      return { error: body };
    }
  }

  nsp.on(RELAY_EVENT, (request: BoardRelayRequest, reply: (answer: BoardRelayAnswer | null) => void) => {
    serve(request).then(reply, (error: unknown) => {
      logger.error({ err: error }, 'board relay failed');
      reply(null);
    });
  });

  const ask = (request: BoardRelayRequest) =>
    askOtherInstances<BoardRelayRequest, BoardRelayAnswer>(nsp, RELAY_EVENT, request);

  return {
    /** Subscribes a socket of this instance to a board of another (the caller joined it to the
     *  board's channel already); throws NOT_FOUND when no instance holds the room. */
    async subscribe(
      socketId: string,
      request: BoardSubscribeRequest,
    ): Promise<{ catchUp: BoardChanges; map?: PropagationMap }> {
      const answer = await ask({ op: 'subscribe', socketId, request });
      if (!answer) throw new AppError('NOT_FOUND', `No room ${request.code}.`);
      if (answer.error)
        throw new AppError(answer.error.code as ErrorCode, answer.error.message, answer.error.details);
      if (!answer.catchUp) throw new AppError('INTERNAL', 'The board relay answered without a catch-up.');
      return { catchUp: answer.catchUp, ...(answer.map ? { map: answer.map } : {}) };
    },
    /** The socket went away: the instances holding its subscriptions let them go. */
    forget(socketId: string): void {
      void ask({ op: 'forget', socketId });
    },
  };
}

export type BoardSocketRelay = ReturnType<typeof createBoardSocketRelay>;
