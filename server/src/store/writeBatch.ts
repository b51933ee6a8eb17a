import type Database from 'better-sqlite3';

/**
 * Group commit: every write queued in one turn of the event loop goes into one SQLite transaction,
 * committed on `setImmediate` (after the turn's timers and I/O callbacks, before the next turn), or,
 * when the last commit was less than MIN_COMMIT_INTERVAL_MS ago, once that interval has passed.
 *
 * Why: a commit costs far more than the rows it writes (the WAL append, its locks and syscalls:
 * ≈ 100–300 µs on the benchmark machine against a few µs per row), and with one transaction per task
 * event it was the largest part of the server's busy time at 100 phones (docs/benchmarks.md, "Server
 * cost per event: profiles"). Under load a turn holds many events, so the commit is shared by them all.
 *
 * Each write's promise settles once its transaction has committed (or failed), so a caller that waits
 * for it still never publishes what a crash could forget. Writes commit in the order they were queued.
 * A batch that fails is tried again write by write, each in its own transaction, so that one bad write
 * (a duplicate seq) fails alone and the others still land.
 *
 * A `chain` (a task id) orders dependent writes: a task hands over its next event before the previous
 * one is committed, and once one write of a chain has failed, its later ones are refused unwritten, so
 * that a task's log never has a gap. A failed chain is remembered for the batch's life (one id per task
 * whose write failed: its run is halted for good).
 */
export interface WriteBatch {
  /** Queues `write` (synchronous statements; it runs inside the batch's transaction). Resolves once
   *  committed; rejects with the write's own error, or at once if its chain has failed before. */
  enqueue(write: () => void, chain?: string): Promise<void>;
  /** Commits what is queued now, at once (before the database closes). */
  flush(): void;
  /** Flushes, then refuses further writes. */
  close(): void;
}

/**
 * A batch is committed at once when it reaches this many writes, without waiting for the end of the
 * turn: under load the timers of one turn emit hundreds of events, and holding them all until the
 * turn's I/O callbacks have run (setImmediate comes after the poll phase) delayed their publication by
 * as long. At 64 writes a commit's own cost is already shared thin (≈ 12 µs a write against ≈ 35 µs
 * for a lone one, measured on the benchmark machine).
 */
export const MAX_BATCH_WRITES = 64;

/**
 * Commits are spaced at least this far apart, ms. A write queued when the last commit is older than
 * this commits at the end of its turn, as before (a lone event on a quiet server waits for nothing);
 * one queued sooner waits for the rest of the interval, so under load a commit carries a few turns'
 * writes, not one turn's. At 200 phones the timers of about eight events fire in every millisecond,
 * each in its own turn: one commit per turn was the largest part of the server's busy time (the hall
 * profile, docs/benchmarks.md). The cost is a delay of at most this long before an event is published,
 * which the delivery lag shows (it counts from the event's `at`, stamped before the write).
 */
export const MIN_COMMIT_INTERVAL_MS = 5;

export interface WriteBatchOptions {
  /** Least time between two commits, ms (MIN_COMMIT_INTERVAL_MS); 0 commits at every turn's end. */
  minCommitIntervalMs?: number;
}

interface Pending {
  write: () => void;
  chain: string | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function createWriteBatch(db: Database.Database, options: WriteBatchOptions = {}): WriteBatch {
  const minInterval = options.minCommitIntervalMs ?? MIN_COMMIT_INTERVAL_MS;
  let queue: Pending[] = [];
  let scheduled = false;
  let lastCommitAt = Number.NEGATIVE_INFINITY; // performance.now(), ms
  let closed = false;
  const failedChains = new Set<string>();

  const runAll = db.transaction((batch: Pending[]) => {
    for (const pending of batch) pending.write();
  });
  const runOne = db.transaction((pending: Pending) => pending.write());

  /** Commits what is queued (an early commit leaves the turn's end to commit the rest). */
  function flush(): void {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    lastCommitAt = performance.now();
    try {
      runAll(batch);
    } catch {
      // better-sqlite3 rolled the whole batch back: each write again on its own, in order.
      for (const pending of batch) {
        if (pending.chain !== undefined && failedChains.has(pending.chain)) {
          pending.reject(new Error(`an earlier write of ${pending.chain} failed`));
          continue;
        }
        try {
          runOne(pending);
          pending.resolve();
        } catch (error) {
          if (pending.chain !== undefined) failedChains.add(pending.chain);
          pending.reject(error);
        }
      }
      return;
    }
    for (const pending of batch) pending.resolve();
  }

  function atTurnEnd(): void {
    scheduled = false;
    flush();
  }

  /** The spaced commit. A timer may fire up to 1 ms before its delay against performance.now()
   *  (libuv counts whole ms from the loop's cached time): the spacing is kept by waiting out the rest. */
  function afterInterval(): void {
    const early = lastCommitAt + minInterval - performance.now();
    if (early > 0 && queue.length > 0) setTimeout(afterInterval, Math.ceil(early));
    else atTurnEnd();
  }

  return {
    enqueue(write, chain) {
      if (closed) return Promise.reject(new Error('the store is closed'));
      if (chain !== undefined && failedChains.has(chain)) {
        return Promise.reject(new Error(`an earlier write of ${chain} failed`));
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ write, chain, resolve, reject });
        if (queue.length >= MAX_BATCH_WRITES) flush();
        else if (!scheduled) {
          scheduled = true;
          const wait = lastCommitAt + minInterval - performance.now();
          if (wait <= 0) setImmediate(atTurnEnd);
          else setTimeout(afterInterval, wait);
        }
      });
    },
    flush,
    close() {
      flush();
      closed = true;
    },
  };
}
