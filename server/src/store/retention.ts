import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { epochNow } from '../observability/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { CHECKPOINT_INTERVAL_MS, FALLBACK_AUTOCHECKPOINT_PAGES } from './checkpointer.ts';
import { IDEMPOTENCY_TTL_MS } from './idempotency.ts';

/**
 * Storage that lasts (issue 11, item 5): the SQLite file grew by every task, event, delivery, fault
 * and key, and nothing was ever deleted (111 MB after a hall's probe). The sweep deletes
 *
 * - by age: tasks that ended more than RETENTION_HOURS ago with everything of theirs (events, run tag,
 *   webhook subscriber and its secret, deliveries, attempts), fault records and Idempotency-Key
 *   records older than that, and webhook subscribers whose task was never created;
 * - by size: MAX_DATA_BYTES bounds the database file and its WAL together. The WAL has its own share
 *   (walSharePages: past it the writer checkpoints by itself), and is allowed twice that (commits
 *   that land while the worker's checkpoint holds the lock, which the writer's own cannot take
 *   then), or what its file has grown to if more. When the pages in use pass SWEEP_HIGH_WATER of the
 *   rest, the tasks that ended first go, until the pages in use are under SWEEP_LOW_WATER of it;
 *
 * and never a task that has not ended (queued or running), one whose webhook deliveries are still
 * due (pending) or whose subscriber has not had its last event queued, nor, by size, one that ended
 * less than MIN_FINISHED_AGE_MS ago. Freed pages are reused by later writes; when the file itself is
 * past its share (a file of an older release, a lowered bound), `incremental_vacuum` gives free pages
 * back to the file system (the file shrinks at the next complete checkpoint).
 *
 * The WAL file keeps the largest size it reached (SQLite reuses it from the start each time it starts
 * over): `journal_size_limit` would cut it back, but the truncation was measured to block the commit
 * that does it for 40–70 ms (it waits for the pages' writeback). openDatabase empties it at start.
 *
 * It deletes in small transactions, each stopped after SWEEP_BATCH_BUDGET_MS, and yields to the
 * event loop between them, so that requests and task events are never held for long. Every page a
 * delete frees passes through the WAL (SQLite wrote about one frame per freed page, measured), so one
 * sweep frees at most half the WAL's share and leaves the rest to another sweep SWEEP_CATCH_UP_MS
 * later, once the checkpointer has copied those frames: a sweep through a large backlog (the first
 * after an upgrade) would otherwise fill the WAL past its share, where the writer checkpoints on the
 * event loop (≈ 40 ms for 16 MiB) and the WAL file keeps that size.
 */

/** How often the sweep runs (and once at start). At the hall's load (≈ 4 000 events a second, ≈ 1 MB
 *  of file a second) the file grows by ≈ 5 MB between two sweeps: far less than the headroom below. */
export const SWEEP_INTERVAL_MS = 5_000;
/** The next sweep after one that stopped with work left: two of the checkpointer's intervals, so that
 *  it has copied what the last one wrote to the WAL. */
export const SWEEP_CATCH_UP_MS = 2 * CHECKPOINT_INTERVAL_MS;
/** MAX_DATA_BYTES when unset (config.ts), bytes: 256 MiB. */
export const DEFAULT_MAX_DATA_BYTES = 268_435_456;

/** The size bound is enforced past this fraction of the database's share of MAX_DATA_BYTES (the
 *  bound less what is kept for the WAL), leaving the rest for what is written between two sweeps… */
export const SWEEP_HIGH_WATER = 0.9;
/** … down to this one, so that the sweep does not run at every interval under a steady load. */
export const SWEEP_LOW_WATER = 0.8;
/** Where the WAL is checkpointed by the writer itself, as a share of MAX_DATA_BYTES (at most the
 *  checkpointer's usual safety net, ≈ 40 MB); twice this is kept for the WAL. */
export const WAL_SHARE = 1 / 16;
/** A delete transaction stops taking more tasks after this long, ms: the event loop is never held much
 *  longer (one large task, 1 000 events and their deliveries, takes ≈ 1–2 ms). */
export const SWEEP_BATCH_BUDGET_MS = 4;
/** The size bound spares tasks that ended this recently, ms: their page may still be reading them. */
export const MIN_FINISHED_AGE_MS = 60_000;
const CANDIDATES_PER_BATCH = 64;
const ROWS_PER_BATCH = 1_000;
/** Pages one incremental_vacuum transaction gives back (4 MiB at 4 KiB pages: ≈ 5 ms measured). */
const VACUUM_PAGES_PER_BATCH = 1_024;

export interface RetentionSettings {
  retentionMs: number;
  maxDataBytes: number;
}

export interface StorageSize {
  /** The database file and its WAL as they are on disk. */
  diskBytes: number;
  /** Pages in use (the file less its free pages): what the sweep keeps under the database's share. */
  usedBytes: number;
  walBytes: number;
  /** The database as SQLite sees it (the file's size once the WAL is checkpointed). */
  fileBytes: number;
  freePages: number;
  pageSize: number;
}

export interface SweepReport {
  /** Tasks deleted (and everything of theirs) because they ended before RETENTION_HOURS … */
  tasksByAge: number;
  /** … and because the data was over its bound. */
  tasksBySize: number;
  faults: number;
  idempotencyKeys: number;
  orphanSubscribers: number;
  vacuumedPages: number;
  /** Delete or vacuum transactions, and the longest one (what the event loop waited), ms. */
  batches: number;
  longestBatchMs: number;
  before: StorageSize;
  after: StorageSize;
  /** Still past the high-water mark with nothing left it may delete (tasks running, deliveries due). */
  overBound: boolean;
  /** Stopped at its share of the WAL with work perhaps left: the next sweep comes SWEEP_CATCH_UP_MS
   *  later. */
  more: boolean;
  limits: RetentionLimits;
}

/** MAX_DATA_BYTES shared out (see above), bytes, as of a sweep's start. */
export interface RetentionLimits {
  /** Where the writer checkpoints the WAL by itself. */
  walShareBytes: number;
  /** What the WAL is given: twice its share, or the size its file has grown to if larger (a WAL
   *  file keeps its largest size, so that is spent). */
  walAllowanceBytes: number;
  /** MAX_DATA_BYTES less the WAL's allowance: the pages in use, and the file itself, stay under it. */
  databaseShareBytes: number;
  /** The sweep deletes by size when the pages in use pass this… */
  highWaterBytes: number;
  /** … down to this. */
  lowWaterBytes: number;
}

export interface Retention {
  /** The shares as they are now (the WAL's allowance grows with its file). */
  limits(): RetentionLimits;
  /** One sweep now; `now` is the server clock (epoch ms), given by tests. */
  sweep(now?: number): Promise<SweepReport>;
  /** Current sizes, as the sweep measures them. */
  size(): StorageSize;
  /** Stops a sweep in progress between two batches, and the timer; resolves once it has. */
  close(): Promise<void>;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The most the WAL may hold, in pages: the checkpointer's fallback threshold (startCheckpointer's
 * `fallbackPages`). The worker's PASSIVE checkpoints never block the writer, so under a steady load
 * one may rarely find the WAL with nothing newer to copy, and only then does the WAL start over;
 * past this many pages the writer checkpoints by itself, and the WAL starts over at the next commit.
 */
export function walSharePages(maxDataBytes: number, pageSize: number): number {
  return Math.max(
    1,
    Math.min(FALLBACK_AUTOCHECKPOINT_PAGES, Math.floor((maxDataBytes * WAL_SHARE) / pageSize)),
  );
}

/** The retention sweep on an open database (see above); `startRetention` runs it on a timer. */
export function createRetention(db: Database.Database, settings: RetentionSettings): Retention {
  const pragma = (name: string) => db.pragma(name, { simple: true }) as number;
  const walShareBytes = walSharePages(settings.maxDataBytes, pragma('page_size')) * pragma('page_size');
  const limitsFor = (walBytes: number): RetentionLimits => {
    const walAllowanceBytes = Math.max(2 * walShareBytes, walBytes);
    const databaseShareBytes = settings.maxDataBytes - walAllowanceBytes;
    return {
      walShareBytes,
      walAllowanceBytes,
      databaseShareBytes,
      highWaterBytes: databaseShareBytes * SWEEP_HIGH_WATER,
      lowWaterBytes: databaseShareBytes * SWEEP_LOW_WATER,
    };
  };

  const notStillWanted = `
    NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.task_id = t.id AND d.state = 'pending')
    AND NOT EXISTS (SELECT 1 FROM webhook_subscribers s
                     WHERE s.task_id = t.id AND s.ended = 0 AND s.disabled_at IS NULL)`;
  const selectEndedBefore = db.prepare<[number, number], { id: string }>(
    `SELECT id FROM tasks t WHERE finished_at < ? AND ${notStillWanted} ORDER BY finished_at LIMIT ?`,
  );
  const deleteTaskRows = [
    'DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE task_id = ?)',
    'DELETE FROM webhook_deliveries WHERE task_id = ?',
    'DELETE FROM webhook_subscribers WHERE task_id = ?',
    'DELETE FROM task_runs WHERE task_id = ?',
    'DELETE FROM task_events WHERE task_id = ?',
    'DELETE FROM tasks WHERE id = ?',
  ].map((sql) => db.prepare<[string]>(sql));
  const deleteFaults = db.prepare<[number, number]>(
    'DELETE FROM faults WHERE rowid IN (SELECT rowid FROM faults WHERE at < ? LIMIT ?)',
  );
  const deleteKeys = db.prepare<[number, number]>(
    'DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?)',
  );
  // A subscriber is stored before its task (http/createTask.ts): one whose task never came is old
  // enough here to be sure it never will.
  const deleteOrphanSubscribers = db.prepare<[number, number]>(
    `DELETE FROM webhook_subscribers WHERE rowid IN (
       SELECT s.rowid FROM webhook_subscribers s
        WHERE s.created_at < ? AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = s.task_id) LIMIT ?)`,
  );

  /** Deletes tasks from `ids` in order while `more()` says so (it sees this transaction's deletes)
   *  and the batch's time lasts; how many. */
  const deleteTasks = db.transaction((ids: string[], more: () => boolean): number => {
    const started = performance.now();
    let deleted = 0;
    for (const id of ids) {
      if (!more() || performance.now() - started > SWEEP_BATCH_BUDGET_MS) break;
      for (const statement of deleteTaskRows) statement.run(id);
      deleted++;
    }
    return deleted;
  });

  /** Pages in use, in bytes: cheap (two reads of the header), so checked after every task deleted. */
  const usedBytes = () => (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');

  function size(): StorageSize {
    const pageSize = pragma('page_size');
    const pages = pragma('page_count');
    const freePages = pragma('freelist_count');
    const walBytes = statSync(`${db.name}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    return {
      diskBytes: statSync(db.name).size + walBytes,
      usedBytes: (pages - freePages) * pageSize,
      walBytes,
      fileBytes: pages * pageSize,
      freePages,
      pageSize,
    };
  }

  let closing = false;
  let running: Promise<SweepReport> | undefined;
  /** Past the high-water mark and not yet back under the low one: a sweep stopped at its WAL budget
   *  leaves the rest to the next. */
  let draining = false;

  async function sweepOnce(now: number): Promise<SweepReport> {
    const before = size();
    const limits = limitsFor(before.walBytes);
    const report: SweepReport = {
      tasksByAge: 0,
      tasksBySize: 0,
      faults: 0,
      idempotencyKeys: 0,
      orphanSubscribers: 0,
      vacuumedPages: 0,
      batches: 0,
      longestBatchMs: 0,
      before,
      after: before,
      overBound: false,
      more: false,
      limits,
    };
    // What this sweep may send through the WAL: the pages its deletes free and its vacuum moves.
    const walBudget = walShareBytes / 2;
    const spent = () => before.usedBytes - usedBytes() + report.vacuumedPages * before.pageSize;
    const withinBudget = () => spent() < walBudget;
    /** Runs one transaction, timed, then lets the event loop turn. */
    const timed = async <T>(batch: () => T): Promise<T> => {
      const started = performance.now();
      const result = batch();
      report.batches++;
      report.longestBatchMs = Math.max(report.longestBatchMs, performance.now() - started);
      await yieldToLoop();
      return result;
    };
    /** Deletes tasks that ended before `cutoff`, oldest first, while `more()` says so; how many. */
    const deleteEndedBefore = async (cutoff: number, more: () => boolean): Promise<number> => {
      let deleted = 0;
      while (!closing && more()) {
        const ids = selectEndedBefore.all(cutoff, CANDIDATES_PER_BATCH).map((row) => row.id);
        if (ids.length === 0) break;
        deleted += await timed(() => deleteTasks(ids, more));
      }
      return deleted;
    };
    const deleteRows = async (statement: Database.Statement<[number, number]>, cutoff: number) => {
      let deleted = 0;
      for (let changes = ROWS_PER_BATCH; !closing && changes === ROWS_PER_BATCH; deleted += changes) {
        changes = await timed(() => statement.run(cutoff, ROWS_PER_BATCH).changes);
      }
      return deleted;
    };

    // By age.
    const cutoff = now - settings.retentionMs;
    report.tasksByAge = await deleteEndedBefore(cutoff, withinBudget);
    report.faults = await deleteRows(deleteFaults, cutoff);
    // A key is useless past its TTL whatever the retention (the store would not replay it).
    report.idempotencyKeys = await deleteRows(
      deleteKeys,
      now - Math.min(settings.retentionMs, IDEMPOTENCY_TTL_MS),
    );
    report.orphanSubscribers = await deleteRows(deleteOrphanSubscribers, cutoff);

    // By size: the oldest ended tasks, checked after each, until the pages in use are back under the
    // low-water mark.
    if (draining || usedBytes() > limits.highWaterBytes) {
      report.tasksBySize = await deleteEndedBefore(
        now - MIN_FINISHED_AGE_MS,
        () => usedBytes() > limits.lowWaterBytes && withinBudget(),
      );
      // Stopped short of the low-water mark with budget left: nothing more may be deleted now.
      draining = usedBytes() > limits.lowWaterBytes && !withinBudget();
      report.overBound = usedBytes() > limits.highWaterBytes && withinBudget();
    }

    // The file itself past the database's share (an older release's, a lowered bound, a WAL grown
    // past its allowance): free pages go back to the file system until it is under the high-water
    // mark. Not sooner: under a steady load the file stays a little over that mark, its free pages
    // taking the next writes, and giving them back only for the file to grow again would cost a WAL
    // frame per page moved.
    const afterDeletes = size();
    if (afterDeletes.fileBytes > limits.databaseShareBytes) {
      const over = afterDeletes.fileBytes - limits.highWaterBytes;
      const budget = Math.max(0, Math.floor((walBudget - spent()) / afterDeletes.pageSize));
      let pages = Math.min(afterDeletes.freePages, Math.ceil(over / afterDeletes.pageSize), budget);
      while (!closing && pages > 0) {
        const batch = Math.min(pages, VACUUM_PAGES_PER_BATCH);
        await timed(() => db.pragma(`incremental_vacuum(${batch})`));
        report.vacuumedPages += batch;
        pages -= batch;
      }
    }
    report.more = !withinBudget();
    report.after = size();
    return report;
  }

  return {
    limits: () => limitsFor(size().walBytes),
    size,
    sweep(now = epochNow()) {
      if (closing) return Promise.reject(new Error('the retention sweep is closed'));
      // One at a time: a sweep asked for while one runs gets that one's report.
      running ??= sweepOnce(now).finally(() => {
        running = undefined;
      });
      return running;
    },
    async close() {
      closing = true;
      await running?.catch(() => undefined);
    },
  };
}

/**
 * Runs the sweep at start and `intervalMs` after each (SWEEP_CATCH_UP_MS after one that stopped with
 * work left), on an unref'd timer that never keeps the process alive, and
 * logs what it did: a debug line for the routine, info when the size bound deleted tasks younger
 * than the retention, a warning when the bound cannot be kept (and info when it is again).
 */
export function startRetention(
  db: Database.Database,
  settings: RetentionSettings,
  logger: Logger,
  intervalMs = SWEEP_INTERVAL_MS,
): Retention {
  const retention = createRetention(db, settings);
  const log = logger.child({ component: 'retention' });
  let wasOver = false;
  let stopped = false;

  const logReport = (report: SweepReport) => {
    const deleted =
      report.tasksByAge +
      report.tasksBySize +
      report.faults +
      report.idempotencyKeys +
      report.orphanSubscribers;
    if (report.tasksBySize > 0) log.info(report, 'the size bound deleted the oldest finished tasks');
    else if (deleted > 0 || report.vacuumedPages > 0) log.debug(report, 'retention sweep');
    // Stopped with work left: whether it is over the bound is the next sweep's to say.
    if (report.more) return;
    if (report.overBound && !wasOver) {
      log.warn(
        { ...report.after, maxDataBytes: settings.maxDataBytes },
        'the data is over MAX_DATA_BYTES and nothing more may be deleted: tasks not ended or webhook deliveries still due hold it',
      );
    } else if (!report.overBound && wasOver) log.info(report.after, 'the data is under MAX_DATA_BYTES again');
    wasOver = report.overBound;
  };
  let timer: NodeJS.Timeout | undefined;
  const next = (delayMs: number) => {
    if (!stopped) timer = setTimeout(run, delayMs).unref();
  };
  function run(): void {
    retention.sweep().then(
      (report) => {
        // Scheduled before the report is logged: whoever reads the log (a test) finds it set.
        next(report.more ? SWEEP_CATCH_UP_MS : intervalMs);
        logReport(report);
      },
      (error: unknown) => {
        next(intervalMs);
        if (!stopped) log.error({ err: error }, 'retention sweep failed; trying again at the next interval');
      },
    );
  }
  next(0);

  return {
    limits: retention.limits,
    sweep: retention.sweep,
    size: retention.size,
    async close() {
      stopped = true;
      clearTimeout(timer);
      await retention.close();
    },
  };
}
