import {
  ClockReport,
  type ErrorCode,
  InjectFaultRequest,
  JoinRoomRequest,
  RaceResult,
  type RoomCode,
  SetScenarioRequest,
} from '@transport-lab/shared';
import { AppError, errorBody } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { askOtherInstances } from '../socketCluster.ts';
import type { RoomService } from './service.ts';
import type {
  RelayAnswer,
  RelayOp,
  RelayRequest,
  RoomConnection,
  RoomNamespace,
  RoomSocket,
  RoomSocketData,
} from './types.ts';

/**
 * Rooms across instances (REDIS_URL). A room lives on the instance that created it, its home: its
 * members, results, throttles and idle clock are there, so the aggregate counts each participant
 * once whatever instance their phone reached. A `/room` socket on another instance speaks in it
 * through this relay: its instance hands each room message (already parsed with its shared schema,
 * past the socket's own rate limits) to every other instance with socket.io's `serverSideEmit`
 * over the Redis adapter; the home answers, the others answer null. The home runs the message as
 * it would its own socket's, on a stand-in (`RelayedConnection`) that carries the socket's data and
 * notes what the service did to it (channels joined or left, pushes), and the socket's instance does
 * those to the real socket. Broadcasts to the room's channel reach the socket through the adapter,
 * as they reach any socket of a cluster; the aggregate is sent to a presenter's socket by its id.
 *
 * Why a home rather than the room in Redis: a room's rules (seats, proofs, a result replacing the
 * previous one, the paced presence and aggregate, the idle clock) run as they are, in one place, with
 * no race between instances and no round trip on the home's own sockets. What this costs: one
 * request to every instance per relayed message (a phone sends a handful per race), and a room
 * ends with its home instance (as it ends today with the one process).
 */

/** `serverSideEmit` waits for every other instance's answer up to the adapter's `requestsTimeout`
 *  (5 s): an instance that died before the heartbeats noticed only delays the answer. */
const RELAY_EVENT = 'room:relay';

const PAYLOADS = {
  join: JoinRoomRequest,
  clock: ClockReport,
  setScenario: SetScenarioRequest,
  injectFault: InjectFaultRequest,
  result: RaceResult,
} as const;

/** A socket of another instance, as the home's service sees it for one relayed message. */
class RelayedConnection implements RoomConnection {
  readonly id: string;
  readonly data: RoomSocketData;
  readonly rooms: Set<string>;
  readonly channels: RelayAnswer['channels'] = [];
  readonly emits: RelayAnswer['emits'] = [];

  constructor(request: RelayRequest) {
    this.id = request.socketId;
    this.data = { ...request.data };
    this.rooms = new Set(request.rooms);
  }

  join(channel: string | string[]): void {
    for (const name of [channel].flat()) {
      this.rooms.add(name);
      this.channels.push(['join', name]);
    }
  }

  leave(channel: string): void {
    this.rooms.delete(channel);
    this.channels.push(['leave', channel]);
  }

  readonly emit = ((event: string, ...args: unknown[]) => {
    this.emits.push([event, args]);
    return true;
  }) as RoomConnection['emit'];
}

/** On every instance: answers the relayed messages for the rooms that live here. */
export function serveRelay(nsp: RoomNamespace, rooms: RoomService, logger: Logger): void {
  nsp.on(RELAY_EVENT, (request, reply) => {
    if (!rooms.has(request.code)) {
      // A room that ended here is told as such to a late joiner, as this instance's own would be.
      const ended = request.op === 'join' && rooms.wasEnded(request.code);
      reply(
        ended
          ? {
              data: request.data,
              channels: [],
              emits: [],
              afterAck: [],
              error: { code: 'ROOM_ENDED', message: 'This room has ended.' },
            }
          : null,
      );
      return;
    }
    reply(runHere(rooms, request, logger));
  });
}

function runHere(rooms: RoomService, request: RelayRequest, logger: Logger): RelayAnswer {
  const socket = new RelayedConnection(request);
  const afterAck: Array<() => void> = [];
  const client = request.client ?? undefined;
  let result: unknown;
  let error: RelayAnswer['error'];
  // The socket's emits made after the acknowledgement (a returning presenter's aggregate) are sent
  // back as such: its instance pushes them once it has answered.
  const laterEmits: RelayAnswer['emits'] = [];
  try {
    if (request.op !== 'disconnected') rooms.touch(request.code);
    result = run(rooms, socket, request, client, (fn) => afterAck.push(fn));
    const before = socket.emits.length;
    for (const fn of afterAck) fn();
    laterEmits.push(...socket.emits.splice(before));
  } catch (caught) {
    const body = errorBody(caught);
    if (body.code === 'INTERNAL')
      logger.error(
        { err: caught, op: request.op, socketId: request.socketId },
        'relayed room message failed',
      );
    error = body;
  }
  return {
    data: socket.data,
    channels: socket.channels,
    emits: socket.emits,
    afterAck: laterEmits,
    ...(result === undefined ? {} : { result }),
    ...(error ? { error } : {}),
  };
}

function run(
  rooms: RoomService,
  socket: RelayedConnection,
  { op, payload }: RelayRequest,
  client: string | undefined,
  afterAck: (fn: () => void) => void,
): unknown {
  switch (op) {
    case 'join':
      return rooms.join(socket, PAYLOADS.join.parse(payload), afterAck, client);
    case 'leave':
      return rooms.leave(socket);
    case 'clock':
      return rooms.clock(socket, PAYLOADS.clock.parse(payload));
    case 'setScenario':
      return rooms.setScenario(socket, PAYLOADS.setScenario.parse(payload).scenario);
    case 'startRace':
      return rooms.startRace(socket);
    case 'injectFault':
      return rooms.injectFault(socket, PAYLOADS.injectFault.parse(payload).fault);
    case 'end':
      return rooms.end(socket);
    case 'result':
      return rooms.result(socket, PAYLOADS.result.parse(payload));
    case 'disconnected':
      rooms.disconnected(socket);
      return undefined;
    case 'recovered':
      rooms.recovered(socket);
      return undefined;
  }
}

export interface Relay {
  /** The room with this code lives on another instance (as far as this one can tell: not here, and
   *  other instances exist). */
  elsewhere(code: RoomCode | undefined): code is RoomCode;
  /**
   * Hands a message of `socket` to the home of room `code` and does to the socket what the home did;
   * resolves with the home's result (the acknowledgement's body) or throws its refusal. With no
   * instance holding the room: `NOT_FOUND`, and the socket's stale membership is cleared.
   */
  forward(
    op: RelayOp,
    socket: RoomSocket,
    code: RoomCode,
    client: string | undefined,
    payload?: unknown,
    afterAck?: (fn: () => void) => void,
  ): Promise<unknown>;
}

/** On every instance of a cluster: the sending side. */
export function createRelay(nsp: RoomNamespace, rooms: RoomService): Relay {
  const ask = (request: RelayRequest) =>
    askOtherInstances<RelayRequest, RelayAnswer>(nsp, RELAY_EVENT, request);

  return {
    elsewhere: (code): code is RoomCode => code !== undefined && !rooms.has(code),

    async forward(op, socket, code, client, payload, afterAck) {
      const answer = await ask({
        op,
        code,
        socketId: socket.id,
        data: { ...socket.data },
        rooms: [...socket.rooms],
        client: client ?? null,
        payload: payload ?? null,
      });
      if (!answer) {
        // No instance holds it (ended, or its home is gone): the socket speaks in no room.
        if (socket.data.code === code) {
          socket.leave(`room:${code}`);
          socket.data.code = undefined;
          socket.data.participantId = undefined;
          socket.data.presenter = undefined;
        }
        if (op === 'join') throw new AppError('NOT_FOUND', 'No room has this code.');
        throw new AppError('NOT_FOUND', 'This connection is in no room: join one first.');
      }
      socket.data.nonce = answer.data.nonce;
      socket.data.code = answer.data.code;
      socket.data.participantId = answer.data.participantId;
      socket.data.presenter = answer.data.presenter;
      for (const [verb, channel] of answer.channels) {
        if (verb === 'join') socket.join(channel);
        else socket.leave(channel);
      }
      const push = socket.emit as unknown as (event: string, ...args: unknown[]) => boolean;
      for (const [event, args] of answer.emits) push.call(socket, event, ...args);
      if (answer.afterAck.length > 0) {
        const later = () => {
          for (const [event, args] of answer.afterAck) push.call(socket, event, ...args);
        };
        if (afterAck) afterAck(later);
        else later();
      }
      if (answer.error)
        throw new AppError(answer.error.code as ErrorCode, answer.error.message, answer.error.details);
      return answer.result;
    },
  };
}
