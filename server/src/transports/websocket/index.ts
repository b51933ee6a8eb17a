import { randomUUID } from 'node:crypto';
import {
  CancelRequest,
  type ClientToServerEvents,
  isStartRequest,
  isTerminalEvent,
  type ServerToClientEvents,
  SOCKET_EVENTS,
  StartRequest,
  SubscribeRequest,
  TaskSpec,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import type { Socket } from 'socket.io';
import { z } from 'zod';
import { parseOrThrow } from '../../errors.ts';
import { tagOf } from '../../observability/wireLedger.ts';
import { socketHandler as handle } from '../../socketHandler.ts';
import type { LaneContext, ServerLane } from '../lane.ts';
import { measureHandshakes } from './handshakeWire.ts';

type LabSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** `task:start`'s payload: `{spec, traceparent?}` when it names a spec, else a bare `TaskSpec`, each
 *  form parsed with its own schema, so that a bad one gets that schema's own clear error. */
function parseStart(payload: unknown): StartRequest {
  const what = `${SOCKET_EVENTS.start} payload`;
  return isStartRequest(payload)
    ? parseOrThrow(StartRequest, payload, what)
    : { spec: parseOrThrow(TaskSpec, payload, what) };
}

export const taskRoom = (taskId: string) => `task:${taskId}`;
/** The room of the sockets of one instance that follow a task another instance runs. */
const relayRoom = (taskId: string, instance: string) => `task:${taskId}@${instance}`;

/**
 * The websocket lane. Each task's events go to the room `task:<id>`; socket.io's connection state
 * recovery stores packets sent to rooms, so a socket that comes back within SOCKET_RECOVERY_MS
 * gets what it missed with no request of its own. When recovery is not possible (a server
 * restart), the client sends `task:subscribe` with the last seq it applied and the ack carries
 * the rest from the store. Clients drop duplicate seqs.
 *
 * Several instances on one Redis (socket.io's adapter spans them, socketCluster.ts): the instance
 * that runs a task broadcasts its events to `task:<id>`, which reaches a socket of that room on any
 * instance (one recovered onto another instance is still in it). A socket that subscribes through an
 * instance that does not run the task joins `task:<id>@<instance>` instead, and that instance relays
 * the task's events to it as its engine hears them from the task's log (tasks/engine.ts): each
 * room's events are broadcast by one instance, so each socket gets each event once; both go through
 * the adapter's stream, so recovery on any instance replays either.
 */
export const websocketLane: ServerLane = {
  id: 'websocket',
  // Its handshake, upgrade and frames: everything under socket.io's path.
  counted: [],
  socketIo: true,
  register,
};

function register({ io, engine, logger, tasks, ownership, settings }: LaneContext): void {
  /** Tasks some socket follows: only their events are broadcast, so recovery's packet buffer
   *  holds no other lane's traffic. */
  const followed = new Set<string>();
  /** This instance, in the names of its relay rooms. */
  const instance = randomUUID().slice(0, 8);
  /** Tasks run elsewhere that sockets here follow, relayed until their end. */
  const relayed = new Set<string>();
  /**
   * Relays a task run elsewhere to this instance's room of it, until its end. From `afterSeq` (what
   * the subscriber's read found), not merely from now: an end stored in between is relayed too, so
   * the relay always ends (the sockets drop the seqs they had from their ack).
   */
  const relay = (taskId: string, afterSeq: number) => {
    if (relayed.has(taskId)) return;
    let off: (() => void) | undefined;
    let ended = false;
    relayed.add(taskId);
    // Its listener is in place when this returns (subscribe listens before its first read).
    engine
      .subscribe(taskId, afterSeq, (event) => {
        io.to(relayRoom(taskId, instance)).emit(SOCKET_EVENTS.event, event);
        if (!isTerminalEvent(event)) return;
        ended = true;
        off?.();
        relayed.delete(taskId);
      })
      .then(
        (unsubscribe) => {
          off = unsubscribe;
          if (ended) unsubscribe();
        },
        (error) => {
          relayed.delete(taskId);
          logger.warn({ err: error, taskId }, 'could not relay a task run by another instance');
        },
      );
  };

  engine.onEvent((event) => {
    // A task taken over from an instance that stopped: sockets recovered from there (onto any
    // instance) are in its room, though none subscribed here.
    if (!followed.has(event.taskId) && !engine.takenOverHere(event.taskId)) return;
    io.to(taskRoom(event.taskId)).emit(SOCKET_EVENTS.event, event);
    if (isTerminalEvent(event)) followed.delete(event.taskId);
  });

  const handshakeOf = settings.wireAccounting ? measureHandshakes(io) : undefined;

  io.on('connection', (socket: LabSocket) => {
    const wire = handshakeOf?.(socket.request);
    if (wire) socket.emit(SOCKET_EVENTS.wire, wire);
    /** Tasks this connection started: its own to cancel, tagged or not. */
    const started = new Set<string>();
    // The handshake's address and headers, kept by socket.io: the client, whose share a task counts
    // against and who may cancel (the request's own socket may be gone by the time it asks).
    const peer = { address: socket.handshake.address, headers: socket.handshake.headers };

    socket.on(
      SOCKET_EVENTS.start,
      // A bare spec, or `{spec, traceparent}`: each form parsed with its own schema (clear errors).
      handle(socket, logger, SOCKET_EVENTS.start, z.unknown(), async (payload) => {
        const { spec, traceparent } = parseStart(payload);
        tasks.admit();
        let joined: string | undefined;
        try {
          const task = await tasks.start(
            // The handshake request carries the lane tag (`query: {labLane, labRun}`).
            // Its trace context, when the page sent one, is the payload's (not the handshake's headers).
            { req: socket.request, peer, ...(traceparent !== undefined ? { traceparent } : {}) },
            spec,
            (id) => {
              // Join the room before the task exists, so that its `queued` event reaches this socket.
              joined = id;
              followed.add(id);
              started.add(id);
              socket.join(taskRoom(id));
            },
          );
          return { task };
        } catch (error) {
          if (joined !== undefined) {
            followed.delete(joined);
            socket.leave(taskRoom(joined));
          }
          throw error;
        }
      }),
    );

    socket.on(
      SOCKET_EVENTS.subscribe,
      handle(socket, logger, SOCKET_EVENTS.subscribe, SubscribeRequest, async ({ taskId, afterSeq }) => {
        // Join first, then read: an event stored in between comes both ways and the client
        // drops the second copy; none can fall between the two.
        const known = await engine.getOrThrow(taskId);
        if (!TERMINAL_STATUSES.has(known.status) && engine.runsHere(taskId)) {
          followed.add(taskId);
          socket.join(taskRoom(taskId));
        } else if (!TERMINAL_STATUSES.has(known.status)) {
          // Its listener (hence, on Redis, its follow of the log) before the read below.
          relay(taskId, known.lastSeq);
          socket.join(relayRoom(taskId, instance));
        }
        const events = await engine.eventsAfter(taskId, afterSeq);
        const task = await engine.getOrThrow(taskId);
        return { task, events };
      }),
    );

    socket.on(
      SOCKET_EVENTS.cancel,
      handle(socket, logger, SOCKET_EVENTS.cancel, CancelRequest, async ({ taskId }) => {
        await ownership.authorizeCancel(taskId, {
          peer,
          runId: tagOf(socket.request)?.runId,
          startedHere: started.has(taskId),
        });
        return { task: await engine.cancel(taskId) };
      }),
    );
  });
}

export default websocketLane;
