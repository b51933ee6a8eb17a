import {
  CLIENT_LIMIT_REASONS,
  type ClientLimitDetails,
  type ClientLimitReason,
  type TaskSpec,
} from '@transport-lab/shared';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.ts';
import { normalizedAddress } from './addresses.ts';
import { forwardedFor, isLocal, isLoopbackAddress, type Peer } from './operator.ts';
import { memoryBudgets, type RateBudgets } from './rateBudgets.ts';

/**
 * Every resource one client may hold, bounded (issue 11, item 2; docs/security.md, "Limits"). The
 * whole server's bounds (MAX_RUNNING_TASKS, MAX_OPEN_STREAMS) refuse everyone once reached; these
 * refuse the one device that asks for more than its share first, so that a phone full of bots
 * cannot bring the server to its whole bound and the others' races stay true.
 *
 * A client is its address, not its run tag: a tag is whatever the page sends, and a bot mints a new
 * one per request. Behind a proxy on this machine (Vite's dev server forwards with `xfwd`), it is
 * the address that proxy says it forwards for (believed from a loopback peer only, as access/
 * operator.ts does). This machine itself is exempt: it is the operator (access/operator.ts), and the
 * project's own tests and capacity benchmark run many simulated phones from 127.0.0.1 — bounding
 * them would measure the bound, not the lab. A hall's phones never reach the server from loopback.
 *
 * The counts add no header to any answer (no `RateLimit-*`): a lane's measured bytes stay the
 * lane's. Only a refusal says something: `429 RATE_LIMITED` + `Retry-After`, with a sentence for
 * the person at the page.
 *
 * The per-minute budgets count where `createClientLimits`' `store` says (access/rateBudgets.ts): in
 * memory, or with REDIS_URL on Redis, one budget per client for every instance. The gauges (tasks running, streams open) count
 * what this instance holds, and stay here: a task runs, and a stream is open, on one instance, and a
 * count kept elsewhere would outlive an instance that died holding them.
 */
export interface ClientLimitSettings {
  /** Tasks one client may have running at once (queued ones included). */
  maxTasksRunning: number;
  /** Tasks one client may start per minute. */
  tasksPerMinute: number;
  /** Events one client's tasks may ask for per minute: a task costs its steps + 3 (queued, started,
   *  the end). Each is written to the store; this, not the count of tasks, is what loads the disk. */
  taskEventsPerMinute: number;
  /** Result bytes one client's tasks may ask for per minute (stored with the task, sent on every lane). */
  resultBytesPerMinute: number;
  /** SSE streams + held long polls + socket.io connections one client may hold open at once. */
  maxStreams: number;
}

export interface ClientLimits {
  /** The client a peer counts as, or undefined for this machine (never bounded). */
  clientOf(peer: Peer): string | undefined;
  /**
   * Throws `429 RATE_LIMITED` (with `Retry-After`) if the peer's client may not start `spec` now;
   * else counts `taskId` as running for it until `taskEnded(taskId)`. A refused task counts nowhere.
   */
  admitTask(peer: Peer, taskId: string, spec: TaskSpec): Promise<void>;
  /** The task ended (its terminal event) or was never created: it no longer counts. Idempotent. */
  taskEnded(taskId: string): void;
  /** Throws `429 RATE_LIMITED` if the client holds its streams already; else counts one more until
   *  the returned function is called (once is enough; more are harmless). */
  openStream(peer: Peer): () => void;
  /** Counts one more stream for `client` whatever its count (a socket.io connection already open);
   *  true if it is within the bound. */
  countStream(client: string): { withinBound: boolean; release: () => void };
  /** The refusal of a stream past the bound, for `client` (a socket.io connect error carries it). */
  streamRefusal(): AppError;
  /** What a client holds now (tests, metrics). */
  holding(client: string): { tasksRunning: number; streams: number };
}

/** When to try again after a gauge refusal ("at once"), s: a hall's task lasts a few seconds. */
export const GAUGE_RETRY_AFTER_S = 2;

const KIB = 1_024;
const formatBytes = (bytes: number) =>
  bytes >= KIB * KIB ? `${Math.round(bytes / (KIB * KIB))} MiB` : `${Math.round(bytes / KIB)} KiB`;

/** Sentences for the person at the page: the client shows the message on the lane's card. */
function message(reason: ClientLimitReason, limit: number, retryAfterS: number): string {
  switch (reason) {
    case 'tasks-running':
      return `Too many tasks from this device at once (${limit}): wait for one to finish, or try again in ${retryAfterS} s.`;
    case 'tasks-per-minute':
      return `Too many tasks from this device this minute (${limit} a minute): try again in ${retryAfterS} s.`;
    case 'task-events-per-minute':
      return `This device's tasks this minute would send more than ${limit} events: choose fewer steps, or try again in ${retryAfterS} s.`;
    case 'result-bytes-per-minute':
      return `This device's tasks this minute would ask for more than ${formatBytes(limit)} of results: choose a smaller result, or try again in ${retryAfterS} s.`;
    case 'streams':
      return `Too many open connections from this device (${limit}): close a tab or a lane, or try again in ${retryAfterS} s.`;
    case 'room-seats':
      return `This network already holds ${limit} of this room's seats, its share: the rest are kept for other devices. Try again in ${retryAfterS} s, or when someone on it leaves.`;
    case 'room-joins-per-minute':
      return `Too many joins from this network this minute (${limit} a minute): try again in ${retryAfterS} s.`;
    case 'rooms-per-connection':
      return `This page already runs ${limit} rooms: end one before creating another, or try again in ${retryAfterS} s, when an idle one has ended.`;
    case 'rooms':
      return `This device already runs ${limit} rooms: end one before creating another, or try again in ${retryAfterS} s, when an idle one has ended.`;
    case 'board-notes':
      return `You have ${limit} notes on the board, the most one person may: delete one of yours to add another.`;
    case 'network-links':
      return `This device has chosen network conditions in ${limit} browsers, the most it may: try again in ${retryAfterS} s, when an unused one has expired.`;
  }
}

export function clientLimitError(reason: ClientLimitReason, limit: number, retryAfterS: number): AppError {
  return new AppError(
    'RATE_LIMITED',
    message(reason, limit, retryAfterS),
    { reason, limit, retryAfterS } satisfies ClientLimitDetails,
    { 'Retry-After': String(retryAfterS) },
  );
}

export function clientOf(peer: Peer): string | undefined {
  if (isLocal(peer)) return undefined;
  // From a local proxy, the client it forwards for (the first address it names); from anywhere
  // else, the TCP peer, whatever the headers say.
  const forwarded = isLoopbackAddress(peer.address) ? forwardedFor(peer.headers) : [];
  const address = forwarded.find((entry) => !isLoopbackAddress(entry)) ?? peer.address;
  return normalizedAddress(address ?? 'unknown');
}

export function createClientLimits(
  settings: ClientLimitSettings,
  /** Where the per-minute budgets count: memory (each instance its own) or Redis (shared). */
  store: RateBudgets = memoryBudgets,
): ClientLimits {
  // A per-minute budget keyed by client.
  const perMinute = (name: string, points: number) => store({ name, points, durationS: 60 });
  const running = new Map<string, number>(); // client → tasks running
  const taskClient = new Map<string, string>(); // task id → its client, while it runs
  const streams = new Map<string, number>(); // client → streams open

  const budgets: Array<{
    reason: ClientLimitReason;
    limit: number;
    limiter: RateLimiterAbstract;
    cost: (spec: TaskSpec) => number;
  }> = [
    {
      reason: CLIENT_LIMIT_REASONS.tasksPerMinute,
      limit: settings.tasksPerMinute,
      limiter: perMinute('client-tasks', settings.tasksPerMinute),
      cost: () => 1,
    },
    {
      reason: CLIENT_LIMIT_REASONS.taskEventsPerMinute,
      limit: settings.taskEventsPerMinute,
      limiter: perMinute('client-task-events', settings.taskEventsPerMinute),
      cost: (spec) => spec.steps + 3,
    },
    {
      reason: CLIENT_LIMIT_REASONS.resultBytesPerMinute,
      limit: settings.resultBytesPerMinute,
      limiter: perMinute('client-result-bytes', settings.resultBytesPerMinute),
      cost: (spec) => spec.resultBytes ?? 0,
    },
  ];

  const adjust = (counts: Map<string, number>, client: string, by: number) => {
    const next = (counts.get(client) ?? 0) + by;
    if (next > 0) counts.set(client, next);
    else counts.delete(client);
  };

  function countStream(client: string) {
    adjust(streams, client, 1);
    let open = true;
    return {
      withinBound: (streams.get(client) ?? 0) <= settings.maxStreams,
      release: () => {
        if (!open) return;
        open = false;
        adjust(streams, client, -1);
      },
    };
  }

  function taskEnded(taskId: string): void {
    const client = taskClient.get(taskId);
    if (client === undefined) return;
    taskClient.delete(taskId);
    adjust(running, client, -1);
  }

  const streamRefusal = () => clientLimitError('streams', settings.maxStreams, GAUGE_RETRY_AFTER_S);

  return {
    clientOf,
    async admitTask(peer, taskId, spec) {
      const client = clientOf(peer);
      if (client === undefined) return;
      // Counted before the budgets' awaits, so that requests arriving together see each other.
      if ((running.get(client) ?? 0) >= settings.maxTasksRunning)
        throw clientLimitError('tasks-running', settings.maxTasksRunning, GAUGE_RETRY_AFTER_S);
      adjust(running, client, 1);
      taskClient.set(taskId, client);
      const spent: Array<{ limiter: RateLimiterAbstract; points: number }> = [];
      for (const budget of budgets) {
        const points = budget.cost(spec);
        if (points === 0) continue;
        try {
          await budget.limiter.consume(client, points);
        } catch (error) {
          taskEnded(taskId);
          // A refused task costs nothing: what the earlier budgets took is given back.
          for (const taken of spent) await taken.limiter.reward(client, taken.points);
          if (!(error instanceof RateLimiterRes)) throw error;
          throw clientLimitError(
            budget.reason,
            budget.limit,
            Math.max(1, Math.ceil(error.msBeforeNext / 1_000)),
          );
        }
        spent.push({ limiter: budget.limiter, points });
      }
    },
    taskEnded,
    openStream(peer) {
      const client = clientOf(peer);
      if (client === undefined) return () => undefined;
      if ((streams.get(client) ?? 0) >= settings.maxStreams) throw streamRefusal();
      return countStream(client).release;
    },
    countStream,
    streamRefusal,
    holding(client) {
      return { tasksRunning: running.get(client) ?? 0, streams: streams.get(client) ?? 0 };
    },
  };
}
