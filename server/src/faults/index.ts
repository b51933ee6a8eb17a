import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  API_ROUTES,
  DEFAULT_PROXY_BUFFER_BYTES,
  FAULT_PATHS,
  Fault,
  type FaultRecord,
  type FaultResponse,
  FaultsQuery,
  type FaultsResponse,
  faultReachesOthers,
  LANES,
  MAX_RUN_TASKS_LISTED,
  type ReceiverMode,
  RunId,
  type RunTasksResponse,
  type WebhookAttack,
} from '@transport-lab/shared';
import type { RequestHandler, Router } from 'express';
import { type OperatorGate, peerOf } from '../access/index.ts';
import type { Config } from '../config.ts';
import { AppError, parseOrThrow } from '../errors.ts';
import { epochNow } from '../observability/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { tagOf, type WireLedger, withoutLabTags } from '../observability/wireLedger.ts';
import type { FaultStore } from '../store/sqliteFaults.ts';
import type { TaskEngine } from '../tasks/engine.ts';
import type { WorkerPool } from '../tasks/pool.ts';
import { routesRegex, type ServerLane } from '../transports/lane.ts';
import { blackhole } from './blackhole.ts';
import { createIdleProxy } from './idle.ts';
import { createStreamBuffers } from './streams.ts';

/** What the built-in receiver does with one delivery while a receiver fault holds for its run. */
export type ReceiverAction =
  | { mode: 'fail-500' }
  | { mode: 'timeout' }
  | { mode: 'throttle-429' | 'unavailable-503'; retryAfterS?: number };

export interface FaultsDeps {
  config: Pick<Config, 'FAULTS' | 'WIRE_ACCOUNTING'>;
  store: FaultStore;
  engine: TaskEngine;
  wire: WireLedger;
  logger: Logger;
  /**
   * Ends this process so that its supervisor starts it again (main.ts under `npm start`). Absent
   * when nothing would start it again (a test's in-process server): the restart is then refused.
   */
  restart?: () => void;
  /** Faults that reach other runs are the operator's (`faultReachesOthers`). */
  operator: OperatorGate;
  /** The attack-webhooks fault's copies, sent to the built-in receiver (webhooks/attacks.ts); absent
   *  without webhooks. */
  attackReceiver?: (taskId: string) => Promise<WebhookAttack[]>;
  /** The whole server's admission (tasks/admission.ts): a busy backend's backlog is refused past it. */
  admit: () => void;
}

export interface Faults {
  /** `POST /api/faults` and `GET /api/faults?runId=`. */
  registerRoutes(router: Router): void;
  /** Lanes call this (beside the wire ledger's tagTask) when they create a task: task → run. */
  tagTask(taskId: string, req: IncomingMessage): void;
  /** An event stream opens (the task stream, the hybrid's push, the webhook relay): wrapped so that
   *  buffer-streams can hold it. Untagged streams are left alone. */
  trackStream(req: IncomingMessage, res: ServerResponse): void;
  /** A tagged GET answer opens (a stream, a long poll, a poll): wrapped so that idle-timeout can cut it. */
  trackIdle(req: IncomingMessage, res: ServerResponse): void;
  /** How the receiver answers this delivery, or undefined to answer as usual. Spends one of `count`. */
  receiverAction(taskId: string): Promise<ReceiverAction | undefined>;
  /**
   * Whether the answer to this task creation is to be lost (a lose-answers fault holds for its run):
   * the caller then cuts the connection instead of answering. Spends one of `count`.
   */
  loseAnswer(req: IncomingMessage): boolean;
  /** The worker pool of the request's run, if a busy-backend fault gave it one (else the process's). */
  poolOf(req: IncomingMessage): WorkerPool | undefined;
}

interface ReceiverFault {
  mode: Exclude<ReceiverMode, 'normal'>;
  retryAfterS?: number;
  /** Deliveries left to answer this way; undefined: until `normal`. */
  remaining?: number;
}

/** Runs with a receiver fault held at once; past it the oldest is forgotten (answers normally). */
export const MAX_RECEIVER_FAULTS = 10_000;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Tasks attacked at most once each: past this many, the oldest is forgotten. */
export const MAX_ATTACKED_TASKS = 10_000;

export function createFaults({
  config,
  store,
  engine,
  wire,
  logger,
  restart,
  operator,
  attackReceiver,
  admit,
}: FaultsDeps): Faults {
  const log = logger.child({ component: 'faults' });
  const streams = createStreamBuffers();
  const idle = createIdleProxy();
  const receiverFaults = new Map<string, ReceiverFault>();
  /** Tasks an attack-webhooks fault has been applied to: once each. */
  const attacked = new Set<string>();
  /** run → answers to task creations still to lose. */
  const lostAnswers = new Map<string, number>();
  /** run → its own worker pool (busy-backend), newest last; at most MAX_RECEIVER_FAULTS runs. */
  const pools = new Map<string, WorkerPool>();

  /** Applies a fault now; returns what it touched and says so in words. */
  async function apply(
    fault: Fault,
    /** The socket the fault's own request came on: a connection pool may have put it on one of the lane's. */
    own: Socket,
  ): Promise<{ affected: number; summary: string; after?: () => void; webhookAttacks?: WebhookAttack[] }> {
    switch (fault.kind) {
      case 'drop-connections': {
        if (config.WIRE_ACCOUNTING === 'off') {
          // The ledger is the one record of which socket carries which lane: off, it knows none, and
          // a second tracker would put back the cost WIRE_ACCOUNTING=off exists to leave out.
          throw new AppError(
            'UNAVAILABLE',
            'drop-connections needs the wire ledger to know which connections are the lane’s, and WIRE_ACCOUNTING is off on this server.',
          );
        }
        const sockets = wire.connectionsOf(fault.runId, fault.lane);
        // The fault's own connection, if it is one of them, goes once the answer has left.
        for (const socket of sockets) if (socket !== own) socket.destroy();
        return {
          affected: sockets.length,
          summary: `Dropped ${plural(sockets.length, 'connection')} of ${LANES[fault.lane].name}.`,
          after: sockets.includes(own) ? () => own.end() : undefined,
        };
      }
      case 'blackhole-connections': {
        if (config.WIRE_ACCOUNTING === 'off') {
          throw new AppError(
            'UNAVAILABLE',
            'blackhole-connections needs the wire ledger to know which connections are the lane’s, and WIRE_ACCOUNTING is off on this server.',
          );
        }
        // Not the fault's own connection (a shared pool): its answer must reach the page.
        const sockets = wire.connectionsOf(fault.runId, fault.lane).filter((socket) => socket !== own);
        for (const socket of sockets) blackhole(socket);
        return {
          affected: sockets.length,
          summary: `The network under ${plural(sockets.length, 'connection')} of ${LANES[fault.lane].name} went dead: open, but every byte either way dropped.`,
        };
      }
      case 'restart-server': {
        if (!restart) {
          throw new AppError(
            'UNAVAILABLE',
            'This server runs without a supervisor, so nothing would start it again: restart-server needs `npm start` (server/src/main.ts).',
          );
        }
        return {
          affected: engine.runningCount,
          summary: `Server restarted with ${plural(engine.runningCount, 'task')} in progress; they resume from their last stored step.`,
          after: restart,
        };
      }
      case 'receiver': {
        if (fault.mode === 'normal') {
          const had = receiverFaults.delete(fault.runId);
          return {
            affected: 0,
            summary: had ? 'Receiver answers normally again.' : 'Receiver was already answering normally.',
          };
        }
        receiverFaults.delete(fault.runId); // set anew as the newest, for the bound below
        receiverFaults.set(fault.runId, {
          mode: fault.mode,
          retryAfterS: fault.retryAfterS,
          remaining: fault.count,
        });
        // One entry per run named: bounded, so that naming endless made-up runs costs no memory.
        if (receiverFaults.size > MAX_RECEIVER_FAULTS) {
          receiverFaults.delete(receiverFaults.keys().next().value as string);
        }
        const how = {
          'fail-500': 'answers 500',
          timeout: 'never answers (the attempt times out)',
          'throttle-429': 'answers 429',
          'unavailable-503': 'answers 503',
        }[fault.mode];
        const retry =
          fault.retryAfterS !== undefined &&
          (fault.mode === 'throttle-429' || fault.mode === 'unavailable-503')
            ? ` with Retry-After: ${fault.retryAfterS}`
            : '';
        const scope =
          fault.count === undefined
            ? 'until set back to normal'
            : `for the next ${plural(fault.count, 'delivery', 'deliveries')}`;
        return { affected: 0, summary: `Receiver ${how}${retry}, ${scope}.` };
      }
      case 'slow-downstream': {
        let stalled = 0;
        for (const taskId of await store.tasksOfRun(fault.runId)) {
          if (engine.stall(taskId, fault.stallMs)) stalled += 1;
        }
        return {
          affected: stalled,
          summary: `Downstream stalled ${fault.stallMs} ms: ${plural(stalled, 'running task')} held.`,
        };
      }
      case 'lose-answers': {
        lostAnswers.delete(fault.runId); // set anew as the newest, for the bound below
        lostAnswers.set(fault.runId, fault.count);
        // One entry per run named, bounded like the receiver's: made-up runs cost no memory past it.
        if (lostAnswers.size > MAX_RECEIVER_FAULTS) {
          lostAnswers.delete(lostAnswers.keys().next().value as string);
        }
        return {
          affected: 0,
          summary:
            fault.count === 1
              ? "The answer to this run's next task creation will be lost: the task is created, then its connection is cut before the answer leaves."
              : `The answers to this run's next ${fault.count} task creations will be lost: each task is created, then its connection is cut before the answer leaves.`,
        };
      }
      case 'attack-webhooks': {
        if (!attackReceiver) throw new AppError('UNAVAILABLE', 'Webhooks are not available on this server.');
        // The run names the task: naming the run is the right to it (its page created the task).
        const run = await store.runOfTask(fault.taskId);
        if (run !== fault.runId) throw new AppError('NOT_FOUND', 'This run has no such task.');
        // Once per task: four requests to the receiver, not a way to make this server send any number.
        if (attacked.has(fault.taskId)) {
          throw new AppError(
            'FAULT_ALREADY_APPLIED',
            'This task’s webhooks have been attacked already: once per task.',
          );
        }
        attacked.add(fault.taskId);
        if (attacked.size > MAX_ATTACKED_TASKS) attacked.delete(attacked.values().next().value as string);
        const webhookAttacks = await attackReceiver(fault.taskId);
        const refused = webhookAttacks.filter((a) => a.httpStatus === 401).length;
        const duplicates = webhookAttacks.filter((a) => a.duplicate).length;
        return {
          affected: webhookAttacks.length,
          summary: `An attacker sent the receiver ${webhookAttacks.length} copies of one of this task's webhooks: ${refused} refused (401), ${duplicates} acknowledged as a duplicate without processing.`,
          webhookAttacks,
        };
      }
      case 'busy-backend': {
        // Once per run: a backlog per request would be a way to make this server run any number of tasks.
        if (pools.has(fault.runId)) {
          throw new AppError('FAULT_ALREADY_APPLIED', 'This run has a busy backend already: once per run.');
        }
        admit(); // the backlog is tasks like any other: none past what the server can serve truthfully
        const pool = engine.newPool(fault.workers);
        pools.set(fault.runId, pool);
        if (pools.size > MAX_RECEIVER_FAULTS) pools.delete(pools.keys().next().value as string);
        const spec = { durationMs: fault.backlogTaskMs, steps: 1 };
        for (let i = 0; i < fault.backlog; i++) await engine.create(spec, undefined, undefined, pool);
        return {
          affected: fault.backlog,
          summary: `A busy backend: this run's tasks now wait for ${plural(fault.workers, 'worker')} of their own, behind ${plural(fault.backlog, 'task')} of ${fault.backlogTaskMs} ms (${pool.running} running, ${pool.queued} queued).`,
        };
      }
      case 'idle-timeout': {
        if (!fault.on) {
          const open = idle.stop(fault.runId);
          return { affected: open, summary: `Proxy idle timeout off: ${plural(open, 'answer')} open now.` };
        }
        const open = idle.start(fault.runId, fault.idleMs);
        return {
          affected: open,
          summary: `A proxy now cuts any of this run's answers quiet for ${fault.idleMs} ms (as nginx's proxy_read_timeout): ${open === 0 ? 'none is open yet; each opened from now on' : `the ${plural(open, 'answer')} open now and any opened later`}.`,
        };
      }
      case 'buffer-streams': {
        if (!fault.on) {
          const released = streams.stop(fault.runId);
          return {
            affected: released,
            summary: `Proxy buffering off: ${plural(released, 'stream')} released.`,
          };
        }
        const bytes = fault.bufferBytes ?? DEFAULT_PROXY_BUFFER_BYTES;
        const held = streams.start(fault.runId, bytes);
        return {
          affected: held,
          // "0 open now" read as "affected nothing" (issue 12): the proxy holds the streams opened later too.
          summary: `A buffering proxy now holds this run's event streams until ${bytes} bytes or their end: ${held === 0 ? 'none is open yet; each opened from now on' : `the ${plural(held, 'stream')} open now and any opened later`}.`,
        };
      }
    }
  }

  return {
    registerRoutes(router) {
      router.post(FAULT_PATHS.faults, async (req, res) => {
        if (config.FAULTS === 'off') {
          throw new AppError(
            'FORBIDDEN',
            'Fault injection is turned off on this server (FAULTS=off). Set FAULTS=on to allow it.',
          );
        }
        const fault = parseOrThrow(Fault, req.body, 'fault');
        // Within its run, naming the run is the right to it; beyond, only the operator's.
        const reach = faultReachesOthers(fault);
        if (reach) operator.require(peerOf(req), reach);
        const at = epochNow();
        const { affected, summary, after, webhookAttacks } = await apply(fault, req.socket);
        const record: FaultRecord = {
          id: randomUUID(),
          fault,
          at,
          affected,
          summary,
          ...(webhookAttacks ? { webhookAttacks } : {}),
        };
        // Stored before it is answered, and a restart's before the process ends: the record survives.
        await store.add(record);
        log.info({ fault, affected }, 'fault injected');
        if (after) {
          // After the answer has left: the page learns of the fault before its connection goes.
          res.once('finish', () => setImmediate(after));
        }
        res.status(201).json({ fault: record } satisfies FaultResponse);
      });

      // What became of each task of a run (issue 12's cancel lesson): from task_runs, the same record
      // that finds a run's tasks for its faults, with each task's state from the engine.
      router.get(API_ROUTES.runTasks, async (req, res) => {
        const runId = parseOrThrow(RunId, req.params.runId, 'run id');
        const tasks: RunTasksResponse['tasks'] = [];
        for (const { taskId, lane } of await store.laneTasksOfRun(runId, MAX_RUN_TASKS_LISTED)) {
          const task = await engine.get(taskId);
          if (task) tasks.push({ lane, task });
        }
        tasks.sort((a, b) => a.task.createdAt - b.task.createdAt);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ runId, tasks } satisfies RunTasksResponse);
      });

      router.get(FAULT_PATHS.faults, async (req, res) => {
        const { runId } = parseOrThrow(FaultsQuery, withoutLabTags(req.query), 'query');
        res.setHeader('Cache-Control', 'no-store');
        res.json({ faults: await store.ofRun(runId) } satisfies FaultsResponse);
      });
    },

    tagTask(taskId, req) {
      const tag = tagOf(req);
      if (!tag) return;
      store.tagTask(taskId, tag.runId, tag.lane).catch((error: unknown) => {
        log.error({ err: error, taskId }, 'task run not stored');
      });
    },

    poolOf(req) {
      const tag = tagOf(req);
      return tag ? pools.get(tag.runId) : undefined;
    },

    trackStream(req, res) {
      const tag = tagOf(req);
      if (tag) streams.track(tag.runId, res);
    },

    trackIdle(req, res) {
      const tag = tagOf(req);
      if (tag) idle.track(tag.runId, res);
    },

    loseAnswer(req) {
      if (lostAnswers.size === 0) return false;
      const tag = tagOf(req);
      const left = tag === undefined ? undefined : lostAnswers.get(tag.runId);
      if (!tag || left === undefined) return false;
      if (left <= 1) lostAnswers.delete(tag.runId);
      else lostAnswers.set(tag.runId, left - 1);
      return true;
    },

    async receiverAction(taskId) {
      if (receiverFaults.size === 0) return undefined;
      const runId = await store.runOfTask(taskId);
      const fault = runId === undefined ? undefined : receiverFaults.get(runId);
      if (!runId || !fault) return undefined;
      if (fault.remaining !== undefined) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) receiverFaults.delete(runId);
      }
      if (fault.mode === 'throttle-429' || fault.mode === 'unavailable-503') {
        return { mode: fault.mode, retryAfterS: fault.retryAfterS };
      }
      return { mode: fault.mode };
    },
  };
}

/**
 * Wraps every lane's event stream (`ServerLane.streams`: the SSE lane's, the hybrid's push) in the
 * buffering proxy of a buffer-streams fault as it opens, before anything is written to it. The
 * webhook relay is wrapped by the receiver itself (its own listener).
 */
/** Wraps every tagged GET answer of the API for the idle-timeout fault (`idle.ts`). */
export function trackIdleAnswers(faults: Pick<Faults, 'trackIdle'>): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET') faults.trackIdle(req, res);
    next();
  };
}

export function trackLaneStreams(
  faults: Pick<Faults, 'trackStream'>,
  lanes: readonly ServerLane[],
): RequestHandler {
  const streams = routesRegex(lanes.flatMap((lane) => lane.streams ?? []));
  return (req, res, next) => {
    if (req.method === 'GET' && streams.test(req.path)) faults.trackStream(req, res);
    next();
  };
}
