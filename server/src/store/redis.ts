import { Redis } from 'ioredis';

/**
 * The connection to REDIS_URL and the names of every key the stores keep there. One prefix
 * (REDIS_PREFIX) heads them all, so that several labs, and tests with a random prefix each, share
 * one Redis and can delete exactly their own keys.
 *
 * Layout (server/src/store/README.md):
 * - `task:<id>` — string: the task's state as JSON, a snapshot written when the task is created and
 *   when its status changes (as the SQLite `tasks` row); it expires RETENTION_HOURS after the task ends;
 * - `task:<id>:events` — stream: the task's event log, entry id `<seq>-0`, field `event` (JSON); the
 *   write script adds only the next seq, so the log has neither duplicate nor gap; it expires with the
 *   task;
 * - `tasks:unfinished` — sorted set of the ids of tasks queued or running, scored by `createdAt`;
 * - `idempotency:<digest>` — hash `fingerprint` (+ `response` once answered), the digest of the client's
 *   scope and key (idempotency.ts); expires as the SQLite record would be ignored;
 * - `wake:<instance>` — stream of one entry: an instance's reader of other instances' task logs
 *   (redisRemoteEvents.ts) is woken through it when it must read one more log; expires an hour after
 *   its last use;
 * - `socket.io`, `socket.io#…` (pub/sub channels) and `sio:session:<pid>` — socket.io's Redis Streams
 *   adapter (app.ts): its broadcasts, its requests between instances, the sessions kept for recovery;
 * - `rate:<budget>:<client>` — string: the points a client (an address) has spent of a per-client rate
 *   budget (access/rateBudgets.ts: `client-tasks`, `client-task-events`, `client-result-bytes`,
 *   `room-failed-join`, `room-client-joins`), shared by every instance; it expires at the end of the
 *   budget's window (a minute from the first point spent);
 * - `task-queues` and `bull:tasks-<instance>:…` — the tasks each instance holds as BullMQ jobs, and
 *   their queues' heartbeats (tasks/leases.ts names them);
 * - `task-cancel` (a pub/sub channel) — cancel requests for the instance that runs the task
 *   (redisRemoteEvents.ts).
 */
export interface RedisKeys {
  readonly prefix: string;
  task(id: string): string;
  events(id: string): string;
  unfinished: string;
  idempotency(digest: string): string;
  wake(instance: string): string;
  /** socket.io's adapter: its stream (and the prefix of its channels), its sessions' keys. */
  socketIoStream: string;
  socketIoSessions: string;
  /** rate-limiter-flexible's key prefix for one rate budget (it adds `:<client>`). */
  rateBudget(name: string): string;
  /** A task's webhook subscriber and the last seq its deliveries settled (webhooks/handover.ts). */
  webhookHandover(taskId: string): string;
  /** Fault records and run tags (redisFaults.ts). */
  faultsOfRun(runId: string): string;
  faultsWithoutRun: string;
  taskRun(taskId: string): string;
  runTasks(runId: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    task: (id) => `${prefix}task:${id}`,
    events: (id) => `${prefix}task:${id}:events`,
    unfinished: `${prefix}tasks:unfinished`,
    idempotency: (digest) => `${prefix}idempotency:${digest}`,
    wake: (instance) => `${prefix}wake:${instance}`,
    socketIoStream: `${prefix}socket.io`,
    socketIoSessions: `${prefix}sio:session:`,
    rateBudget: (name) => `${prefix}rate:${name}`,
    webhookHandover: (taskId) => `${prefix}webhook:${taskId}`,
    faultsOfRun: (runId) => `${prefix}faults:run:${runId}`,
    faultsWithoutRun: `${prefix}faults:norun`,
    taskRun: (taskId) => `${prefix}task-run:${taskId}`,
    runTasks: (runId) => `${prefix}run-tasks:${runId}`,
  };
}

/** Redis did not answer at start: the server does not start half on it. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `Redis at ${redactedRedisUrl(url)} did not answer (${reason}). Start it (Debian: ` +
        "redis-server --port 6379 --save ''), fix REDIS_URL, or unset REDIS_URL to run on SQLite alone.",
      { cause },
    );
  }
}

/** The URL without its password, for logs and messages. */
export function redactedRedisUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** How long the first connection may take before the start fails. */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** Reconnection attempts after a lost connection, before the commands waiting for it fail … */
export const REDIS_COMMAND_RETRIES = 8;
/** … spaced 100 ms, 200 ms, 400 ms … up to this: ≈ 9 s in all (ioredis's own default, ≈ 76 s,
 *  held a task's writes, and a shutdown, for more than a minute). */
export const REDIS_RETRY_MAX_DELAY_MS = 2_000;

/**
 * Connects and waits for Redis to answer PING; rejects with RedisUnavailableError (and leaves no
 * connection retrying behind) when it does not. Later outages are ioredis's: it reconnects and queues
 * commands meanwhile, and fails them after REDIS_COMMAND_RETRIES attempts (≈ 9 s), so a Redis restart
 * only delays the writes, and a longer outage fails them (the runs halt, to resume at the next
 * start) rather than holding them for ever. A command sent but not answered when the connection
 * dropped is sent again after it (ioredis's default): a task write that had landed is then refused by
 * its own seq check (redisTasks.ts), never written twice.
 * `onError`: every connection error after the start (ioredis would print them otherwise).
 */
export async function connectRedis(
  url: string,
  onError: (error: Error) => void = () => {},
  connectTimeoutMs = REDIS_CONNECT_TIMEOUT_MS,
): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: REDIS_COMMAND_RETRIES,
    retryStrategy: (attempt) => Math.min(100 * 2 ** (attempt - 1), REDIS_RETRY_MAX_DELAY_MS),
  });
  let started = false;
  // While connecting, the error event says why (ECONNREFUSED …); connect() only "Connection is closed".
  let firstError: Error | undefined;
  redis.on('error', (error: Error) => {
    if (started) onError(error);
    else firstError ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new RedisUnavailableError(url, firstError ?? error);
  }
  started = true;
  return redis;
}

/** Closes the connection: gracefully (after the replies still due) when it is up; at once when
 *  Redis is away, where QUIT would wait in the offline queue for a reconnection. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit();
  else redis.disconnect();
}
