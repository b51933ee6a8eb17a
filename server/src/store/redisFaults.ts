import { FaultRecord, LaneId } from '@transport-lab/shared';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis.ts';
import { type FaultStore, RESTART_LOOKBACK_MS } from './sqliteFaults.ts';

/**
 * The fault records and each task's run tag on Redis (REDIS_URL), shared by the instances: a cancel
 * tagged with a task's run is allowed through any instance (access/ownership.ts), and an instance that
 * takes a task over knows its run and the run's faults. The same contract as the SQLite store
 * (`store/faultStore.contract.test.ts`):
 *
 * - `faults:run:<run>`: sorted set, a run's records (JSON) scored by when each took effect;
 * - `faults:norun`: sorted set, the records that named no run (a restart: every run's);
 * - `task-run:<task>`: hash `{run, lane}`, the lab tag a task was created with;
 * - `run-tasks:<run>`: hash task → lane, a run's tasks.
 *
 * Every key lives `keepMs` past its last write (RETENTION_HOURS plus a day, so a run's records outlast
 * its tasks, which Redis keeps RETENTION_HOURS after they end).
 */
export function redisFaultStore(redis: Redis, keys: RedisKeys, keepMs: number): FaultStore {
  const read = (json: string) => FaultRecord.parse(JSON.parse(json));
  return {
    async add(record) {
      const runId = 'runId' in record.fault ? record.fault.runId : undefined;
      const key = runId === undefined ? keys.faultsWithoutRun : keys.faultsOfRun(runId);
      await redis.multi().zadd(key, record.at, JSON.stringify(record)).pexpire(key, keepMs).exec();
    },
    async ofRun(runId) {
      const own = (await redis.zrange(keys.faultsOfRun(runId), 0, -1)).map(read);
      const first = own[0]?.at;
      if (first === undefined) return own;
      // A restart nobody named a run for touched every run: those near this run's own faults count.
      const last = own.at(-1)?.at ?? first;
      const restarts = (
        await redis.zrangebyscore(
          keys.faultsWithoutRun,
          first - RESTART_LOOKBACK_MS,
          last + RESTART_LOOKBACK_MS,
        )
      )
        .map(read)
        .filter((record) => record.fault.kind === 'restart-server');
      return [...own, ...restarts].sort((a, b) => a.at - b.at);
    },
    async tagTask(taskId, runId, lane) {
      await redis
        .multi()
        .hset(keys.taskRun(taskId), { run: runId, lane })
        .pexpire(keys.taskRun(taskId), keepMs)
        .hset(keys.runTasks(runId), taskId, lane)
        .pexpire(keys.runTasks(runId), keepMs)
        .exec();
    },
    async runOfTask(taskId) {
      return (await redis.hget(keys.taskRun(taskId), 'run')) ?? undefined;
    },
    async tasksOfRun(runId) {
      return redis.hkeys(keys.runTasks(runId));
    },
    async laneTasksOfRun(runId, limit) {
      // HSCAN with a COUNT is a hint, not a bound: the answer is cut to `limit`.
      const found: Array<{ taskId: string; lane: LaneId }> = [];
      let cursor = '0';
      do {
        const [next, flat] = await redis.hscan(keys.runTasks(runId), cursor, 'COUNT', Math.max(10, limit));
        cursor = next;
        for (let i = 0; i + 1 < flat.length && found.length < limit; i += 2) {
          const lane = LaneId.safeParse(flat[i + 1]);
          if (lane.success) found.push({ taskId: flat[i] as string, lane: lane.data });
        }
      } while (cursor !== '0' && found.length < limit);
      return found;
    },
  };
}
