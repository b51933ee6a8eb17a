import { TaskEvent, TaskState, TERMINAL_STATUSES } from '@transport-lab/shared';
import type { Redis, Result } from 'ioredis';
import type { RedisKeys } from './redis.ts';
import type { TaskStore } from './types.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    transportLabWriteTasks(
      numKeys: number,
      ...keysAndArgs: Array<string | number>
    ): Result<Array<number | string>, Context>;
  }
}

/**
 * Writes a turn's task writes in order, in one call (the group commit of writeBatch.ts, on Redis).
 * KEYS[1]: tasks:unfinished; then for each write its task key and its events key.
 * ARGV[1]: how long an ended task is kept, ms; then for each write 6 fields: op (`create`, `append`,
 * `end`), task id, seq, event JSON, state JSON ('' leaves the snapshot as it is), createdAt.
 * Returns one entry per write: 0 when written, else why it was refused.
 *
 * A write adds its event only as the next seq of its task's log (the first, 1, for a create, which
 * also needs the task to be new), so a log never has a duplicate nor a gap, whichever instance writes;
 * the stream itself would refuse an id not above its last (XADD). Once one write of a task is refused,
 * its later writes in the same call are too, as writeBatch.ts does for a chain. Each write's own
 * commands run only after its checks pass: a refused write changes nothing. A write error of Redis
 * itself (out of memory: refused at a script's first write) fails that write alone.
 */
const WRITE_TASKS_LUA = `
local keep = ARGV[1]
local results = {}
local broken = {}
local writes = (#KEYS - 1) / 2
for i = 1, writes do
  local taskKey, eventsKey = KEYS[2 * i], KEYS[2 * i + 1]
  local a = 1 + (i - 1) * 6
  local op, id, seq, event, state, createdAt =
    ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
  local refusal
  if broken[id] then
    refusal = 'an earlier write of task ' .. id .. ' failed'
  else
    local last = 0
    local top = redis.call('XREVRANGE', eventsKey, '+', '-', 'COUNT', 1)
    if top[1] then last = tonumber(string.match(top[1][1], '^%d+')) end
    if op == 'create' and redis.call('EXISTS', taskKey) == 1 then
      refusal = 'task ' .. id .. ' exists already'
    elseif tonumber(seq) ~= last + 1 then
      refusal = 'seq ' .. seq .. ' of task ' .. id .. ' refused: its log ends at seq ' .. last
    else
      local added = redis.pcall('XADD', eventsKey, seq .. '-0', 'event', event)
      if type(added) == 'table' and added.err then refusal = added.err end
    end
  end
  if refusal then
    broken[id] = true
    results[i] = refusal
  else
    if state ~= '' then redis.call('SET', taskKey, state) end
    if op == 'create' then
      redis.call('ZADD', KEYS[1], createdAt, id)
    elseif op == 'end' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('PEXPIRE', taskKey, keep)
      redis.call('PEXPIRE', eventsKey, keep)
    end
    results[i] = 0
  end
end
return results
`;

/** Writes one script call takes at most: a call holds Redis for its length (≈ 10 µs a write). */
export const MAX_REDIS_BATCH_WRITES = 256;

interface PendingWrite {
  op: 'create' | 'append' | 'end';
  taskId: string;
  seq: number;
  event: string;
  state: string;
  createdAt: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A write Redis refused (a duplicate or out-of-order seq, a task created twice). */
export class TaskWriteRefused extends Error {
  override name = 'TaskWriteRefused';
}

export interface RedisTaskStoreOptions {
  keys: RedisKeys;
  /** How long an ended task (its snapshot and its log) is kept: RETENTION_HOURS. */
  retentionMs: number;
}

/**
 * Tasks and their event logs on Redis (key layout: redis.ts). Writes are grouped as SQLite's are
 * (writeBatch.ts): every write of one turn of the event loop goes to Redis in one script call, and
 * each write's promise settles once Redis has answered for it, so the engine still publishes only
 * what is stored. One call is in flight at a time: writes queued meanwhile go in the next, which
 * keeps a task's writes in order (and groups more of them the busier Redis is).
 *
 * Redis persists as it is configured (RDB snapshots, AOF with `appendfsync everysec`, or nothing):
 * an acknowledged write survives a crash of this process, and a crash of Redis loses what its
 * configuration allows (server/src/store/README.md).
 *
 * `close()` waits for the queued writes; the connection is its owner's to close.
 */
export function redisTaskStore(redis: Redis, { keys, retentionMs }: RedisTaskStoreOptions): TaskStore {
  redis.defineCommand('transportLabWriteTasks', { lua: WRITE_TASKS_LUA });
  const keepMs = String(Math.max(1, Math.round(retentionMs)));
  const queue: PendingWrite[] = [];
  let scheduled = false;
  let inFlight: Promise<void> | undefined;
  let closed = false;
  /** Tasks a write of which was refused: their later writes are refused at once (no gap). */
  const failedTasks = new Set<string>();

  async function send(batch: PendingWrite[]): Promise<void> {
    const keyList: string[] = [keys.unfinished];
    const args: Array<string | number> = [keepMs];
    for (const write of batch) {
      keyList.push(keys.task(write.taskId), keys.events(write.taskId));
      args.push(write.op, write.taskId, write.seq, write.event, write.state, write.createdAt);
    }
    let results: Array<number | string>;
    try {
      results = await redis.transportLabWriteTasks(keyList.length, ...keyList, ...args);
    } catch (error) {
      // Nothing of this call is known to be written (a lost connection): each write fails, and its
      // task's later writes with it.
      const cause = error instanceof Error ? error : new Error(String(error));
      for (const write of batch) {
        failedTasks.add(write.taskId);
        write.reject(cause);
      }
      return;
    }
    for (const [index, write] of batch.entries()) {
      const result = results[index];
      if (result === 0) {
        write.resolve();
        continue;
      }
      failedTasks.add(write.taskId);
      write.reject(new TaskWriteRefused(String(result)));
    }
  }

  /** Sends what is queued, MAX_REDIS_BATCH_WRITES per call, one call at a time. */
  function drain(): Promise<void> {
    inFlight ??= (async () => {
      while (queue.length > 0) {
        const batch = queue.splice(0, MAX_REDIS_BATCH_WRITES);
        await send(batch);
      }
      inFlight = undefined;
    })();
    return inFlight;
  }

  function enqueue(write: Omit<PendingWrite, 'resolve' | 'reject'>): Promise<void> {
    if (closed) return Promise.reject(new Error('the store is closed'));
    if (failedTasks.has(write.taskId)) {
      return Promise.reject(new TaskWriteRefused(`an earlier write of task ${write.taskId} failed`));
    }
    return new Promise<void>((resolve, reject) => {
      queue.push({ ...write, resolve, reject });
      if (!scheduled && !inFlight) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void drain();
        });
      }
    });
  }

  const readTask = (json: string) => TaskState.parse(JSON.parse(json));

  return {
    kind: 'redis',
    createTask(task, first) {
      return enqueue({
        op: 'create',
        taskId: task.id,
        seq: first.seq,
        event: JSON.stringify(first),
        state: JSON.stringify(task),
        createdAt: task.createdAt,
      });
    },
    appendEvent(event, next) {
      // As in SQLite: a progress event leaves the snapshot as it was; the log holds it.
      const ends = TERMINAL_STATUSES.has(next.status);
      return enqueue({
        op: ends ? 'end' : 'append',
        taskId: next.id,
        seq: event.seq,
        event: JSON.stringify(event),
        state: event.type === 'progress' ? '' : JSON.stringify(next),
        createdAt: next.createdAt,
      });
    },
    async getTask(id) {
      const json = await redis.get(keys.task(id));
      return json === null ? undefined : readTask(json);
    },
    async eventsAfter(id, afterSeq) {
      const entries = await redis.xrange(keys.events(id), `(${afterSeq}-0`, '+');
      return entries.map(([, fields]) => TaskEvent.parse(JSON.parse(fields[1] ?? 'null')));
    },
    async unfinishedTasks() {
      const ids = await redis.zrange(keys.unfinished, 0, -1);
      if (ids.length === 0) return [];
      const states = await redis.mget(ids.map((id) => keys.task(id)));
      // A member whose snapshot is gone (deleted by hand) has nothing left to resume.
      return states.filter((json): json is string => json !== null).map(readTask);
    },
    async close() {
      closed = true;
      await drain();
    },
  };
}
