import {
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  type BoardClientToServerEvents,
  type BoardServerToClientEvents,
  BoardSubscribeRequest,
} from '@transport-lab/shared';
import type { Namespace, Server, Socket } from 'socket.io';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { refusePacket, socketHandler } from '../socketHandler.ts';
import type { BoardService } from './service.ts';
import { type BoardServerSideEvents, createBoardSocketRelay } from './socketRelay.ts';

/** The board's namespace, with the relay's server-side events (socketRelay.ts). */
export type BoardNamespace = Namespace<
  BoardClientToServerEvents,
  BoardServerToClientEvents,
  BoardServerSideEvents
>;
type BoardSocket = Socket<BoardClientToServerEvents, BoardServerToClientEvents>;

export const boardRoom = (code: string) => `board:${code}`;

/** Subscriptions one connection may make: a page needs one (two for a presenter), a few more cover
 *  reconnections; past it each costs a listener until disconnect, so a flood is refused. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 16;

/**
 * The board's websocket lane: socket.io namespace `/board`, apart from the task lane's and the
 * room's, so each one's traffic stays its own. `board:subscribe {code, after}` joins the board's
 * socket.io room and then reads the catch-up in the same turn (join first: a change applied in
 * between comes both ways and the page drops the second copy by version; none can fall between).
 * Every change is broadcast to the room as it is applied. A presenter's credentials on the
 * subscribe also bring the propagation map: the whole map in the ack, then updates.
 */
export function registerBoardSocket({
  io,
  boards,
  logger,
  clustered = false,
  roomHere = () => true,
}: {
  // The lab's server is typed with the task lane's events; the namespace has its own.
  io: Server;
  boards: BoardService;
  logger: Logger;
  /** On Redis with other instances: a board whose room is elsewhere is followed through the relay. */
  clustered?: boolean;
  roomHere?: (code: string) => boolean | Promise<boolean>;
}): void {
  const nsp: BoardNamespace = io.of(BOARD_NAMESPACE);
  boards.onChange((code, change) => nsp.to(boardRoom(code)).emit(BOARD_EVENTS.change, change));
  const relay = clustered ? createBoardSocketRelay({ nsp, boards, roomHere, logger, boardRoom }) : undefined;

  nsp.on('connection', (socket: BoardSocket) => {
    const unwatch: (() => void)[] = [];
    /** It followed a board of another instance: that instance holds listeners for it. */
    let relayed = false;
    socket.on('disconnect', () => {
      for (const off of unwatch.splice(0)) off();
      if (relayed) relay?.forget(socket.id);
    });

    // Counted before anything is parsed, junk included: each subscription costs a listener until
    // disconnect, so past the cap a connection's asks are answered here and go no further.
    let subscriptions = 0;
    socket.use((packet, next) => {
      if (packet[0] !== BOARD_EVENTS.subscribe || ++subscriptions <= MAX_SUBSCRIPTIONS_PER_SOCKET) {
        next();
        return;
      }
      refusePacket(
        packet,
        new AppError(
          'RATE_LIMITED',
          `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per connection.`,
        ).toBody(),
      );
    });
    socket.on(
      BOARD_EVENTS.subscribe,
      socketHandler(
        socket,
        logger,
        BOARD_EVENTS.subscribe,
        BoardSubscribeRequest,
        async ({ code, after, presenter }) => {
          if (relay && !(await roomHere(code))) {
            // The room's home instance holds the board: join its channel first, then ask (no gap).
            const channel = boardRoom(code);
            const wasIn = socket.rooms.has(channel);
            socket.join(channel);
            relayed = true;
            try {
              return await relay.subscribe(socket.id, { code, after, ...(presenter ? { presenter } : {}) });
            } catch (error) {
              if (!wasIn) socket.leave(channel);
              throw error;
            }
          }
          let map: Awaited<ReturnType<BoardService['propagation']>> | undefined;
          if (presenter) {
            const role = await boards.authorize(code, presenter);
            if (role !== 'presenter') throw new AppError('FORBIDDEN', 'Only the presenter sees the map.');
            unwatch.push(
              await boards.watchPropagation(code, (update) => socket.emit(BOARD_EVENTS.propagation, update)),
            );
          }
          // Join and read in one turn: nothing is awaited between them.
          const following = await boards.follow(
            code,
            after,
            () => undefined, // the broadcast above carries the changes
            () => {
              socket.emit(BOARD_EVENTS.ended);
              socket.leave(boardRoom(code));
            },
          );
          socket.join(boardRoom(code));
          unwatch.push(following.off);
          if (presenter) map = await boards.propagation(code);
          return { catchUp: following.catchUp, ...(map ? { map } : {}) };
        },
      ),
    );
  });
}
