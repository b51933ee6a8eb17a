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

/** No server-to-server events (that is socket.io's `serverSideEmit`, for several instances). */
type NoServerSideEvents = Record<string, never>;

export type RoomNamespace = Namespace<
  RoomClientToServerEvents,
  RoomServerToClientEvents,
  NoServerSideEvents,
  RoomSocketData
>;
export type RoomSocket = Socket<
  RoomClientToServerEvents,
  RoomServerToClientEvents,
  NoServerSideEvents,
  RoomSocketData
>;
