import { FaultRecord, LaneId } from '@transport-lab/shared';
import type Database from 'better-sqlite3';
import type { WriteBatch } from './writeBatch.ts';

/** Restarts are every run's: a run's list has those of this long before its first fault or task. */
export const RESTART_LOOKBACK_MS = 3_600_000;

/** Applied faults and which run each task belongs to, durable: a restart's record survives it. */
export interface FaultStore {
  add(record: FaultRecord): Promise<void>;
  /** The run's faults, oldest first, with the restarts that touched it (no run named, in its window). */
  ofRun(runId: string): Promise<FaultRecord[]>;
  /** Remembers the run and lane a task was created for (its lab tag). */
  tagTask(taskId: string, runId: string, lane: LaneId): Promise<void>;
  runOfTask(taskId: string): Promise<string | undefined>;
  tasksOfRun(runId: string): Promise<string[]>;
  /** The run's tasks with the lane each was created by, at most `limit` of them, in no order. */
  laneTasksOfRun(runId: string, limit: number): Promise<Array<{ taskId: string; lane: LaneId }>>;
}

/** Tables `faults` and `task_runs` (migrations.ts). `batch`: the task store's group commit; a task's run tag is written with the task's own rows (one
 *  transaction per tagged task cost more than the rest of its creation, measured at 100 phones). */
export function sqliteFaultStore(db: Database.Database, batch: WriteBatch): FaultStore {
  const insert = db.prepare('INSERT INTO faults (id, run_id, kind, at, record) VALUES (?, ?, ?, ?, ?)');
  const selectRun = db.prepare<[string], { record: string }>(
    'SELECT record FROM faults WHERE run_id = ? ORDER BY at',
  );
  const selectRestarts = db.prepare<[number, number], { record: string }>(
    "SELECT record FROM faults WHERE kind = 'restart-server' AND run_id IS NULL AND at BETWEEN ? AND ? ORDER BY at",
  );
  const insertTaskRun = db.prepare(
    'INSERT OR REPLACE INTO task_runs (task_id, run_id, lane) VALUES (?, ?, ?)',
  );
  const selectTaskRun = db.prepare<[string], { run_id: string }>(
    'SELECT run_id FROM task_runs WHERE task_id = ?',
  );
  const selectRunTasks = db.prepare<[string], { task_id: string }>(
    'SELECT task_id FROM task_runs WHERE run_id = ?',
  );
  const selectRunLaneTasks = db.prepare<[string, number], { task_id: string; lane: string }>(
    'SELECT task_id, lane FROM task_runs WHERE run_id = ? LIMIT ?',
  );
  const read = (json: string) => FaultRecord.parse(JSON.parse(json));

  return {
    async add(record) {
      const runId = 'runId' in record.fault ? (record.fault.runId ?? null) : null;
      insert.run(record.id, runId, record.fault.kind, record.at, JSON.stringify(record));
    },
    async ofRun(runId) {
      const own = selectRun.all(runId).map((row) => read(row.record));
      const first = own[0]?.at;
      if (first === undefined) return own;
      // A restart nobody named a run for touched every run: those near this run's own faults count.
      const last = own.at(-1)?.at ?? first;
      const restarts = selectRestarts
        .all(first - RESTART_LOOKBACK_MS, last + RESTART_LOOKBACK_MS)
        .map((row) => read(row.record));
      return [...own, ...restarts].sort((a, b) => a.at - b.at);
    },
    tagTask(taskId, runId, lane) {
      return batch.enqueue(() => insertTaskRun.run(taskId, runId, lane));
    },
    async runOfTask(taskId) {
      return selectTaskRun.get(taskId)?.run_id;
    },
    async tasksOfRun(runId) {
      return selectRunTasks.all(runId).map((row) => row.task_id);
    },
    async laneTasksOfRun(runId, limit) {
      return selectRunLaneTasks.all(runId, limit).flatMap((row) => {
        const lane = LaneId.safeParse(row.lane);
        return lane.success ? [{ taskId: row.task_id, lane: lane.data }] : [];
      });
    },
  };
}
