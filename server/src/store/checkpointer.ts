import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** How often the worker copies the WAL back into the database file, ms. At the hall's load (≈ 4 000
 *  events a second) the WAL then holds a few MB at most between two checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 250;
/**
 * The writer checkpoints by itself again past this many WAL pages (≈ 40 MB at 4 KB pages): the
 * safety net if the worker falls behind or stops. SQLite's own default is 1 000 pages.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

// The worker is plain CommonJS, evaluated: it loads nothing of ours, so it runs the same under tsx,
// vitest or a build.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
// Asked for (a 'caught-up' message) since the last checkpoint: this one starts after the writer's
// commits before the ask, so the next complete one has copied them.
let caughtUpAsked = false;
const timer = setInterval(() => {
  try {
    const asked = caughtUpAsked;
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (result.checkpointed > 0) parentPort.postMessage({ checkpointedPages: result.checkpointed });
    if (asked && result.checkpointed === result.log) {
      caughtUpAsked = false;
      parentPort.postMessage({ caughtUp: true });
    }
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'caught-up') {
    caughtUpAsked = true;
    return;
  }
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Resolves after the worker's next checkpoint that moved pages, with how many it moved. */
  nextCheckpoint(): Promise<number>;
  /** Resolves after a checkpoint that began after this call and found every frame of the WAL copied,
   *  those of the writer's commits before the call included: the WAL starts over at the next commit
   *  (tests that model the time between two retention sweeps). */
  caughtUp(): Promise<void>;
  /** Stops the worker and closes its connection (before the writer's own closes). */
  close(): Promise<void>;
}

/** `checkpointedPages`: how many of the WAL's frames are in the database file now (SQLite's
 *  `wal_checkpoint` counts since the WAL last started over). */
type WorkerMessage = { error: string } | { checkpointedPages: number } | { caughtUp: true };

/**
 * Moves WAL checkpoints off the event loop. With synchronous=NORMAL a commit never waits for the
 * disk, but a checkpoint does: it copies the WAL's pages into the database file and fsyncs both,
 * and SQLite runs it inside whichever commit crosses `wal_autocheckpoint`, on the event loop. The
 * hall profile at 100 phones saw such commits block the loop for up to 144 ms (docs/benchmarks.md).
 * Here a worker thread with its own connection runs a PASSIVE checkpoint (which never blocks the
 * writer) every CHECKPOINT_INTERVAL_MS; durability is unchanged, since what a checkpoint moves was
 * already committed to the WAL.
 */
export function startCheckpointer(
  db: Database.Database,
  onError: (message: string) => void,
  intervalMs = CHECKPOINT_INTERVAL_MS,
  /** The safety net's threshold, pages; fewer when the WAL's share of MAX_DATA_BYTES is smaller
   *  (retention.ts, walSharePages). */
  fallbackPages = FALLBACK_AUTOCHECKPOINT_PAGES,
): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${fallbackPages}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file: db.name,
      intervalMs,
    },
  });
  worker.unref();
  let closing = false;
  const exited = once(worker, 'exit');
  let waiting: Array<(pages: number) => void> = [];
  let waitingForAll: Array<() => void> = [];
  worker.on('message', (message: WorkerMessage) => {
    if ('error' in message) onError(`WAL checkpoint failed: ${message.error}`);
    else if ('caughtUp' in message) for (const resolve of waitingForAll.splice(0)) resolve();
    else for (const resolve of waiting.splice(0)) resolve(message.checkpointedPages);
  });
  worker.on('error', (error) => onError(`WAL checkpoint worker failed: ${error.message}`));
  worker.on('exit', () => {
    // Gone before its time: the writer checkpoints by itself again, as SQLite does by default.
    if (!closing && db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
  });
  return {
    nextCheckpoint() {
      return new Promise((resolve) => waiting.push(resolve));
    },
    caughtUp() {
      const caughtUp = new Promise<void>((resolve) => waitingForAll.push(resolve));
      worker.postMessage('caught-up');
      return caughtUp;
    },
    async close() {
      closing = true;
      waiting = [];
      waitingForAll = [];
      // Held again while it closes: unref'd, a process with nothing else left to do would end before
      // the worker's exit is heard, leaving this promise (and whoever awaits the store's close)
      // unsettled — a script's last lines never ran.
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}
