import { rmSync } from 'node:fs';
import {
  API_PATHS,
  queueTimeMs,
  SOCKET_EVENTS,
  type TaskEvent,
  TaskResponse,
  type TaskState,
} from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  EventCollector,
  emitAck,
  killed,
  type LabClient,
  spawnServer,
  spawnSupervisor,
  streamBreaches,
  tempDataDir,
} from './harness.ts';
import { createTask } from './httpClients.ts';

/**
 * The documented choice: a task that was running when the server stopped, however it stopped,
 * resumes from its last stored step at the next start; its seq goes on where it left off.
 */
describe('a server restart mid-task', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'after %s, resumes the task from its last step and a re-subscribing client sees every event once',
    async (signal) => {
      const dataDir = tempDataDir();
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

      const first = await spawnServer(dataDir);
      cleanups.push(() => killed(first.child));
      const before: LabClient = await connectClient(first.baseUrl);
      cleanups.push(() => void before.disconnect());
      const seenBefore = new EventCollector(before);
      const ack = await emitAck(before, SOCKET_EVENTS.start, { durationMs: 1_500, steps: 15 });
      if (!ack.ok) throw new Error(ack.error.message);
      const id = ack.task.id;
      await seenBefore.until(id, (events) => events.filter((e) => e.type === 'progress').length >= 3);
      await killed(first.child, signal);
      before.disconnect();
      const lastSeen = seenBefore.events(id).at(-1)?.seq ?? 0;

      const second = await spawnServer(dataDir);
      cleanups.push(() => killed(second.child));
      const after = await connectClient(second.baseUrl);
      cleanups.push(() => void after.disconnect());
      const seenAfter = new EventCollector(after);
      const sub = await emitAck(after, SOCKET_EVENTS.subscribe, { taskId: id, afterSeq: lastSeen });
      if (!sub.ok) throw new Error(sub.error.message);
      const terminal = sub.events.some((e) => e.type === 'succeeded')
        ? sub.events
        : await seenAfter.terminal(id);

      const merged = new Map<number, TaskEvent>();
      for (const event of [...seenBefore.events(id), ...sub.events, ...terminal])
        merged.set(event.seq, event);
      const events = [...merged.values()].sort((a, b) => a.seq - b.seq);
      expect(streamBreaches(events, 15)).toEqual([]);
      expect(events.at(-1)?.type).toBe('succeeded');

      const res = await fetch(`${second.baseUrl}${API_PATHS.task(id)}`);
      const { task } = TaskResponse.parse(await res.json());
      expect(task).toMatchObject({ status: 'succeeded', step: 15, lastSeq: 15 + 3 });
    },
  );

  it('runs the tasks still queued at a SIGTERM after the restart, in the order they were accepted, their queue time spanning it', async () => {
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    // One worker: the first task runs through the restart, the next two wait for it.
    const env = { WORKERS: '1', MAX_EVENT_LOOP_DELAY_MS: '60000' };
    const first = spawnSupervisor(dataDir, env);
    cleanups.push(() => killed(first.child));
    const { baseUrl } = await first.started(1);
    const spec = { durationMs: 1_500, steps: 3 };
    const accepted: TaskState[] = [];
    for (let i = 0; i < 3; i++) accepted.push((await createTask(baseUrl, { spec })).json.task);
    expect(accepted.map((task) => task.queuePosition)).toEqual([undefined, 1, 2]);
    await killed(first.child, 'SIGTERM');
    // Wall clock, as the server's epoch times are (`performance.timeOrigin + now`).
    const stoppedAt = Date.now();

    const second = spawnSupervisor(dataDir, env);
    cleanups.push(() => killed(second.child));
    const after = await connectClient((await second.started(1)).baseUrl);
    cleanups.push(() => void after.disconnect());
    const seen = new EventCollector(after);
    for (const task of accepted) {
      const sub = await emitAck(after, SOCKET_EVENTS.subscribe, { taskId: task.id, afterSeq: 0 });
      if (!sub.ok) throw new Error(sub.error.message);
      if (!sub.events.some((e) => e.type === 'succeeded')) await seen.terminal(task.id);
    }
    const ended = await Promise.all(
      accepted.map(async (task) => {
        const res = await fetch(`${(await second.started(1)).baseUrl}${API_PATHS.task(task.id)}`);
        return TaskResponse.parse(await res.json()).task;
      }),
    );
    const [running, next, last] = ended as [TaskState, TaskState, TaskState];
    for (const task of ended) expect(task.status).toBe('succeeded');
    // First in, first out through the restart: each queued task started once the one ahead had ended.
    expect(next.startedAt).toBeGreaterThanOrEqual(running.finishedAt ?? Number.POSITIVE_INFINITY);
    expect(last.startedAt).toBeGreaterThanOrEqual(next.finishedAt ?? Number.POSITIVE_INFINITY);
    // Accepted before the restart (their createdAt kept), started after the first task had resumed and
    // ended: their queue time spans the restart.
    expect(ended.map((task) => task.createdAt)).toEqual(accepted.map((task) => task.createdAt));
    expect(queueTimeMs(next)).toBe((next.startedAt ?? 0) - next.createdAt);
    expect(next.startedAt).toBeGreaterThan(stoppedAt);
  });
});
