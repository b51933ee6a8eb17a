import {
  CancelRequest,
  type ClientToServerEvents,
  isTerminalEvent,
  type ServerToClientEvents,
  SOCKET_EVENTS,
  SubscribeRequest,
  TaskSpec,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import type { Server, Socket } from 'socket.io';
import type { ClientLimits, TaskOwnership } from '../../access/index.ts';
import type { Logger } from '../../observability/logger.ts';
import { type TagTask, tagOf } from '../../observability/wireLedger.ts';
import { socketHandler as handle } from '../../socketHandler.ts';
import type { TaskEngine } from '../../tasks/engine.ts';
import { measureHandshakes } from './handshakeWire.ts';

export type LabServer = Server<ClientToServerEvents, ServerToClientEvents>;
type LabSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface WebsocketDeps {
  io: LabServer;
  engine: TaskEngine;
  logger: Logger;
  /** Given the handshake request, whose query carries the lane tag (`query: {labLane, labRun}`). */
  tagTask?: TagTask;
  /** Send each socket `connection:wire`, its upgrade's bytes as the server read and wrote them
   *  (off with WIRE_ACCOUNTING=off). */
  reportHandshakes: boolean;
  /** Who may cancel which task (access/ownership.ts). */
  ownership: TaskOwnership;
  /** Throws the overload refusal when no new task may start now (the ack carries UNAVAILABLE). */
  admit?: () => void;
  /** Refuses (the ack: RATE_LIMITED) a client past its share of tasks; counts its task until it ends. */
  clientLimits?: Pick<ClientLimits, 'admitTask' | 'taskEnded'>;
}

export const taskRoom = (taskId: string) => `task:${taskId}`;

/**
 * The websocket lane. Each task's events go to the room `task:<id>`; socket.io's connection state
 * recovery stores packets sent to rooms, so a socket that comes back within SOCKET_RECOVERY_MS
 * gets what it missed with no request of its own. When recovery is not possible (a server
 * restart), the client sends `task:subscribe` with the last seq it applied and the ack carries
 * the rest from the store. Clients drop duplicate seqs.
 */
export function register({
  io,
  engine,
  logger,
  tagTask,
  reportHandshakes,
  ownership,
  admit,
  clientLimits,
}: WebsocketDeps): void {
  /** Tasks some socket follows: only their events are broadcast, so recovery's packet buffer
   *  holds no other lane's traffic. */
  const followed = new Set<string>();

  engine.onEvent((event) => {
    if (!followed.has(event.taskId)) return;
    io.to(taskRoom(event.taskId)).emit(SOCKET_EVENTS.event, event);
    if (isTerminalEvent(event)) followed.delete(event.taskId);
  });

  const handshakeOf = reportHandshakes ? measureHandshakes(io) : undefined;

  io.on('connection', (socket: LabSocket) => {
    const wire = handshakeOf?.(socket.request);
    if (wire) socket.emit(SOCKET_EVENTS.wire, wire);
    /** Tasks this connection started: its own to cancel, tagged or not. */
    const started = new Set<string>();

    socket.on(
      SOCKET_EVENTS.start,
      handle(socket, logger, SOCKET_EVENTS.start, TaskSpec, async (spec) => {
        admit?.();
        // Join the room before the task exists, so that its `queued` event reaches this socket.
        const id = engine.newTaskId();
        // The handshake's address and headers, kept by socket.io (the request's socket may be gone).
        await clientLimits?.admitTask(
          { address: socket.handshake.address, headers: socket.handshake.headers },
          id,
          spec,
        );
        tagTask?.(id, socket.request);
        followed.add(id);
        started.add(id);
        socket.join(taskRoom(id));
        try {
          return { task: await engine.create(spec, id) };
        } catch (error) {
          clientLimits?.taskEnded(id);
          followed.delete(id);
          socket.leave(taskRoom(id));
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
        if (!TERMINAL_STATUSES.has(known.status)) {
          followed.add(taskId);
          socket.join(taskRoom(taskId));
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
          // The handshake's, kept by socket.io: the request's own socket may be gone by now.
          peer: { address: socket.handshake.address, headers: socket.handshake.headers },
          runId: tagOf(socket.request)?.runId,
          startedHere: started.has(taskId),
        });
        return { task: await engine.cancel(taskId) };
      }),
    );
  });
}
