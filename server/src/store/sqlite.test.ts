import { rmSync } from 'node:fs';
import type { TaskEvent, TaskState } from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { openSqliteStore } from './sqlite.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fresh() {
  const dir = tempDataDir();
  dirs.push(dir);
  return dir;
}

const task = (id: string): TaskState => ({
  id,
  spec: { durationMs: 10, steps: 2 },
  status: 'queued',
  step: 0,
  steps: 2,
  percent: 0,
  lastSeq: 1,
  createdAt: 1,
});
const queued = (id: string): TaskEvent => ({
  type: 'queued',
  taskId: id,
  seq: 1,
  at: 1,
  spec: { durationMs: 10, steps: 2 },
});

describe('the SQLite store', () => {
  it('keeps tasks and their event logs in the file across a reopen', async () => {
    const dir = fresh();
    const first = openSqliteStore(dir);
    await first.createTask(task('task-aaaa'), queued('task-aaaa'));
    await first.appendEvent(
      { type: 'started', taskId: 'task-aaaa', seq: 2, at: 2 },
      { ...task('task-aaaa'), status: 'running', lastSeq: 2 },
    );
    await first.close();

    const second = openSqliteStore(dir);
    expect(await second.getTask('task-aaaa')).toMatchObject({ status: 'running', lastSeq: 2 });
    expect((await second.eventsAfter('task-aaaa', 0)).map((e) => e.seq)).toEqual([1, 2]);
    expect((await second.eventsAfter('task-aaaa', 1)).map((e) => e.type)).toEqual(['started']);
    expect((await second.unfinishedTasks()).map((t) => t.id)).toEqual(['task-aaaa']);
    await second.close();
  });

  it('refuses a second event with the same seq and leaves the task state as it was', async () => {
    const store = openSqliteStore(fresh());
    await store.createTask(task('task-bbbb'), queued('task-bbbb'));
    await expect(
      store.appendEvent(queued('task-bbbb'), { ...task('task-bbbb'), status: 'running' }),
    ).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
    expect(await store.getTask('task-bbbb')).toMatchObject({ status: 'queued' });
    await store.close();
  });

  it('rewrites the state only when the status changes: progress since is in the log', async () => {
    const store = openSqliteStore(fresh());
    const running: TaskState = { ...task('task-eeee'), status: 'running', lastSeq: 2, startedAt: 2 };
    await store.createTask(task('task-eeee'), queued('task-eeee'));
    await store.appendEvent({ type: 'started', taskId: 'task-eeee', seq: 2, at: 2 }, running);
    await store.appendEvent(
      { type: 'progress', taskId: 'task-eeee', seq: 3, at: 3, step: 1, steps: 2, percent: 50 },
      { ...running, step: 1, percent: 50, lastSeq: 3 },
    );
    expect(await store.getTask('task-eeee')).toMatchObject({ status: 'running', step: 0, lastSeq: 2 });
    expect((await store.eventsAfter('task-eeee', 2)).map((e) => e.type)).toEqual(['progress']);
    await store.appendEvent(
      { type: 'cancelled', taskId: 'task-eeee', seq: 4, at: 4 },
      { ...running, status: 'cancelled', step: 1, percent: 50, lastSeq: 4, finishedAt: 4 },
    );
    expect(await store.getTask('task-eeee')).toMatchObject({ status: 'cancelled', step: 1, lastSeq: 4 });
    await store.close();
  });

  it('lists only tasks that have not ended as unfinished', async () => {
    const store = openSqliteStore(fresh());
    await store.createTask(task('task-cccc'), queued('task-cccc'));
    await store.createTask({ ...task('task-dddd'), createdAt: 2 }, queued('task-dddd'));
    await store.appendEvent(
      { type: 'cancelled', taskId: 'task-cccc', seq: 2, at: 3 },
      { ...task('task-cccc'), status: 'cancelled', lastSeq: 2 },
    );
    expect((await store.unfinishedTasks()).map((t) => t.id)).toEqual(['task-dddd']);
    await store.close();
  });
});
