// Should the embedded store stay on better-sqlite3 or move to Node's built-in node:sqlite (no native
// build at install)? This measures both on the store's own write pattern (writeBatch.ts): ≈ 200-byte
// JSON task events inserted into a WITHOUT ROWID table keyed (task_id, seq), in WAL mode with
// synchronous=NORMAL, 1, 4, 16 or 64 rows per transaction, with SQLite's automatic checkpoint off as
// the server has it (checkpointer.ts runs it on a worker thread, so no commit on the event loop pays
// for it; here it runs between measurements, outside the timing).
//
// Plain JavaScript, so that it runs on any Node without tsx: `node server/bench/sqliteDrivers.mjs`, on
// the Node whose better-sqlite3 build is in node_modules (a build loads in one Node ABI only: .ci/run's
// scripts/test-other-nodes.mjs keeps one workspace copy per Node version). On Node 24.19+ that build
// must be compiled against 24.18.1's headers, or it aborts here (scripts/pnpm.mjs, headersNodeFor).
// Figures: docs/benchmarks.md, "The embedded store's driver".
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const BATCH_SIZES = [1, 4, 16, 64];
/** Rows written per measurement, a multiple of every batch size. */
const ROWS = 12_800;
const ROUNDS = 5;

/** A task event as the store writes it: ≈ 200 bytes of JSON. */
function eventJson(seq) {
  return JSON.stringify({
    type: 'progress',
    taskId: 'task_0f8b6c2e4a9d4b1f',
    seq,
    at: 1_796_000_000_000 + seq,
    progress: { step: seq % 100, of: 100, message: 'processing step of the long-running task' },
    lane: 'websocket',
  });
}

const SCHEMA = `CREATE TABLE task_events (
  task_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, PRIMARY KEY (task_id, seq)
) WITHOUT ROWID`;

/** Each driver: open(file) → { insert(taskId, seq, json), transaction(fn)(rows), checkpoint(), close() }. */
const drivers = {
  'better-sqlite3': (file) => {
    const Database = require('better-sqlite3');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec(SCHEMA);
    const insert = db.prepare('INSERT INTO task_events (task_id, seq, event) VALUES (?, ?, ?)');
    return {
      // The store's own way: better-sqlite3's transaction wrapper (writeBatch.ts, runAll).
      transaction: (fn) => db.transaction(fn),
      insert: (taskId, seq, json) => insert.run(taskId, seq, json),
      checkpoint: () => db.pragma('wal_checkpoint(TRUNCATE)'),
      close: () => db.close(),
    };
  },
  'node:sqlite': (file) => {
    const { DatabaseSync } = require('node:sqlite');
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0');
    db.exec(SCHEMA);
    const insert = db.prepare('INSERT INTO task_events (task_id, seq, event) VALUES (?, ?, ?)');
    // node:sqlite has no transaction helper: prepared BEGIN/COMMIT/ROLLBACK, as a port would write it.
    const begin = db.prepare('BEGIN');
    const commit = db.prepare('COMMIT');
    const rollback = db.prepare('ROLLBACK');
    return {
      transaction: (fn) => (rows) => {
        begin.run();
        try {
          fn(rows);
          commit.run();
        } catch (error) {
          rollback.run();
          throw error;
        }
      },
      insert: (taskId, seq, json) => insert.run(taskId, seq, json),
      checkpoint: () => db.exec('PRAGMA wal_checkpoint(TRUNCATE)'),
      close: () => db.close(),
    };
  },
};

function available(name) {
  try {
    require(name === 'node:sqlite' ? 'node:sqlite' : 'better-sqlite3');
    return true;
  } catch (error) {
    console.error(`${name}: not available on Node ${process.version} (${error.message.split('\n')[0]})`);
    return false;
  }
}

/** µs per row and per transaction writing ROWS rows `batch` at a time into a fresh file. */
function measure(name, batch, dir, round) {
  const store = drivers[name](join(dir, `${name.replace(/\W/g, '-')}-${batch}-${round}.sqlite`));
  const rows = Array.from({ length: ROWS }, (_, seq) => [`task_${seq % 50}`, seq, eventJson(seq)]);
  const write = store.transaction((slice) => {
    for (const [taskId, seq, json] of slice) store.insert(taskId, seq, json);
  });
  // Warm-up: the statements' first runs and the file's first pages, outside the timing.
  for (let i = 0; i < 64; i += batch) write(rows.slice(i, i + batch).map(([t, s, j]) => [`${t}-warm`, s, j]));
  store.checkpoint();
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  for (let i = 0; i < ROWS; i += batch) write(rows.slice(i, i + batch));
  const ns = Number(process.hrtime.bigint() - started);
  const cpu = process.cpuUsage(cpuStarted);
  store.checkpoint();
  store.close();
  return {
    perRowUs: ns / 1000 / ROWS,
    perTransactionUs: ns / 1000 / (ROWS / batch),
    // CPU time (user + system) of this process: what a loaded, shared machine disturbs least.
    cpuPerRowUs: (cpu.user + cpu.system) / ROWS,
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const names = Object.keys(drivers).filter(available);
const dir = mkdtempSync(join(tmpdir(), 'sqlite-drivers-'));
const results = [];
try {
  for (const batch of BATCH_SIZES) {
    const samples = Object.fromEntries(names.map((name) => [name, []]));
    // Rounds alternate the drivers, so that a slow moment of a shared machine falls on both.
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        samples[name].push(measure(name, batch, dir, round));
      }
    }
    for (const name of names) {
      results.push({
        node: process.version,
        driver: name,
        rowsPerTransaction: batch,
        perRowUs: median(samples[name].map((s) => s.perRowUs)),
        perTransactionUs: median(samples[name].map((s) => s.perTransactionUs)),
        cpuPerRowUs: median(samples[name].map((s) => s.cpuPerRowUs)),
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const sqliteVersions = names.map((name) => {
  if (name === 'node:sqlite') {
    const { DatabaseSync } = require('node:sqlite');
    return `node:sqlite ${new DatabaseSync(':memory:').prepare('SELECT sqlite_version() AS v').get().v}`;
  }
  const Database = require('better-sqlite3');
  return `better-sqlite3 ${require('better-sqlite3/package.json').version} (SQLite ${new Database(':memory:').prepare('SELECT sqlite_version() AS v').get().v})`;
});
console.log(
  `Node ${process.version}; ${sqliteVersions.join('; ')}; ${ROWS} rows per measurement, median of ${ROUNDS}`,
);
console.log('| Node | driver | rows per transaction | µs per row | µs per transaction | CPU µs per row |');
console.log('|---|---|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.node} | ${r.driver} | ${r.rowsPerTransaction} | ${r.perRowUs.toFixed(2)} | ${r.perTransactionUs.toFixed(1)} | ${r.cpuPerRowUs.toFixed(2)} |`,
  );
}
