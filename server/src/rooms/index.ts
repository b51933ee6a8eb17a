import {
  ClockReport,
  CreateRoomRequest,
  type ErrorBody,
  InjectFaultRequest,
  JoinRoomRequest,
  RaceResult,
  ROOM_EVENTS,
  ROOM_NAMESPACE,
  SetScenarioRequest,
} from '@transport-lab/shared';
import type { Server } from 'socket.io';
import { clientOf, peerOf, type RateBudgets } from '../access/index.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { socketHandler as handle, refusePacket } from '../socketHandler.ts';
import { createRoomLimits, type RoomLimitSettings } from './limits.ts';
import { createRelay, serveRelay } from './relay.ts';
import { RoomService, type RoomSettings, type RoomsHandle } from './service.ts';
import type { RelayOp, RoomNamespace } from './types.ts';

export type { RoomEndedListener, RoomsHandle } from './service.ts';

export interface RoomsDeps {
  logger: Logger;
  /** Other instances share socket.io through Redis (REDIS_URL): a socket here may speak in a room
   *  that lives on another instance, through the relay (relay.ts). */
  clustered?: boolean;
  settings: RoomSettings & RoomLimitSettings;
  /** Where the per-address join budgets count (limits.ts): memory, or Redis shared by the instances. */
  budgets?: RateBudgets;
}

export interface Rooms {
  /** What other features may ask (AppHandle.rooms); usable as soon as this exists. */
  handle: RoomsHandle;
  /** Opens the `/room` namespace on the app's socket.io server; once. */
  register(io: Server): void;
  /** Stops every room timer and drops the rooms (memory only). */
  close(): void;
  /** Live rooms and their connected participants by role, for the metrics. */
  counts(): { rooms: number; participants: Record<'presenter' | 'audience', number> };
}

/**
 * Rooms on the `/room` namespace (shared/src/protocol/room.ts), in this process's memory. Made
 * before the socket.io server so that other features (the board) can be handed `handle` at start-up.
 */
export function createRooms(deps: RoomsDeps): Rooms {
  const rooms = new RoomService(deps.settings, deps.logger);
  return {
    handle: rooms,
    register: (io) => registerNamespace(io, rooms, deps),
    close: () => rooms.close(),
    counts: () => ({ rooms: rooms.size, participants: rooms.participantCounts() }),
  };
}

function registerNamespace(
  io: Server,
  rooms: RoomService,
  { logger, settings, budgets, clustered = false }: RoomsDeps,
): void {
  // socket.io types a namespace with the server's own event maps; `/room` has its own.
  const nsp = io.of(ROOM_NAMESPACE) as unknown as RoomNamespace;
  rooms.bind(nsp, clustered);
  const relay = clustered ? createRelay(nsp, rooms) : undefined;
  if (clustered) serveRelay(nsp, rooms, logger);
  const limits = createRoomLimits(settings, budgets);
  const tooFast: ErrorBody = {
    code: 'RATE_LIMITED',
    message: `More than ${settings.messagesPerSecond} room messages a second: this one was refused.`,
    details: { messagesPerSecond: settings.messagesPerSecond },
  };

  nsp.on('connection', (socket) => {
    // Its address (or, behind a proxy on this machine, the one it forwards for); undefined for this
    // machine, which no per-client bound applies to.
    const client = clientOf(peerOf(socket.request));
    /** A message of a socket that speaks in a room of another instance goes to that room's home;
     *  otherwise (its room is here, or it is in none) it is handled here. */
    const routed =
      <R extends object>(op: RelayOp, here: (payload: never) => R) =>
      async (payload?: unknown): Promise<R> => {
        const code = socket.data.code;
        if (relay?.elsewhere(code)) return (await relay.forward(op, socket, code, client, payload)) as R;
        return here(payload as never);
      };
    const tellHome = (op: 'disconnected' | 'recovered') => {
      const code = socket.data.code;
      if (!relay?.elsewhere(code)) return false;
      relay.forward(op, socket, code, client).catch((error: unknown) => {
        if (!(error instanceof AppError))
          logger.error({ err: error, socketId: socket.id, op }, 'room relay failed');
      });
      return true;
    };
    if (socket.recovered && !tellHome('recovered')) rooms.recovered(socket);

    // Every message passes the per-socket budget first; the excess is answered and dropped here,
    // before any handler, so it costs the room nothing.
    socket.use((packet, next) => {
      limits.allowMessage(socket.id).then(
        (allowed) => {
          if (allowed) {
            rooms.touch(socket);
            next();
            return;
          }
          refusePacket(packet, tooFast);
        },
        // next(error) would emit `error` on a socket nobody listens to: log and drop instead.
        (error: unknown) => logger.error({ err: error, socketId: socket.id }, 'room rate limiter failed'),
      );
    });

    socket.on(
      ROOM_EVENTS.hello,
      handle(socket, logger, ROOM_EVENTS.hello, undefined, () => rooms.hello(socket)),
    );
    socket.on(
      ROOM_EVENTS.create,
      handle(socket, logger, ROOM_EVENTS.create, CreateRoomRequest, (req) =>
        rooms.create(socket, req, client),
      ),
    );
    socket.on(
      ROOM_EVENTS.join,
      handle(socket, logger, ROOM_EVENTS.join, JoinRoomRequest, async (req, afterAck) => {
        const address = socket.handshake.address;
        const blockedMs = await limits.joinBlockedForMs(address);
        if (blockedMs > 0)
          throw new AppError('RATE_LIMITED', 'Too many failed joins from this address: wait a minute.', {
            retryAfterMs: Math.ceil(blockedMs),
          });
        // A new participant counts against the client's joins a minute; a resume with its token, a
        // repeated join and the presenter's proved join make none.
        const remote = relay?.elsewhere(req.code) === true;
        const fresh =
          client !== undefined &&
          req.resume === undefined &&
          req.presenterProof === undefined &&
          !(remote ? socket.data.code === req.code : rooms.speaksIn(socket, req.code));
        if (fresh) await limits.takeJoin(client);
        try {
          // The budgets may have waited for Redis: a connection that closed meanwhile (its disconnect
          // handled already) must not become a connected participant that nothing would release.
          if (socket.disconnected)
            throw new AppError('UNAVAILABLE', 'This connection closed while it was joining.');
          if (!relay || (!remote && !relay.elsewhere(socket.data.code)))
            return rooms.join(socket, req, afterAck, client);
          // Across instances. A socket moving to another room leaves the one it speaks in first (its
          // home may be another instance than the new room's); in one process the join does that.
          const previous = socket.data.code;
          if (previous !== undefined && previous !== req.code) {
            if (relay.elsewhere(previous)) await relay.forward('disconnected', socket, previous, client);
            else rooms.detach(socket);
          }
          if (!remote) return rooms.join(socket, req, afterAck, client);
          const joined = (await relay.forward('join', socket, req.code, client, req, afterAck)) as ReturnType<
            RoomService['join']
          >;
          // Closed while the home answered: its disconnect found no room yet, so tell the home now.
          if (socket.disconnected) tellHome('disconnected');
          return joined;
        } catch (error) {
          if (fresh) await limits.giveJoinBack(client);
          // Only refusals a guesser would meet count; ROOM_FULL and ROOM_ENDED do not.
          if (error instanceof AppError && (error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN'))
            await limits.joinFailed(address);
          throw error;
        }
      }),
    );
    socket.on(
      ROOM_EVENTS.leave,
      handle(
        socket,
        logger,
        ROOM_EVENTS.leave,
        undefined,
        routed('leave', () => rooms.leave(socket)),
      ),
    );
    socket.on(
      ROOM_EVENTS.clock,
      handle(socket, logger, ROOM_EVENTS.clock, ClockReport, (report) =>
        routed('clock', () => rooms.clock(socket, report))(report),
      ),
    );
    socket.on(
      ROOM_EVENTS.setScenario,
      handle(socket, logger, ROOM_EVENTS.setScenario, SetScenarioRequest, (req) =>
        routed('setScenario', () => rooms.setScenario(socket, req.scenario))(req),
      ),
    );
    socket.on(
      ROOM_EVENTS.startRace,
      handle(
        socket,
        logger,
        ROOM_EVENTS.startRace,
        undefined,
        routed('startRace', () => rooms.startRace(socket)),
      ),
    );
    socket.on(
      ROOM_EVENTS.injectFault,
      handle(socket, logger, ROOM_EVENTS.injectFault, InjectFaultRequest, (req) =>
        routed('injectFault', () => rooms.injectFault(socket, req.fault))(req),
      ),
    );
    socket.on(
      ROOM_EVENTS.end,
      handle(
        socket,
        logger,
        ROOM_EVENTS.end,
        undefined,
        routed('end', () => rooms.end(socket)),
      ),
    );
    socket.on(
      ROOM_EVENTS.result,
      handle(socket, logger, ROOM_EVENTS.result, RaceResult, (result) =>
        routed('result', () => rooms.result(socket, result))(result),
      ),
    );

    socket.on('disconnect', () => {
      if (!tellHome('disconnected')) rooms.disconnected(socket);
      void limits.forgetSocket(socket.id);
    });
  });
}
