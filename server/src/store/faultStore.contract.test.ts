import type { FaultRecord } from '@transport-lab/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { STORE_DRIVERS, useStoreWorld } from '../../test/storeDrivers.ts';
import type { FaultStore } from './sqliteFaults.ts';
import { RESTART_LOOKBACK_MS } from './sqliteFaults.ts';

const RUN = 'run-aaaaaaaaaaaaaaaaaaaaaa';
const OTHER_RUN = 'run-bbbbbbbbbbbbbbbbbbbbbb';

const drop = (id: string, runId: string, at: number): FaultRecord => ({
  id,
  fault: { kind: 'drop-connections', runId, lane: 'sse' },
  at,
  affected: 1,
  summary: `dropped at ${at}`,
});
const restart = (id: string, at: number): FaultRecord => ({
  id,
  fault: { kind: 'restart-server' },
  at,
  affected: 0,
  summary: 'restarted',
});

/**
 * The fault records and run tags, the same on SQLite and on Redis (describe.each over the drivers;
 * the Redis run fails without a Redis in CI): a run's faults oldest first with the run-less restarts
 * near them, and each task's run and lane.
 */
describe.each(STORE_DRIVERS)('the $kind fault store', (driver) => {
  const world = useStoreWorld(driver);
  let store: FaultStore;
  beforeEach(async () => {
    store = await world().faults();
  });

  it("lists a run's faults oldest first, with the restarts that named no run near them, and no other run's", async () => {
    const t = 1_000_000_000;
    await store.add(drop('f2', RUN, t + 2_000));
    await store.add(drop('f1', RUN, t));
    await store.add(drop('other', OTHER_RUN, t + 1_000));
    await store.add(restart('near', t + 1_500));
    await store.add(restart('long-before', t - RESTART_LOOKBACK_MS - 1));
    expect((await store.ofRun(RUN)).map((record) => record.id)).toEqual(['f1', 'near', 'f2']);
    expect((await store.ofRun(RUN))[0]).toEqual(drop('f1', RUN, t));
    // A run with no fault of its own has nothing, not even the restarts.
    expect(await store.ofRun('run-cccccccccccccccccccccc')).toEqual([]);
  });

  it("keeps each task's run and lane, and finds a run's tasks", async () => {
    await store.tagTask('task-1', RUN, 'sse');
    await store.tagTask('task-2', RUN, 'websocket');
    await store.tagTask('task-3', OTHER_RUN, 'long-polling');
    expect(await store.runOfTask('task-1')).toBe(RUN);
    expect(await store.runOfTask('task-unknown')).toBeUndefined();
    expect((await store.tasksOfRun(RUN)).sort()).toEqual(['task-1', 'task-2']);
    const lanes = await store.laneTasksOfRun(RUN, 10);
    expect(lanes.sort((a, b) => a.taskId.localeCompare(b.taskId))).toEqual([
      { taskId: 'task-1', lane: 'sse' },
      { taskId: 'task-2', lane: 'websocket' },
    ]);
    expect(await store.laneTasksOfRun(RUN, 1)).toHaveLength(1);
  });
});

describe.each(STORE_DRIVERS.filter((driver) => driver.shared))(
  'two instances on one $kind fault store',
  (driver) => {
    const world = useStoreWorld(driver);

    it('see one set of records and tags', async () => {
      const [one, other] = [await world().faults(), await world().faults()];
      await one.tagTask('task-1', RUN, 'sse');
      await one.add(drop('f1', RUN, 5));
      expect(await other.runOfTask('task-1')).toBe(RUN);
      expect((await other.ofRun(RUN)).map((record) => record.id)).toEqual(['f1']);
    });
  },
);
