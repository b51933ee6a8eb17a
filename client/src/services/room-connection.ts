import {
  type DeviceClass,
  ROOM_EVENTS,
  ROOM_NAMESPACE,
  type RoomClientToServerEvents,
  type RoomServerToClientEvents,
} from '@transport-lab/shared';
import { io, type Socket } from 'socket.io-client';

/** Client → server events that carry a request and are answered by ack. */
export type RoomRequestEvent = (typeof ROOM_EVENTS)[
  | 'hello'
  | 'create'
  | 'join'
  | 'leave'
  | 'clock'
  | 'setScenario'
  | 'startRace'
  | 'injectFault'
  | 'end'
  | 'result'];

/** Server → client events. */
export type RoomPushEvent = (typeof ROOM_EVENTS)[
  | 'presence'
  | 'scenario'
  | 'race'
  | 'raceProgress'
  | 'aggregate'
  | 'fault'
  | 'ended'];

export const ROOM_PUSH_EVENTS: readonly RoomPushEvent[] = [
  ROOM_EVENTS.presence,
  ROOM_EVENTS.scenario,
  ROOM_EVENTS.race,
  ROOM_EVENTS.raceProgress,
  ROOM_EVENTS.aggregate,
  ROOM_EVENTS.fault,
  ROOM_EVENTS.ended,
];

export type ConnectionStatus = 'connected' | 'disconnected' | 'failed';

/**
 * The room's socket as the store sees it. Everything that arrives is `unknown` on purpose: the store
 * parses each payload with the shared schema before it touches state, so nothing here can be trusted
 * by its type alone.
 */
export interface RoomConnection {
  /** Sends a request; resolves with the server's ack as received, rejects on timeout. */
  request(event: RoomRequestEvent, payload?: unknown): Promise<unknown>;
  on(event: RoomPushEvent, listener: (payload: unknown) => void): void;
  /** `connected` again after a drop means a new socket at the server: the store rejoins. */
  onStatus(listener: (status: ConnectionStatus, detail?: string) => void): void;
  close(): void;
}

/** A request the server did not answer within the ack timeout (or could not, being unreachable). */
export class RoomTimeoutError extends Error {
  constructor(event: string) {
    super(`The server did not answer ${event} in time.`);
    this.name = 'RoomTimeoutError';
  }
}

/** How long to wait for an acknowledgement, ms: a phone on a busy hall Wi-Fi may take seconds. */
export const ROOM_ACK_TIMEOUT_MS = 10_000;

/**
 * The `/room` namespace on its own engine.io connection (`forceNew`): without it socket.io multiplexes
 * the namespace over the websocket lane's connection, whose every byte is the lane's measured cost.
 */
export function connectRoom(ackTimeoutMs = ROOM_ACK_TIMEOUT_MS): RoomConnection {
  const socket: Socket<RoomServerToClientEvents, RoomClientToServerEvents> = io(ROOM_NAMESPACE, {
    forceNew: true,
    // A lost phone network comes back: keep trying, but not as fast as the lanes do.
    reconnectionDelay: 1_000,
    reconnectionDelayMax: 5_000,
  });
  // socket.io's typed emit cannot take an event name chosen at run time; the payloads are checked by
  // the server's schemas and the acks by the store's.
  const untyped = socket as unknown as Socket;
  return {
    request(event, payload) {
      return new Promise((resolve, reject) => {
        const ack = (error: Error | null, response: unknown) => {
          if (error) reject(new RoomTimeoutError(event));
          else resolve(response);
        };
        if (payload === undefined) untyped.timeout(ackTimeoutMs).emit(event, ack);
        else untyped.timeout(ackTimeoutMs).emit(event, payload, ack);
      });
    },
    on(event, listener) {
      untyped.on(event, listener);
    },
    onStatus(listener) {
      socket.on('connect', () => listener('connected'));
      socket.on('disconnect', (reason) => listener('disconnected', reason));
      socket.on('connect_error', (error) => listener('failed', error.message));
    },
    close() {
      socket.disconnect();
    },
  };
}

/**
 * Which kind of device this is, from its pointer and screen: a coarse pointer is a finger, and its
 * screen's short side tells a phone from a tablet; a fine pointer under 600 px is a narrow window.
 */
export function detectDeviceClass(
  win: Pick<Window, 'matchMedia' | 'innerWidth' | 'screen'> = window,
): DeviceClass {
  const coarse = typeof win.matchMedia === 'function' && win.matchMedia('(pointer: coarse)').matches;
  const shortSide = Math.min(win.screen?.width ?? win.innerWidth, win.screen?.height ?? win.innerWidth);
  if (coarse) return shortSide < 600 ? 'phone' : 'tablet';
  return win.innerWidth < 600 ? 'phone' : 'desktop';
}
