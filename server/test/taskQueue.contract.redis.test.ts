import { rmSync } from 'node:fs';
import { API_PATHS, EventsResponse, isTerminalEvent, type TaskEvent } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { killed, spawnInstance, streamBreaches, tempDataDir } from './harness.ts';
import { createTask } from './httpClients.ts';
import { serversOnOneRedis } from './redisServers.ts';

/**
 * The task queue's contract, on each implementation (issue 14, item 2): a task accepted is held until
 * it ends, whatever happens to the process holding it. `kill -9` of the holder after a few steps; then
 * the task must go on from its last stored step (never from the start, never a step twice) and end
 * once, every seq written once. On SQLite, the holder is the process and its queue its SQLite file: the
 * next start on the same DATA_DIR takes the task up (engine.recover). On Redis, the holder is the
 * instance's BullMQ queue (tasks/leases.ts): another instance takes it over once the lock lapses, with
 * no restart. Real `serve.ts` processes; the Redis run fails, never skips, in CI without Redis.
 */
const STEPS = 10;
const STEP_MS = 150;
const LOCK_MS = 1_000;

interface Holder {
  kind: 'sqlite' | 'redis';
  /** Starts the first holder, kills it, and says where the task goes on. */
  start(): Promise<{ first: string; kill(): Promise<string> }>;
}

describe.each(['sqlite', 'redis'] as const)('the %s task queue', (kind) => {
  const { env, cleanup } = serversOnOneRedis({ redisRequired: kind === 'redis' });

  async function instance(dataDir = tempDataDir()) {
    cleanup(() => rmSync(dataDir, { recursive: true, force: true }));
    const started = spawnInstance(dataDir, {
      ...(kind === 'redis' ? { ...env, TASK_LOCK_MS: String(LOCK_MS) } : {}),
      MAX_EVENT_LOOP_DELAY_MS: '60000',
    });
    cleanup(() => killed(started.child));
    const { baseUrl } = await started.started(1);
    return { child: started.child, baseUrl, dataDir };
  }

  const holder: Holder = {
    kind,
    async start() {
      const first = await instance();
      if (kind === 'sqlite') {
        return {
          first: first.baseUrl,
          async kill() {
            await killed(first.child, 'SIGKILL');
            // The next start on the same file: the process's queue is its SQLite.
            return (await instance(first.dataDir)).baseUrl;
          },
        };
      }
      const second = await instance();
      return {
        first: first.baseUrl,
        async kill() {
          await killed(first.child, 'SIGKILL');
          return second.baseUrl;
        },
      };
    },
  };

  it('goes on with a task from its last stored step when its holder is killed, and ends it once', async () => {
    const { first, kill } = await holder.start();
    const { res, json } = await createTask(first, { spec: { durationMs: STEPS * STEP_MS, steps: STEPS } });
    expect(res.status).toBe(202);
    const id = json.task.id;
    const seen = await eventsUntil(
      first,
      id,
      (events) => events.filter((e) => e.type === 'progress').length >= 3,
    );
    const stepsBeforeKill = seen.filter((e) => e.type === 'progress').length;

    const survivor = await kill();
    const events = await eventsUntil(survivor, id, (all) => all.some(isTerminalEvent));
    // Every seq once, in order; the steps 1..N once each; the end once, last, and a success.
    expect(streamBreaches(events, STEPS)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'succeeded', seq: STEPS + 3 });
    // Went on, not started again: the steps stored before the kill are the same events after it.
    expect(events.slice(0, seen.length)).toEqual(seen);
    expect(stepsBeforeKill).toBeLessThan(STEPS);
  }, 60_000);
});

/** Long-polls a task's log from the start until `done` holds over everything read. */
async function eventsUntil(
  baseUrl: string,
  id: string,
  done: (events: TaskEvent[]) => boolean,
): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  while (!done(events)) {
    const after = events.at(-1)?.seq ?? 0;
    const res = await fetch(`${baseUrl}${API_PATHS.events(id)}?after=${after}&waitMs=5000`);
    expect(res.status).toBe(200);
    events.push(...EventsResponse.parse(await res.json()).events);
  }
  return events;
}
