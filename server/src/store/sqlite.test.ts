import { rmSync } from 'node:fs';
import type { TaskEvent, TaskState } from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { openSqliteDatabase, openSqliteStore, sqliteTaskStore } from './sqlite.ts';
import { createWriteBatch } from './writeBatch.ts';

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
    ).rejects.toThrow(/already has an event with seq 1/);
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

  describe('its event journal', () => {
    const spec = { durationMs: 10, steps: 1_000 };
    const progress = (id: string, step: number): [TaskEvent, TaskState] => [
      { type: 'progress', taskId: id, seq: 1 + step, at: 1 + step, step, steps: 1_000, percent: step / 10 },
      { ...task(id), spec, steps: 1_000, status: 'running', step, percent: step / 10, lastSeq: 1 + step },
    ];
    const end = (id: string, seq: number): [TaskEvent, TaskState] => [
      { type: 'cancelled', taskId: id, seq, at: seq },
      { ...task(id), spec, steps: 1_000, status: 'cancelled', lastSeq: seq, finishedAt: seq },
    ];
    function open(dir: string, journalRows?: number) {
      const db = openSqliteDatabase(dir);
      const batch = createWriteBatch(db, { minCommitIntervalMs: 0 });
      const store = sqliteTaskStore(db, batch, journalRows === undefined ? {} : { journalRows });
      const rows = (sql: string, id?: string) =>
        (id === undefined ? db.prepare(sql).pluck().get() : db.prepare(sql).pluck().get(id)) as number;
      return {
        store,
        journal: (id?: string) =>
          id === undefined
            ? rows('SELECT COUNT(*) FROM event_journal')
            : rows('SELECT COUNT(*) FROM event_journal WHERE task_id = ?', id),
        logged: (id: string) => rows('SELECT COUNT(*) FROM task_events WHERE task_id = ?', id),
        close() {
          batch.close();
          db.close();
        },
      };
    }
    const seqs = async (store: ReturnType<typeof open>['store'], id: string, after = 0) =>
      (await store.eventsAfter(id, after)).map((event) => event.seq);

    it('holds a running task’s events in the journal and moves its whole log to task_events in its last commit', async () => {
      const db = open(fresh());
      await db.store.createTask(
        { ...task('task-aaaa'), spec, steps: 1_000 },
        { type: 'queued', taskId: 'task-aaaa', seq: 1, at: 1, spec },
      );
      await Promise.all([1, 2, 3].map((step) => db.store.appendEvent(...progress('task-aaaa', step))));
      expect([db.journal('task-aaaa'), db.logged('task-aaaa')]).toEqual([4, 0]);
      expect(await seqs(db.store, 'task-aaaa', 1)).toEqual([2, 3, 4]);
      await db.store.appendEvent(...end('task-aaaa', 5));
      expect(db.logged('task-aaaa')).toBe(5);
      expect(await seqs(db.store, 'task-aaaa')).toEqual([1, 2, 3, 4, 5]);
      db.close();
    });

    it('deletes the journal’s rows of ended tasks, and moves a long task’s early, within its bound in rows', async () => {
      const journalRows = 300;
      const db = open(fresh(), journalRows);
      const long = 'task-long';
      await db.store.createTask(
        { ...task(long), spec, steps: 1_000 },
        { type: 'queued', taskId: long, seq: 1, at: 1, spec },
      );
      let step = 0;
      let largest = 0;
      // 50 short tasks of 20 events each, while the long one makes a step with every event of theirs.
      for (let n = 0; n < 50; n++) {
        const id = `task-short-${n}`;
        await db.store.createTask(task(id), queued(id));
        for (let seq = 2; seq <= 20; seq++) {
          step += 1;
          await Promise.all([
            db.store.appendEvent(...progress(long, step)),
            seq < 20 ? db.store.appendEvent(...progress(id, seq - 1)) : db.store.appendEvent(...end(id, seq)),
          ]);
          largest = Math.max(largest, db.journal());
        }
        expect(db.logged(id)).toBe(20);
      }
      // 1 950 events were journalled: no more than the bound and one compaction's worth stay.
      expect(largest).toBeLessThanOrEqual(journalRows + 2 * 256);
      expect(db.logged(long)).toBeGreaterThan(0); // moved early, while it runs
      expect(await seqs(db.store, long)).toEqual(Array.from({ length: step + 1 }, (_, i) => i + 1));
      await db.store.appendEvent(...end(long, step + 2));
      expect(db.logged(long)).toBe(step + 2);
      db.close();
    });

    it('is folded into task_events when the store opens again: a restart reads every event there', async () => {
      const dir = fresh();
      const first = open(dir);
      await first.store.createTask(task('task-bbbb'), queued('task-bbbb'));
      await first.store.appendEvent(...progress('task-bbbb', 1));
      first.close();
      const second = open(dir);
      expect([second.journal(), second.logged('task-bbbb')]).toEqual([0, 2]);
      expect(await seqs(second.store, 'task-bbbb')).toEqual([1, 2]);
      await second.store.appendEvent(...progress('task-bbbb', 2));
      await expect(second.store.appendEvent(...progress('task-bbbb', 1))).rejects.toThrow(/seq 2/);
      expect(await seqs(second.store, 'task-bbbb')).toEqual([1, 2, 3]);
      second.close();
    });
  });
});
