import type { RoomClientToServerEvents, RoomCode, RoomServerToClientEvents } from '@transport-lab/shared';
import type { Namespace, Socket } from 'socket.io';

/** What the server keeps on each `/room` socket. socket.io's connection state recovery restores it. */
export interface RoomSocketData {
  /** From `room:hello`; spent by the next join that carries a presenter proof. */
  nonce?: string;
  /** The room this socket speaks in, and for whom. */
  code?: RoomCode;
  participantId?: string;
  /** Proved (or created the room) on this connection: may use the presenter-only events. */
  presenter?: boolean;
}

/** Between instances (REDIS_URL), by socket.io's `serverSideEmit` over the Redis adapter: a room
 *  message of a socket on one instance, for a room that lives on another (relay.ts). */
export interface RoomServerSideEvents {
  'room:relay': (request: RelayRequest, reply: (answer: RelayAnswer | null) => void) => void;
}

export type RoomNamespace = Namespace<
  RoomClientToServerEvents,
  RoomServerToClientEvents,
  RoomServerSideEvents,
  RoomSocketData
>;
export type RoomSocket = Socket<
  RoomClientToServerEvents,
  RoomServerToClientEvents,
  RoomServerSideEvents,
  RoomSocketData
>;

/**
 * What the room service needs of a connection: a socket of this instance (RoomSocket has all of it),
 * or one on another instance, reached through the relay (relay.ts): its data travels with each
 * request and comes back with the answer, and what the service does to it (channels joined or left,
 * pushes) is done by its own instance.
 */
export type RoomConnection = Pick<RoomSocket, 'id' | 'data' | 'rooms' | 'join' | 'leave' | 'emit'>;

/** The messages a socket's instance hands to a room's home instance. */
export type RelayOp =
  | 'join'
  | 'leave'
  | 'clock'
  | 'setScenario'
  | 'startRace'
  | 'injectFault'
  | 'end'
  | 'result'
  | 'disconnected'
  | 'recovered';

export interface RelayRequest {
  op: RelayOp;
  /** The room it is for: the join's code, else the one the socket speaks in. */
  code: RoomCode;
  socketId: string;
  data: RoomSocketData;
  /** The socket's channels now. */
  rooms: string[];
  /** The socket's client (clientOf), null for this machine. */
  client: string | null;
  /** The message, already parsed with its shared schema by the socket's instance. */
  payload: unknown;
}

export interface RelayAnswer {
  /** The socket's data as the home left it. */
  data: RoomSocketData;
  /** Channels to join or leave, in order. */
  channels: Array<['join' | 'leave', string]>;
  /** Pushes to this socket: at once, and after the acknowledgement. */
  emits: Array<[string, unknown[]]>;
  afterAck: Array<[string, unknown[]]>;
  result?: unknown;
  error?: { code: string; message: string; details?: unknown };
}
