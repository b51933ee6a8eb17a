import { rmSync } from 'node:fs';
import { API_PATHS, SOCKET_EVENTS, type TaskEvent, TaskResponse } from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  EventCollector,
  emitAck,
  killed,
  type LabClient,
  spawnServer,
  streamBreaches,
  tempDataDir,
} from './harness.ts';

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
});
