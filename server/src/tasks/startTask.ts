import type { IncomingMessage } from 'node:http';
import { parseTraceparent, type TaskSpec, type TaskState, TRACEPARENT_HEADER } from '@transport-lab/shared';
import { type ClientLimits, type Peer, peerOf } from '../access/index.ts';
import type { TagTask } from '../observability/wireLedger.ts';
import type { TaskEngine } from './engine.ts';
import type { WorkerPool } from './pool.ts';

/** Who asks for a task, as its lane received the request. */
export interface TaskOrigin {
  /** The HTTP request, or a socket's handshake request: its lab tag (lane and run) is read here. */
  req: IncomingMessage;
  /** Whose share the task counts against; `peerOf(req)` unless given. A socket passes its handshake's
   *  address and headers, kept by socket.io when the request's own socket may be gone. */
  peer?: Peer;
  /** The task's `traceparent` when it is not the request's header: a socket's `task:start` carries
   *  its own (one handshake starts many tasks). */
  traceparent?: string;
}

/**
 * How every lane starts a task: the one door to the engine's `create`. Two steps, because lanes
 * refuse at different moments: `admit` first, before anything is parsed, claimed or joined (a
 * refused request leaves nothing behind), then `start` once the lane holds a valid spec.
 */
export interface TaskStarter {
  /** Throws the overload refusal (503 + Retry-After; a socket's ack: UNAVAILABLE) when no new task
   *  may start now (tasks/admission.ts). */
  admit(): void;
  /**
   * Counts the task against its client's share (429 past it), gives it a new id, tags it for the
   * wire ledger, the faults and the network link (so that later traffic for it — webhook attempts,
   * a drop fault — finds its run and lane), runs `prepare(id)`, then creates it, in the trace of the
   * request's `traceparent` if it has one. `prepare` is what
   * must exist before the task's first event: a socket joining its room, a webhook subscription.
   * If anything fails before the task exists, its count is given back.
   */
  start(
    origin: TaskOrigin,
    spec: TaskSpec,
    prepare?: (id: string) => void | Promise<void>,
  ): Promise<TaskState>;
}

export interface TaskStarterDeps {
  engine: TaskEngine;
  /** The whole server's bounds (tasks/admission.ts). */
  admit: () => void;
  /** Each client's share (access/clientLimits.ts). */
  clientLimits: Pick<ClientLimits, 'admitTask' | 'taskEnded'>;
  /** Task → run and lane, for everything that counts or shapes a task's later traffic. */
  tagTask: TagTask;
  /** The worker pool of the request's run, if it has one of its own (the busy-backend fault); the
   *  engine's, the process's `WORKERS`, otherwise. */
  poolOf?: (req: IncomingMessage) => WorkerPool | undefined;
}

export function createTaskStarter({
  engine,
  admit,
  clientLimits,
  tagTask,
  poolOf,
}: TaskStarterDeps): TaskStarter {
  return {
    admit,
    async start({ req, peer = peerOf(req), traceparent = req.headers[TRACEPARENT_HEADER] }, spec, prepare) {
      const id = engine.newTaskId();
      // A refusal counts the task nowhere (access/clientLimits.ts): nothing to give back yet.
      await clientLimits.admitTask(peer, id, spec);
      try {
        tagTask(id, req);
        const prepared = prepare?.(id);
        if (prepared) await prepared;
        // The page's trace, when its request names one: the task joins it (W3C Trace Context).
        return await engine.create(spec, id, parseTraceparent(traceparent)?.traceId, poolOf?.(req));
      } catch (error) {
        // Counted for nothing if it was never created (uncounting a created task waits for its end).
        if (!(await engine.get(id))) clientLimits.taskEnded(id);
        throw error;
      }
    },
  };
}
