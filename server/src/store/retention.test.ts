import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { TaskEvent, TaskState } from '@transport-lab/shared';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDataDir } from '../../test/harness.ts';
import { createLogger } from '../observability/logger.ts';
import { startCheckpointer } from './checkpointer.ts';
import {
  createRetention,
  MIN_FINISHED_AGE_MS,
  type Retention,
  SWEEP_CATCH_UP_MS,
  type SweepReport,
  startRetention,
  walSharePages,
} from './retention.ts';
import { journalRowsFor, openDatabase, sqliteTaskStore } from './sqlite.ts';
import { sqliteDeliveryStore } from './sqliteDeliveries.ts';
import { sqliteFaultStore } from './sqliteFaults.ts';
import { sqliteIdempotencyStore } from './sqliteIdempotency.ts';
import type { TaskStore } from './types.ts';
import { createWriteBatch, type WriteBatch } from './writeBatch.ts';

const HOUR_MS = 3_600_000;
/** A fixed server clock for the tests: 2026-12-05T12:00:00Z. */
const NOW = Date.UTC(2026, 11, 5, 12);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Opened {
  db: Database.Database;
  batch: WriteBatch;
  tasks: TaskStore;
}

function open(maxDataBytes?: number): Opened {
  const dir = tempDataDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { db } = openDatabase(dir);
  // Commits at every turn's end: two tests fake setTimeout for the sweep's schedule, and a commit
  // spaced by a (fake) timer would never land (the spacing is writeBatch.test.ts's).
  const batch = createWriteBatch(db, { minCommitIntervalMs: 0 });
  cleanups.push(() => {
    batch.close();
    db.close();
  });
  // The journal's bound follows MAX_DATA_BYTES, as openStores sets it.
  const journalRows = maxDataBytes === undefined ? undefined : journalRowsFor(maxDataBytes);
  return { db, batch, tasks: sqliteTaskStore(db, batch, journalRows === undefined ? {} : { journalRows }) };
}

/**
 * Writes a task through the store as the engine would: queued at `createdAt`, started, `steps`
 * progress events, and unless `endedAt` is undefined its end then, with a result of `resultBytes`.
 */
async function writeTask(
  tasks: TaskStore,
  id: string,
  {
    createdAt,
    endedAt,
    steps = 3,
    resultBytes = 16,
  }: {
    createdAt: number;
    endedAt?: number;
    steps?: number;
    resultBytes?: number;
  },
): Promise<void> {
  const spec = { durationMs: 1_000, steps };
  let state: TaskState = { id, spec, status: 'queued', step: 0, steps, percent: 0, lastSeq: 1, createdAt };
  await tasks.createTask(state, { type: 'queued', taskId: id, seq: 1, at: createdAt, spec });
  const writes: Array<Promise<void>> = [];
  const append = (event: TaskEvent, next: TaskState) => {
    state = next;
    writes.push(tasks.appendEvent(event, next));
  };
  append({ type: 'started', taskId: id, seq: 2, at: createdAt }, { ...state, status: 'running', lastSeq: 2 });
  for (let step = 1; step <= steps; step++) {
    const percent = (step / steps) * 100;
    append(
      { type: 'progress', taskId: id, seq: 2 + step, at: createdAt, step, steps, percent },
      { ...state, step, percent, lastSeq: 2 + step },
    );
  }
  if (endedAt !== undefined) {
    const result = { steps, payload: 'r'.repeat(resultBytes) };
    const seq = steps + 3;
    append(
      { type: 'succeeded', taskId: id, seq, at: endedAt, result },
      { ...state, status: 'succeeded', lastSeq: seq, finishedAt: endedAt, result },
    );
  }
  await Promise.all(writes);
}

const count = (db: Database.Database, sql: string, ...params: unknown[]) =>
  (db
    .prepare(sql)
    .pluck()
    .get(...params) as number) ?? 0;

/** Every row anywhere that belongs to the task. */
function rowsOf(db: Database.Database, id: string) {
  return {
    tasks: count(db, 'SELECT COUNT(*) FROM tasks WHERE id = ?', id),
    // Its log: in task_events once it ended, in the journal while it runs (sqlite.ts). The rows an
    // ended task left in the journal are copies, the journal's compaction's to delete (sqlite.test.ts).
    events: count(
      db,
      `SELECT COUNT(*) FROM (SELECT seq FROM task_events WHERE task_id = ?
         UNION SELECT seq FROM event_journal WHERE task_id = ?
           AND EXISTS (SELECT 1 FROM tasks WHERE id = task_id AND finished_at IS NULL))`,
      id,
      id,
    ),
    runs: count(db, 'SELECT COUNT(*) FROM task_runs WHERE task_id = ?', id),
    subscribers: count(db, 'SELECT COUNT(*) FROM webhook_subscribers WHERE task_id = ?', id),
    deliveries: count(db, 'SELECT COUNT(*) FROM webhook_deliveries WHERE task_id = ?', id),
    attempts: count(
      db,
      'SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE task_id = ?)',
      id,
    ),
  };
}
const none = { tasks: 0, events: 0, runs: 0, subscribers: 0, deliveries: 0, attempts: 0 };

/** A webhook subscriber for the task and one delivery per seq in `seqs`, the first attempted. */
function subscribe(
  db: Database.Database,
  id: string,
  createdAt: number,
  seqs: number[],
  state: 'delivered' | 'pending',
) {
  const deliveries = sqliteDeliveryStore(db);
  deliveries.insertSubscriber({
    taskId: id,
    url: 'http://127.0.0.1:1/webhooks',
    secret: 'whsec_x',
    builtin: true,
    createdAt,
  });
  for (const seq of seqs) {
    const deliveryId = `msg_${id}_${seq}`;
    deliveries.enqueue({
      id: deliveryId,
      taskId: id,
      eventSeq: seq,
      eventType: 'progress',
      body: '{}',
      createdAt,
      terminal: seq === seqs.at(-1),
    });
    deliveries.recordAttempt({
      deliveryId,
      attempt: {
        attempt: 1,
        startedAt: createdAt,
        durationMs: 1,
        outcome: state === 'delivered' ? 'delivered' : 'retry',
      },
      state,
      ...(state === 'pending' ? { nextAttemptAt: NOW + HOUR_MS } : {}),
    });
  }
}

/**
 * Sweeps until one stops with no work left (each frees at most half the WAL's share), as the timer
 * does, the checkpointer's turn between two (here the test's own checkpoint, on this connection):
 * the last report, with the tasks deleted by all of them and the first one's sizes and limits.
 */
async function sweepUntilDone(db: Database.Database, retention: Retention, now = NOW): Promise<SweepReport> {
  const first = await retention.sweep(now);
  let last = first;
  let { tasksByAge, tasksBySize } = first;
  while (last.more) {
    db.pragma('wal_checkpoint(PASSIVE)');
    last = await retention.sweep(now);
    tasksByAge += last.tasksByAge;
    tasksBySize += last.tasksBySize;
  }
  return { ...last, tasksByAge, tasksBySize, before: first.before, limits: first.limits };
}

describe('the retention sweep, by age', () => {
  it('deletes tasks that ended before RETENTION_HOURS with every row of theirs, and keeps tasks not ended, ended since, or with deliveries due', async () => {
    const { db, batch, tasks } = open();
    const faults = sqliteFaultStore(db, batch);
    const day = 24 * HOUR_MS;
    await writeTask(tasks, 'task-old-done', { createdAt: NOW - 2 * day, endedAt: NOW - 2 * day + 5_000 });
    await faults.tagTask('task-old-done', 'run_aaaaaaaa', 'webhook');
    subscribe(db, 'task-old-done', NOW - 2 * day, [1, 2, 3, 4, 5, 6], 'delivered');
    // Queued two days ago and still going (a resumed task): never deleted, whatever its age.
    await writeTask(tasks, 'task-old-running', { createdAt: NOW - 2 * day });
    // Ended long ago, but a delivery is still due: kept until it is delivered or given up.
    await writeTask(tasks, 'task-old-due', { createdAt: NOW - 2 * day, endedAt: NOW - 2 * day + 5_000 });
    subscribe(db, 'task-old-due', NOW - 2 * day, [5, 6], 'pending');
    // Created before the cutoff, ended after it: its age is its end's.
    await writeTask(tasks, 'task-long-ago-ended-lately', {
      createdAt: NOW - 2 * day,
      endedAt: NOW - HOUR_MS,
    });
    await writeTask(tasks, 'task-recent', { createdAt: NOW - HOUR_MS, endedAt: NOW - HOUR_MS + 5_000 });

    const fault = (id: string, at: number) => ({
      id,
      fault: { kind: 'drop-connections' as const, runId: 'run_aaaaaaaa', lane: 'sse' as const },
      at,
      affected: 0,
      summary: 'Dropped 0 connections',
    });
    await faults.add(fault('fault-old', NOW - 2 * day));
    await faults.add(fault('fault-new', NOW - HOUR_MS));
    // A claim is written with the turn's batch: flushed here, as the turn's end would.
    const keysAt = (at: number) => sqliteIdempotencyStore(db, batch, () => at);
    await keysAt(NOW - 2 * day).claim('run_aaaaaaaa', 'key-old', 'f');
    await keysAt(NOW - HOUR_MS).claim('run_aaaaaaaa', 'key-new', 'f');
    batch.flush();
    // Subscribers whose task never came (its creation failed after the subscribe).
    const deliveries = sqliteDeliveryStore(db);
    const orphan = (taskId: string, createdAt: number) =>
      deliveries.insertSubscriber({
        taskId,
        url: 'http://127.0.0.1:1/',
        secret: 'whsec_o',
        builtin: true,
        createdAt,
      });
    orphan('task-never-old', NOW - 2 * day);
    orphan('task-never-new', NOW - HOUR_MS);

    const retention = createRetention(db, { retentionMs: day, maxDataBytes: 256 * 1_048_576 });
    cleanups.push(() => retention.close());
    const report = await retention.sweep(NOW);

    expect(rowsOf(db, 'task-old-done')).toEqual(none);
    expect(rowsOf(db, 'task-old-running')).toEqual({ ...none, tasks: 1, events: 5 });
    expect(rowsOf(db, 'task-old-due')).toEqual({
      ...none,
      tasks: 1,
      events: 6,
      subscribers: 1,
      deliveries: 2,
      attempts: 2,
    });
    expect(rowsOf(db, 'task-long-ago-ended-lately').tasks).toBe(1);
    expect(rowsOf(db, 'task-recent').tasks).toBe(1);
    expect(db.prepare('SELECT id FROM faults').pluck().all()).toEqual(['fault-new']);
    expect(count(db, 'SELECT COUNT(*) FROM idempotency_keys')).toBe(1);
    expect(await keysAt(NOW - HOUR_MS + 1_000).claim('run_aaaaaaaa', 'key-new', 'other')).toEqual({
      kind: 'mismatch',
    });
    expect(db.prepare('SELECT task_id FROM webhook_subscribers ORDER BY task_id').pluck().all()).toEqual([
      'task-never-new',
      'task-old-due',
    ]);
    expect(report).toMatchObject({
      tasksByAge: 1,
      tasksBySize: 0,
      faults: 1,
      idempotencyKeys: 1,
      orphanSubscribers: 1,
    });
    // The store still reads what is left, and lists the task that runs as unfinished.
    expect((await tasks.unfinishedTasks()).map((task) => task.id)).toEqual(['task-old-running']);
    expect(await tasks.getTask('task-old-done')).toBeUndefined();
  });

  it('keeps Idempotency-Keys no longer than their 24 h, even with a longer retention', async () => {
    const { db, batch } = open();
    const claimAt = (at: number, key: string) =>
      sqliteIdempotencyStore(db, batch, () => at).claim('scope', key, 'f');
    await claimAt(NOW - 25 * HOUR_MS, 'key-25h');
    await claimAt(NOW - 23 * HOUR_MS, 'key-23h');
    batch.flush();
    const retention = createRetention(db, { retentionMs: 7 * 24 * HOUR_MS, maxDataBytes: 256 * 1_048_576 });
    cleanups.push(() => retention.close());
    expect((await retention.sweep(NOW)).idempotencyKeys).toBe(1);
    expect(count(db, 'SELECT COUNT(*) FROM idempotency_keys')).toBe(1);
  });
});

describe('the retention sweep, by size', () => {
  it('past the high-water mark deletes the tasks that ended first, down to the low-water mark, sparing unfinished ones, deliveries due and the last minute', async () => {
    const { db, tasks } = open();
    // Sixty ended tasks of ≈ 20 KB each (a 16 KiB result, in the state and the last event), one a
    // minute up to 2 minutes ago; two that ended just now; one running since the start; one with a
    // delivery due. All well within RETENTION_HOURS: only the size bound can delete them.
    const ended = Array.from({ length: 60 }, (_, n) => `task-ended-${String(n).padStart(2, '0')}`);
    for (const [n, id] of ended.entries()) {
      const endedAt = NOW - (62 - n) * 60_000;
      await writeTask(tasks, id, { createdAt: endedAt - 1_000, endedAt, resultBytes: 16_384 });
    }
    await writeTask(tasks, 'task-running', { createdAt: NOW - 70 * 60_000, resultBytes: 16_384 });
    await writeTask(tasks, 'task-due', {
      createdAt: NOW - 70 * 60_000,
      endedAt: NOW - 69 * 60_000,
      resultBytes: 16_384,
    });
    subscribe(db, 'task-due', NOW - 70 * 60_000, [6], 'pending');
    for (const id of ['task-just-now-1', 'task-just-now-2']) {
      await writeTask(tasks, id, { createdAt: NOW - 2_000, endedAt: NOW - 1_000, resultBytes: 16_384 });
    }

    // A bound that the used pages pass by a fifth of its high-water mark (the WAL emptied first, so
    // that the figures are the tables' alone).
    db.pragma('wal_checkpoint(TRUNCATE)');
    const probeBytes = 16 * 1_048_576;
    const probe = createRetention(db, { retentionMs: 24 * HOUR_MS, maxDataBytes: probeBytes });
    const before = probe.size();
    await probe.close();
    const maxDataBytes = Math.floor(before.usedBytes / ((1.2 * probe.limits().highWaterBytes) / probeBytes));
    const retention = createRetention(db, { retentionMs: 24 * HOUR_MS, maxDataBytes });
    expect(before.usedBytes / retention.limits().highWaterBytes).toBeCloseTo(1.2);
    cleanups.push(() => retention.close());
    const report = await sweepUntilDone(db, retention);

    const left = db.prepare('SELECT id FROM tasks ORDER BY finished_at').pluck().all() as string[];
    const deleted = ended.filter((id) => !left.includes(id));
    // The oldest first, a contiguous run of them, and not all: the bound asked for about a third.
    expect(deleted).toEqual(ended.slice(0, deleted.length));
    expect(deleted.length).toBeGreaterThan(10);
    expect(deleted.length).toBeLessThan(40);
    expect(left).toEqual(
      expect.arrayContaining(['task-running', 'task-due', 'task-just-now-1', 'task-just-now-2']),
    );
    expect(report).toMatchObject({ tasksByAge: 0, tasksBySize: deleted.length, overBound: false });
    expect(report.after.usedBytes).toBeLessThanOrEqual(report.limits.lowWaterBytes);
  });

  it('counts a WAL file grown past its allowance against the database: a WAL file keeps its size', async () => {
    const { db, tasks } = open();
    const maxDataBytes = 2 * 1_048_576;
    for (let n = 0; n < 60; n++) {
      await writeTask(tasks, `task-${n}`, {
        createdAt: NOW - HOUR_MS,
        endedAt: NOW - HOUR_MS,
        resultBytes: 8_192,
      });
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    // A burst that grew the WAL to ≈ 1 MB, gone since and checkpointed: the WAL file keeps its size.
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE burst (x)');
    db.exec('INSERT INTO burst VALUES (zeroblob(1000000))');
    db.exec('DROP TABLE burst');
    db.pragma('wal_checkpoint(PASSIVE)');
    const retention = createRetention(db, { retentionMs: 24 * HOUR_MS, maxDataBytes });
    cleanups.push(() => retention.close());
    // Against twice the WAL's share alone, the pages in use would be under the mark.
    const { walShareBytes } = retention.limits();
    expect(retention.size().usedBytes).toBeLessThan((maxDataBytes - 2 * walShareBytes) * 0.9);

    const report = await sweepUntilDone(db, retention);
    expect(report.before.walBytes).toBeGreaterThan(1_000_000);
    expect(report.limits.walAllowanceBytes).toBe(report.before.walBytes);
    expect(report.tasksBySize).toBeGreaterThan(0);
    expect(report.after.usedBytes).toBeLessThanOrEqual(report.limits.lowWaterBytes);
  });

  it('says so when nothing more may be deleted, and deletes no task that has not ended', async () => {
    const { db, tasks } = open();
    await writeTask(tasks, 'task-ended-now', {
      createdAt: NOW - 2_000,
      endedAt: NOW - MIN_FINISHED_AGE_MS / 2,
    });
    const retention = createRetention(db, { retentionMs: 24 * HOUR_MS, maxDataBytes: 1_048_576 });
    cleanups.push(() => retention.close());
    // Running tasks past the whole bound: nothing the sweep may delete holds any of it.
    for (let n = 0; retention.size().usedBytes < 1_048_576; n++) {
      await writeTask(tasks, `task-running-${n}`, { createdAt: NOW - HOUR_MS, steps: 200 });
    }
    const running = count(db, "SELECT COUNT(*) FROM tasks WHERE status = 'running'");
    const report = await retention.sweep(NOW);
    expect(report.overBound).toBe(true);
    expect(report.tasksBySize).toBe(0);
    expect(count(db, "SELECT COUNT(*) FROM tasks WHERE status = 'running'")).toBe(running);
    expect(rowsOf(db, 'task-ended-now').tasks).toBe(1);
  });
});

describe('the retention sweep on its timer', () => {
  /** A logger at debug level whose lines the test awaits by message. */
  function logLines() {
    const waiting: Array<{ msg: string; resolve: (line: Record<string, unknown>) => void }> = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        const line = JSON.parse(String(chunk)) as Record<string, unknown>;
        const index = waiting.findIndex((w) => w.msg === line.msg);
        if (index >= 0) waiting.splice(index, 1)[0]?.resolve(line);
        done();
      },
    });
    return {
      logger: createLogger('debug', destination),
      next: (msg: string) =>
        new Promise<Record<string, unknown>>((resolve) => waiting.push({ msg, resolve })),
    };
  }

  it('sweeps once at start, then every interval, and stops at close', async () => {
    // Only the timers are fake: the sweep yields to the event loop with the real setImmediate.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { db, tasks } = open();
    const longAgo = Date.now() - 48 * HOUR_MS;
    await writeTask(tasks, 'task-first', { createdAt: longAgo, endedAt: longAgo });
    const lines = logLines();
    const retention = startRetention(
      db,
      { retentionMs: 24 * HOUR_MS, maxDataBytes: 256 * 1_048_576 },
      lines.logger,
      1_000,
    );
    cleanups.push(() => retention.close());

    const first = lines.next('retention sweep');
    await vi.advanceTimersByTimeAsync(0);
    expect(await first).toMatchObject({ component: 'retention', tasksByAge: 1 });

    await writeTask(tasks, 'task-second', { createdAt: longAgo, endedAt: longAgo });
    const second = lines.next('retention sweep');
    // A sweep's first batch runs at once when its timer fires: had it fired, the task would be gone.
    await vi.advanceTimersByTimeAsync(999);
    expect(rowsOf(db, 'task-second').tasks).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await second).toMatchObject({ tasksByAge: 1 });

    await retention.close();
    await writeTask(tasks, 'task-third', { createdAt: longAgo, endedAt: longAgo });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(rowsOf(db, 'task-third').tasks).toBe(1);
  });

  it('sweeps again SWEEP_CATCH_UP_MS after a sweep that stopped at its share of the WAL', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { db, tasks } = open();
    const longAgo = Date.now() - 48 * HOUR_MS;
    // A 1 MiB bound: a sweep may free 32 KiB (half the WAL's 64 KiB share); each task holds more.
    for (const id of ['task-1', 'task-2', 'task-3']) {
      await writeTask(tasks, id, { createdAt: longAgo, endedAt: longAgo, resultBytes: 16_384 });
    }
    const lines = logLines();
    const retention = startRetention(
      db,
      { retentionMs: 24 * HOUR_MS, maxDataBytes: 1_048_576 },
      lines.logger,
      60_000,
    );
    cleanups.push(() => retention.close());
    const left = () => db.prepare('SELECT COUNT(*) FROM tasks').pluck().get();

    const first = lines.next('retention sweep');
    await vi.advanceTimersByTimeAsync(0);
    expect(await first).toMatchObject({ tasksByAge: 1, more: true });
    expect(left()).toBe(2);
    const second = lines.next('retention sweep');
    await vi.advanceTimersByTimeAsync(SWEEP_CATCH_UP_MS - 1);
    expect(left()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await second).toMatchObject({ tasksByAge: 1, more: true });
    expect(left()).toBe(1);
  });
});

describe('the size bound through a soak of tasks', () => {
  it('keeps the database file and its WAL under MAX_DATA_BYTES while ten times as much is written, with the checkpointer running', async () => {
    const maxDataBytes = 4 * 1_048_576;
    const { db, tasks } = open(maxDataBytes);
    // As openStores wires them, but checkpointing every 10 ms (not 250) so that the rounds below
    // need not wait long for the checkpointer to catch up.
    const walPages = walSharePages(maxDataBytes, db.pragma('page_size', { simple: true }) as number);
    const checkpointer = startCheckpointer(db, (message) => expect.fail(message), 10, walPages);
    cleanups.push(() => checkpointer.close());
    const retention = createRetention(db, { retentionMs: 24 * HOUR_MS, maxDataBytes });
    cleanups.push(() => retention.close());

    // What the sweep must never take: tasks still running, a delivery still due.
    for (const id of ['task-running-1', 'task-running-2', 'task-running-3']) {
      await writeTask(tasks, id, { createdAt: NOW, steps: 50 });
    }
    await writeTask(tasks, 'task-due', { createdAt: NOW, endedAt: NOW });
    subscribe(db, 'task-due', NOW, [6], 'pending');

    // Each round is one sweep interval (5 s of server time): 8 tasks of 20 steps and a 4 KiB result
    // (≈ 12 KB of file each, ≈ 100 KB a round), then the sweep. In 5 s the worker checkpoints twenty
    // times: a round waits until it has copied the whole WAL once (the writes here come far faster
    // than a hall's, and its fsyncs compete for 2 cores), and so does a catch-up sweep (a sweep frees
    // at most half the WAL's share, 128 KiB here). 400 rounds write ≈ 40 MB, ten times the bound.
    const rounds = 400;
    const perRound = 8;
    let largestDisk = 0;
    let largestWal = 0;
    let longestBatchMs = 0;
    let deleted = 0;
    let written = 0;
    const sample = () => {
      const size = retention.size();
      largestDisk = Math.max(largestDisk, size.diskBytes);
      largestWal = Math.max(largestWal, size.walBytes);
      expect(size.diskBytes).toBeLessThanOrEqual(maxDataBytes);
    };
    for (let round = 0; round < rounds; round++) {
      const now = NOW + (round + 1) * 5_000;
      await Promise.all(
        Array.from({ length: perRound }, (_, n) =>
          writeTask(tasks, `task-${round}-${n}`, {
            createdAt: now - 2_000,
            endedAt: now,
            steps: 20,
            resultBytes: 4_096,
          }),
        ),
      );
      written += perRound;
      await checkpointer.caughtUp();
      sample();
      // The sweep, and its catch-up sweeps once the checkpointer has copied what each wrote.
      for (let more = true; more; ) {
        const report = await retention.sweep(now);
        deleted += report.tasksBySize + report.tasksByAge;
        longestBatchMs = Math.max(longestBatchMs, report.longestBatchMs);
        sample();
        more = report.more;
        if (more) await checkpointer.caughtUp();
      }
    }

    expect(deleted).toBeGreaterThan(written * 0.8);
    for (const id of ['task-running-1', 'task-running-2', 'task-running-3', 'task-due']) {
      expect(rowsOf(db, id).tasks).toBe(1);
    }
    // The newest tasks are the ones kept.
    expect(rowsOf(db, `task-${rounds - 1}-0`).tasks).toBe(1);
    console.info(
      `soak: ${written} tasks written, ${deleted} deleted; largest file + WAL ${largestDisk} B ` +
        `(bound ${maxDataBytes}), largest WAL ${largestWal} B, longest sweep transaction ${longestBatchMs.toFixed(2)} ms`,
    );
  });
});
