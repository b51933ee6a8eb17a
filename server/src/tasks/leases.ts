import { randomUUID } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import type { RunOutcome, TaskEngine } from './engine.ts';

/**
 * Each task an instance runs is a BullMQ job it holds (REDIS_URL only: this module, and BullMQ with
 * it, is imported by app.ts on Redis alone). The job is the task's lease: while the instance lives,
 * its Worker renews the job's lock every half of TASK_LOCK_MS; when it dies (`kill -9`, a lost host),
 * the lock lapses, BullMQ's stalled-job check moves the job back to waiting, and another instance takes
 * it and runs the task on from its last stored step (`engine.runUntilSettled`).
 *
 * One queue per instance, `tasks-<instance>`, so that a task runs where it was accepted (its client's
 * share, its run's faults and worker pool, its webhook subscriber and metrics are that instance's):
 * a job is added to the accepting instance's own queue when the task is (its `queued` event), and
 * only that instance's Worker takes jobs from it while it lives. Every instance writes its queue in
 * the sorted set `task-queues` with the time of its last heartbeat (every quarter of TASK_LOCK_MS).
 * Once a queue's heartbeat is older than TASK_LOCK_MS (or its instance stopped gracefully, which
 * marks it at 0), the others watch it: a Worker of theirs on it that fetches nothing by itself runs
 * BullMQ's stalled check there, and each job back in waiting is taken by one of them (fetched: BullMQ
 * gives it to one) and moved into its own queue, where its own Worker runs the task. A queue left
 * empty by its instance is deleted (`obliterate`) with its entry.
 *
 * So a dead instance's task resumes after one to two TASK_LOCK_MS (its heartbeat going stale, checked
 * every quarter of it, then a stalled check, every half of it), and the seq check of the store's write script (`store/redisTasks.ts`)
 * stays the last line against two runners: one wins each seq and the other halts.
 */

/** What the leases need of the engine. */
export type LeaseEngine = Pick<TaskEngine, 'onEvent' | 'runUntilSettled' | 'waitForEnd'>;

export interface TaskLeaseOptions {
  redisUrl: string;
  /** REDIS_PREFIX: BullMQ's keys are `<prefix>bull:tasks-<instance>:…`, the registry `<prefix>task-queues`. */
  prefix: string;
  /** TASK_LOCK_MS. */
  lockMs: number;
  engine: LeaseEngine;
  logger: Logger;
  /** Told of each task this instance takes over from one that is gone, as it takes it (the
   *  webhooks go on from here: webhooks/handover.ts). */
  onTakeover?: (taskId: string) => void;
  /** Resolves once the task's webhooks have nothing left to send here; rejects when they never will
   *  (the dispatcher closed). A task's job is held until then, so that webhooks still retrying when
   *  the instance dies are taken over with it. */
  webhooksSettled?: (taskId: string) => Promise<void>;
}

export interface TaskLeases {
  /** This instance's queue. */
  readonly queueName: string;
  /** Stops holding: the tasks held are handed back (their jobs moved back to waiting, the
   *  queue marked gone), for another instance, or the next start, to take. Call after engine.stop(). */
  close(): Promise<void>;
}

const JOB_NAME = 'task';
/** Jobs of a queue the engine may hold at once: every task an instance holds, queued ones included,
 *  is one active job (MAX_RUNNING_TASKS is at most 1 000 000). */
const MAX_HELD = 1_000_000;
/** A job is never failed for stalling: a task must end, however often its instance died. */
const MAX_STALLED = 1_000_000;
/** Each job is gone from Redis once done (its task's log is the record). */
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true } as const;

export const taskQueuesKey = (prefix: string) => `${prefix}task-queues`;
export const bullPrefix = (prefix: string) => `${prefix}bull`;

export async function startTaskLeases({
  redisUrl,
  prefix,
  lockMs,
  engine,
  logger,
  onTakeover,
  webhooksSettled,
}: TaskLeaseOptions): Promise<TaskLeases> {
  // BullMQ's own connection: its blocking reads need `maxRetriesPerRequest: null` (they wait for Redis
  // through an outage instead of failing).
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (error) =>
    logger.error({ err: error }, 'BullMQ Redis connection error; reconnecting'),
  );
  const registry = taskQueuesKey(prefix);
  const queueName = `tasks-${randomUUID()}`;
  const common = {
    connection,
    prefix: bullPrefix(prefix),
    lockDuration: lockMs,
    stalledInterval: Math.max(250, Math.round(lockMs / 2)),
    maxStalledCount: MAX_STALLED,
  };
  const queue = new Queue(queueName, { connection, prefix: common.prefix });

  const worker = new Worker(
    queueName,
    async (job: Job) => {
      const id = job.id as string;
      let outcome: RunOutcome | undefined;
      // A failed job would be a lost task (removeOnFail): a store read that fails is tried again.
      while (outcome === undefined) {
        outcome = await engine.runUntilSettled(id).catch((error: unknown) => {
          logger.error({ err: error, taskId: id }, 'could not take a task on; trying again');
          return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), lockMs / 4));
        });
      }
      // Another instance took its next seq, hence runs it under a lease of its own: this one is done
      // once the task has ended there.
      while (outcome === 'halted') {
        const waited = await engine.waitForEnd(id, lockMs * 10);
        if (waited.ended) outcome = 'ended';
        else if (waited.reason === 'stopping') outcome = 'stopping';
      }
      // Ended: held on until its webhooks are settled here (a closing dispatcher: stopping).
      if (outcome === 'ended' && webhooksSettled) {
        const settled = await webhooksSettled(id).then(
          () => true,
          () => false,
        );
        if (!settled) outcome = 'stopping';
      }
      // Stopping: the job stays active until close() hands it back (the Worker is closed without
      // waiting for it).
      if (outcome === 'stopping') await new Promise(() => {});
    },
    { ...common, concurrency: MAX_HELD },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'task lease worker error'));

  // A task accepted here is held here from its first event on.
  const offQueued = engine.onEvent((event) => {
    if (event.type !== 'queued') return;
    queue.add(JOB_NAME, {}, { ...JOB_OPTIONS, jobId: event.taskId }).catch((error: unknown) => {
      logger.error(
        { err: error, taskId: event.taskId },
        'could not hold a task in BullMQ: not recovered if this instance dies',
      );
    });
  });

  /** Workers on the queues of instances that are gone, by queue name. */
  const watchers = new Map<string, { watcher: Worker; draining: Promise<void> | undefined }>();

  /** Takes the waiting jobs of a gone instance's queue into this one's, one at a time. */
  async function drain(name: string): Promise<void> {
    const entry = watchers.get(name);
    if (!entry || entry.draining) return entry?.draining;
    entry.draining = (async () => {
      const token = randomUUID();
      for (;;) {
        const job = (await entry.watcher.getNextJob(token, { block: false })) as Job | undefined;
        if (!job?.id) break;
        // Told first, so that the task's webhooks are being taken over (webhooks.adopt) before this
        // instance's Worker can run the job and ask whether they settled.
        onTakeover?.(job.id);
        await queue.add(JOB_NAME, {}, { ...JOB_OPTIONS, jobId: job.id });
        await job.moveToCompleted('taken over', token, false);
        logger.info(
          { taskId: job.id, from: name, to: queueName },
          'task taken over from an instance that is gone',
        );
      }
      const gone = new Queue(name, { connection, prefix: common.prefix });
      try {
        const counts = await gone.getJobCounts(
          'active',
          'wait',
          'delayed',
          'prioritized',
          'waiting-children',
        );
        if (Object.values(counts).every((count) => count === 0)) {
          watchers.delete(name);
          await entry.watcher.close(true);
          await gone.obliterate({ force: true });
          await connection.zrem(registry, name);
        }
      } finally {
        await gone.close();
      }
    })()
      .catch((error: unknown) =>
        logger.error({ err: error, queue: name }, 'taking over tasks failed; retrying'),
      )
      .finally(() => {
        entry.draining = undefined;
      });
    return entry.draining;
  }

  function watch(name: string): void {
    if (closed) return;
    if (watchers.has(name)) {
      void drain(name);
      return;
    }
    // Fetches only when told (drain): BullMQ's stalled check, on its timer, moves the jobs whose lock
    // lapsed back to waiting.
    const watcher = new Worker(name, null, { ...common, autorun: false });
    watcher.on('error', (error) => logger.error({ err: error, queue: name }, 'task lease watcher error'));
    watcher.on('stalled', () => void drain(name));
    watchers.set(name, { watcher, draining: undefined });
    void watcher.startStalledCheckTimer();
    void drain(name);
  }

  let closed = false;
  async function beat(): Promise<void> {
    // Redis's clock, not this host's: every instance's heartbeat is judged on the same one.
    const [seconds, micros] = await connection.time();
    const now = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
    await connection.zadd(registry, now, queueName);
    const entries = await connection.zrange(registry, 0, -1, 'WITHSCORES');
    for (let i = 0; i < entries.length; i += 2) {
      const name = entries[i] as string;
      if (closed || name === queueName) continue;
      if (Number(entries[i + 1]) < now - lockMs) watch(name);
      else unwatch(name);
    }
  }

  /** Its instance beats again (it froze past TASK_LOCK_MS and came back): its queue is its own. */
  function unwatch(name: string): void {
    const entry = watchers.get(name);
    if (!entry || entry.draining) return;
    watchers.delete(name);
    entry.watcher.close(true).catch(() => {});
  }

  let beating = false;
  // One beat at a time: while Redis is away its commands wait (BullMQ's connection retries for ever).
  const tick = () => {
    if (beating) return;
    beating = true;
    beat()
      .catch((error: unknown) => logger.error({ err: error }, 'task lease heartbeat failed'))
      .finally(() => {
        beating = false;
      });
  };
  await beat();
  const timer = setInterval(tick, Math.max(100, Math.round(lockMs / 4)));
  timer.unref();

  return {
    queueName,
    async close() {
      closed = true;
      clearInterval(timer);
      offQueued();
      // Fetch no more (a fetch in flight may still take a job), then hand back every job active in
      // this queue, all of them this instance's (token '0': whatever its lock), and mark the queue
      // gone: another instance takes them without waiting for their locks to lapse.
      await worker.close(true);
      const active = await queue.getActive().catch(() => []);
      for (const job of active) await job.moveToWait('0').catch(() => {});
      await connection.zadd(registry, 0, queueName).catch(() => {});
      for (const { watcher, draining } of watchers.values()) {
        await draining;
        await watcher.close(true);
      }
      watchers.clear();
      await queue.close();
      if (connection.status === 'ready') await connection.quit();
      else connection.disconnect();
    },
  };
}
