// Capacity: a hall of phones (issue 10). N simulated phones (capacityLoad.ts), each running the five
// lanes a phone can run without a browser on a 3 s, 20-step task, all N starting within 1 s as a
// presenter's "Start for everyone" does; against the lab's server and against a raw node:http + ws
// server doing the same connections and events (rawHallServer.ts), in the same run.
//
// Both servers are child processes on core 0 (`taskset -c 0`) and this process, which holds every
// phone, moves itself to core 1, where taskset exists. For each N, ascending, one block per server,
// the order alternating from N to N (baseline first, then project first, …), each started only once
// its server is idle and other people's processes leave the shared machine quiet (waiting at most
// 20 s; the row says how quiet it was then, and how busy the cores were with others during it).
// A block ends when every lane has ended, 30 s after its start at the latest. Per block:
//   delivery lag       receipt on the phone − the event's `at` (server epoch ms), for events received
//                      as events (long polling, SSE, websocket): one machine, one system clock, checked
//                      NTP-style against each child before and after
//   schedule lateness  `at − dueAt` of those events: the server making a step late, before any transport
//   POST / connect     POST /api/tasks → its 202's headers; io() or new WebSocket() → connect / open
//   CPU per event      the server's utime + stime (/proc/<pid>/stat, 10 ms ticks) from the block's start
//                      to 250 ms after its last phone finished, ÷ the events delivered (each task's
//                      events once per lane, as events or inside a state: see HallRecorder.delivered)
//   peak RSS           the server's VmHWM over the block (reset at its start via clear_refs)
//   failures, dropped  every lane that did not see its task succeed with all 23 events; of those, the
//                      ones whose connection closed before the terminal event

import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  API_PATHS,
  type ClockEstimate,
  nearestRank,
  type TaskEvent,
  type TaskSpec,
  TimeResponse,
} from '@transport-lab/shared';
import {
  epochNow,
  type Failure,
  HALL_LANES,
  type HallLane,
  HallRecorder,
  runPhone,
  type Side,
} from './capacityLoad.ts';
import { capacityPlan, roundsTable, summariseRounds } from './capacityRounds.ts';
import {
  type CapacityTopology,
  type HallServer,
  NON_NODE_PARTS,
  startBaseline,
  startProject,
  totalCpuMs,
} from './capacityServers.ts';
import { clockOf } from './fanout.ts';
import { coreBusyMs, pinProcess, TASKSET_AVAILABLE } from './processes.ts';
import { textTable } from './textTable.ts';

/** Issue 10's targets, for 200 phones on one core. */
export const CAPACITY_TARGETS = {
  latenessP99Ms: 10,
  lagP99Ms: 50,
  postP99Ms: 100,
  connectP99Ms: 100,
  /** Server CPU per delivered event, project ÷ baseline. */
  cpuRatio: 2,
} as const;
/** Each lane's task: 3 s, 20 steps (23 events: queued, started, 20 × progress, succeeded). */
export const CAPACITY_SPEC: TaskSpec = { durationMs: 3_000, steps: 20 };
/** The N phones start spread evenly over this, ms. */
const START_SPREAD_MS = 1_000;
/** A block ends by then whatever happens: a lane still running is a failure. ms from its start. */
const BLOCK_BOUND_MS = 30_000;
/** Phones of the unrecorded warm-up block each server runs first (JIT, caches, SQLite's pages). */
const WARMUP_PHONES = 10;
/** After a block, the server's closes and timers settle before the next block's CPU is read. */
const SETTLE_MS = 250;
/** A server is idle when it spends at most this much CPU in QUIET_WINDOW_MS (10 ms ticks: 2 %). */
const IDLE_CPU_MS = 10;
const QUIET_WINDOW_MS = 500;
/** The machine is quiet enough when other people's processes take at most this much of it over a
 *  QUIET_WINDOW_MS (% of all cores): the machine is shared, and a block run while a test suite
 *  holds the cores measures the suite. */
const QUIET_OTHERS_PERCENT = 25;
/** The longest wait for both before a block starts anyway (the row says how quiet it was), ms. */
const QUIET_WAIT_MS = 20_000;
const SERVER_CORE = 0;
const BENCH_CORE = 1;

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface CapacityRow {
  n: number;
  /** 1 to the run's rounds (`--capacity-rounds`): every N is measured once per round. */
  round: number;
  side: Side;
  /** `baseline`, or the project's topology: `sqlite`, `redis`, `clusterN` (capacityServers.ts). */
  label: string;
  lanes: number;
  completedLanes: number;
  /** Events delivered (see HallRecorder.delivered), of `expectedEvents` (N × 5 lanes × 23). */
  events: number;
  expectedEvents: number;
  lagMs: Percentiles;
  latenessMs: Percentiles;
  /** By event type (HallRecorder.latenessByType). */
  latenessByTypeMs: Partial<Record<TaskEvent['type'], Percentiles>>;
  postMs: Percentiles;
  connectMs: Percentiles;
  /** Per lane; for request/response and short polling: receipt − the state's `updatedAt`. */
  lagByLaneMs: Record<HallLane, Percentiles>;
  /** HTTP requests answered, and the TCP connections they took (each phone also opens one websocket). */
  requests: number;
  httpConnections: number;
  /** Every process of the server's: the instances, nginx and Redis where the topology has them. */
  serverCpuMs: number;
  cpuUsPerEvent: number;
  /** The same by part: `node` (the instances, or the baseline), `nginx`, `redis`. */
  cpuUsPerEventByPart: Record<string, number>;
  /** Project ÷ baseline at the same N (project rows only). */
  cpuRatio?: number;
  peakRssMiB: number;
  /** `block` when VmHWM could be reset at the block's start; else the process's whole life so far. */
  peakRssScope: 'block' | 'process';
  failures: number;
  dropped: number;
  /** Failures by lane and reason, with their count. */
  failureReasons: Array<{ lane: HallLane; reason: string; count: number; dropped: boolean }>;
  wallMs: number;
  /** The load generator's own state: if it was saturated, the lags are partly its own. */
  bench: { cpuPercent: number; loopDelayP99Ms: number; loopDelayMaxMs: number; phoneStartLateMaxMs: number };
  /** CPU that other processes (other people's work) took on the server's core and on the bench's during
   *  the block, % of the block's wall time: /proc/stat's busy time of the core minus our process's.
   *  Without pinning: of the whole machine, less both ours, in % of one core. */
  othersCpuPercent: { serverCore: number; benchCore: number };
  /** The kernel's TcpExt ListenOverflows and ListenDrops during the block (the whole machine's). */
  listen: { overflows: number; drops: number };
  /** Just before the block: the server's CPU in the last QUIET_WINDOW_MS (10 ms ticks), other
   *  processes' share of the machine then (%), and how long the bench waited for both to be low. */
  before: { serverCpuMs: number; othersPercent: number; waitedMs: number };
  loadAverage1m: number;
}

export interface CapacityResult {
  settings: {
    ns: number[];
    /** Each N measured this many times (capacityRounds.ts). */
    rounds: number;
    spec: TaskSpec;
    lanes: readonly HallLane[];
    startSpreadMs: number;
    blockBoundMs: number;
    warmupPhones: number;
    targets: typeof CAPACITY_TARGETS;
    /** Where each process ran; `pinned: false` says why the figures may share a core. */
    placement: { pinned: boolean; note: string };
    /** The project's topologies, in the order measured. */
    topologies: string[];
    projectEnv: Record<string, string>;
  };
  rows: CapacityRow[];
  /** Each server's clock minus the bench's, before and after, by label. */
  clock: Record<string, ClockEstimate[]>;
  /** When the warm-up began, ms after each server was started (the project: its first topology): a
   *  CPU profile before it is start-up. */
  measuredFromMs: Record<Side, number>;
  wallSeconds: number;
}

export interface CapacityOptions {
  ns: number[];
  /** Each N this many times, rounds interleaved in time (default 1). */
  rounds?: number;
  /** The lab's topologies, each measured beside the same baseline (default: sqlite alone). */
  topologies?: CapacityTopology[];
  /** Write V8 CPU profiles of both servers into `<dir>/capacity-project` and `<dir>/capacity-baseline`
   *  (a single-instance Redis topology: `<dir>/capacity-redis`). */
  cpuProfDir?: string;
  log(line: string): void;
}

// ── Quiet before a block ────────────────────────────────────────────────────────────────────────────

/** Waits until `server` is idle and other processes leave the machine quiet (or QUIET_WAIT_MS has
 *  passed); the last window's figures. `all`: every process of ours (the servers; this one is added). */
async function untilQuiet(server: HallServer, all: HallServer[]): Promise<CapacityRow['before']> {
  const started = performance.now();
  const ours = () => all.reduce((sum, s) => sum + totalCpuMs(s), 0);
  for (;;) {
    const serverBefore = totalCpuMs(server);
    const oursBefore = ours();
    const benchBefore = process.cpuUsage();
    const coresBefore = coreBusyMs();
    await sleep(QUIET_WINDOW_MS);
    const bench = process.cpuUsage(benchBefore);
    const cores = coreBusyMs();
    const busy = cores.reduce((sum, ms, core) => sum + ms - (coresBefore[core] ?? 0), 0);
    const othersMs = busy - (ours() - oursBefore) - (bench.user + bench.system) / 1000;
    const figures = {
      serverCpuMs: totalCpuMs(server) - serverBefore,
      othersPercent: Math.max(0, Math.round((othersMs / (QUIET_WINDOW_MS * cores.length)) * 100)),
      waitedMs: Math.round(performance.now() - started),
    };
    const quiet = figures.serverCpuMs <= IDLE_CPU_MS && figures.othersPercent <= QUIET_OTHERS_PERCENT;
    if (quiet || figures.waitedMs > QUIET_WAIT_MS) return figures;
  }
}

/** TcpExt ListenOverflows and ListenDrops from /proc/net/netstat: connections the kernel refused
 *  because a listener's accept queue was full (the client then retries its SYN 1 s, 3 s, 7 s later). */
function listenCounters(): { overflows: number; drops: number } {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const index = lines.findIndex((line) => line.startsWith('TcpExt:'));
    const names = (lines[index] ?? '').split(/\s+/);
    const numbers = (lines[index + 1] ?? '').split(/\s+/).map(Number);
    const value = (name: string) => numbers[names.indexOf(name)] ?? Number.NaN;
    return { overflows: value('ListenOverflows'), drops: value('ListenDrops') };
  } catch {
    return { overflows: Number.NaN, drops: Number.NaN };
  }
}

async function serverClock(url: string): Promise<ClockEstimate> {
  return clockOf(async () => {
    const t0 = epochNow();
    const res = await fetch(`${url}${API_PATHS.time}`, { signal: AbortSignal.timeout(5_000) });
    const { receivedAt, sentAt } = TimeResponse.parse(await res.json());
    return { t0, t1: receivedAt, t2: sentAt, t3: epochNow() };
  });
}

// ── One block: N phones against one server ──────────────────────────────────────────────────────────

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return {
    count: sorted.length,
    p50: r(nearestRank(sorted, 50)),
    p99: r(nearestRank(sorted, 99)),
    max: r(sorted.at(-1) ?? Number.NaN),
  };
}

function failureReasons(failures: Failure[]): CapacityRow['failureReasons'] {
  const byKey = new Map<string, CapacityRow['failureReasons'][number]>();
  for (const f of failures) {
    const key = `${f.lane} ${f.reason}`;
    const known = byKey.get(key);
    if (known) known.count += 1;
    else byKey.set(key, { lane: f.lane, reason: f.reason, count: 1, dropped: f.dropped });
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count);
}

let blockCounter = 0;

/** `pinned`: the servers run on SERVER_CORE and this process on BENCH_CORE. */
async function block(
  server: HallServer,
  n: number,
  round: number,
  all: HallServer[],
  pinned: boolean,
): Promise<CapacityRow> {
  const before = await untilQuiet(server, all);
  blockCounter += 1;
  const rec = new HallRecorder();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const rssReset = server.resetPeakRss();
  const netBefore = listenCounters();
  const cpuBefore = server.cpuByPartMs();
  const benchBefore = process.cpuUsage();
  const coresBefore = coreBusyMs();
  const signal = AbortSignal.timeout(BLOCK_BOUND_MS);
  // Every lane of every phone listens to it (N × 5 and more): no leak, the bound of the block.
  setMaxListeners(0, signal);
  loop.enable();
  const startAt = epochNow() + 20;
  await Promise.all(
    Array.from({ length: n }, async (_, phone) => {
      const dueAt = startAt + (phone * START_SPREAD_MS) / n;
      await sleep(Math.max(0, dueAt - epochNow()));
      rec.phoneStartLateMs.push(epochNow() - dueAt);
      await runPhone({
        side: server.side,
        url: server.url,
        phone,
        runId: `hall_${process.pid}_${blockCounter}_${phone}`,
        spec: CAPACITY_SPEC,
        signal,
        rec,
      });
    }),
  );
  await sleep(SETTLE_MS);
  loop.disable();
  const wallMs = epochNow() - startAt;
  const cpuAfter = server.cpuByPartMs();
  const cpuByPartMs = Object.fromEntries(
    Object.entries(cpuAfter).map(([part, ms]) => [part, ms - (cpuBefore[part] ?? 0)]),
  );
  const serverCpuMs = Object.values(cpuByPartMs).reduce((sum, ms) => sum + ms, 0);
  const perEvent = (cpuMs: number) =>
    rec.delivered > 0 ? Math.round((cpuMs * 1000 * 10) / rec.delivered) / 10 : Number.NaN;
  const bench = process.cpuUsage(benchBefore);
  const netAfter = listenCounters();
  const cores = coreBusyMs().map((ms, core) => ms - (coresBefore[core] ?? 0));
  const benchCpuMs = (bench.user + bench.system) / 1000;
  const others = (busyMs: number, oursMs: number) => Math.round(((busyMs - oursMs) / wallMs) * 1000) / 10;
  const othersCpuPercent = pinned
    ? {
        serverCore: others(cores[SERVER_CORE] ?? Number.NaN, serverCpuMs),
        benchCore: others(cores[BENCH_CORE] ?? Number.NaN, benchCpuMs),
      }
    : (() => {
        const all = others(
          cores.reduce((sum, ms) => sum + ms, 0),
          serverCpuMs + benchCpuMs,
        );
        return { serverCore: all, benchCore: all };
      })();
  const lagByLaneMs = Object.fromEntries(
    HALL_LANES.map((lane) => [lane, percentiles(rec.lagByLane.get(lane) ?? [])]),
  ) as Record<HallLane, Percentiles>;
  return {
    n,
    round,
    side: server.side,
    label: server.label,
    lanes: n * HALL_LANES.length,
    completedLanes: rec.completed,
    events: rec.delivered,
    expectedEvents: n * HALL_LANES.length * (CAPACITY_SPEC.steps + 3),
    lagMs: percentiles(rec.lagMs),
    latenessMs: percentiles(rec.latenessMs),
    latenessByTypeMs: Object.fromEntries(
      [...rec.latenessByType].map(([type, values]) => [type, percentiles(values)]),
    ),
    postMs: percentiles(rec.postMs),
    connectMs: percentiles(rec.connectMs),
    lagByLaneMs,
    requests: rec.requests,
    httpConnections: rec.httpConnections,
    serverCpuMs,
    cpuUsPerEvent: perEvent(serverCpuMs),
    cpuUsPerEventByPart: Object.fromEntries(
      Object.entries(cpuByPartMs).map(([part, ms]) => [part, perEvent(ms)]),
    ),
    peakRssMiB: Math.round((server.peakRssKiB() / 1024) * 10) / 10,
    peakRssScope: rssReset ? 'block' : 'process',
    failures: rec.failures.length,
    dropped: rec.failures.filter((f) => f.dropped).length,
    failureReasons: failureReasons(rec.failures),
    wallMs: Math.round(wallMs),
    bench: {
      cpuPercent: Math.round((benchCpuMs / wallMs) * 1000) / 10,
      loopDelayP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
      loopDelayMaxMs: Math.round(loop.max / 1e4) / 100,
      phoneStartLateMaxMs: Math.round(Math.max(0, ...rec.phoneStartLateMs) * 10) / 10,
    },
    othersCpuPercent,
    listen: { overflows: netAfter.overflows - netBefore.overflows, drops: netAfter.drops - netBefore.drops },
    before,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

// ── The run ─────────────────────────────────────────────────────────────────────────────────────────

export async function measureCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const started = performance.now();
  const servers: HallServer[] = [];
  const cores = cpus().length;
  const canPin = TASKSET_AVAILABLE && cores >= 2;
  const topologies = options.topologies ?? [{ kind: 'sqlite' }];
  try {
    const benchPinned = canPin && pinProcess(process.pid, String(BENCH_CORE));
    const baseline = await startBaseline(options.cpuProfDir, SERVER_CORE);
    servers.push(baseline);
    // Started one after the other and all kept running: an idle server costs no CPU (a block waits
    // for every other one to be idle), and each block then meets a warm server.
    const projects: HallServer[] = [];
    for (const topology of topologies) {
      const project = await startProject(topology, options.cpuProfDir, SERVER_CORE);
      projects.push(project);
      servers.push(project);
      options.log(`  started ${project.label}: ${project.url}`);
    }
    const first = projects[0] as HallServer;
    const pinned = benchPinned && servers.every((server) => server.pinned);
    const note = pinned
      ? `servers on core ${SERVER_CORE} (taskset -c), this load generator on core ${BENCH_CORE}`
      : !TASKSET_AVAILABLE
        ? 'NOT PINNED: no taskset on this machine; servers and load generator share every core'
        : cores < 2
          ? 'NOT PINNED: one core; servers and load generator share it'
          : 'NOT PINNED: taskset refused; servers and load generator share every core';
    options.log(
      `capacity: N = ${options.ns.join(', ')} phones × ${HALL_LANES.length} lanes, task ` +
        `${CAPACITY_SPEC.durationMs} ms × ${CAPACITY_SPEC.steps} steps, started over ${START_SPREAD_MS} ms, ` +
        `lab as ${projects.map((p) => p.label).join(', ')}; ${note}`,
    );
    const clockBefore = new Map<string, ClockEstimate>();
    for (const server of servers) clockBefore.set(server.label, await serverClock(server.url));

    const warmupAt = epochNow();
    for (const server of servers) {
      const warm = await block(server, WARMUP_PHONES, 0, servers, pinned);
      options.log(
        `  warm-up ${server.label}: ${WARMUP_PHONES} phones, ${warm.failures} failures, ${warm.wallMs} ms`,
      );
    }

    const rows: CapacityRow[] = [];
    const rounds = options.rounds ?? 1;
    for (const [i, { n, round }] of capacityPlan(options.ns, rounds).entries()) {
      // Alternating the order: the baseline first, then last, … so that no side always follows
      // another's load.
      const order = i % 2 === 0 ? [baseline, ...projects] : [...projects, baseline];
      const group: CapacityRow[] = [];
      for (const server of order) {
        const row = await block(server, n, round, servers, pinned);
        group.push(row);
        options.log(
          `  N = ${n}${rounds > 1 ? ` round ${round}` : ''} ${server.label.padEnd(9)}: ${row.events}/${row.expectedEvents} events, ` +
            `${row.failures} failures, ${row.serverCpuMs.toFixed(0)} ms server CPU, ${row.wallMs} ms`,
        );
      }
      const base = group.find((r) => r.side === 'baseline') as CapacityRow;
      rows.push(base);
      for (const project of projects) {
        const row = group.find((r) => r.label === project.label) as CapacityRow;
        row.cpuRatio = Math.round((row.cpuUsPerEvent / base.cpuUsPerEvent) * 100) / 100;
        rows.push(row);
      }
    }
    const clock: CapacityResult['clock'] = {};
    for (const server of servers) {
      clock[server.label] = [clockBefore.get(server.label) as ClockEstimate, await serverClock(server.url)];
    }
    return {
      settings: {
        ns: options.ns,
        rounds,
        spec: CAPACITY_SPEC,
        lanes: HALL_LANES,
        startSpreadMs: START_SPREAD_MS,
        blockBoundMs: BLOCK_BOUND_MS,
        warmupPhones: WARMUP_PHONES,
        targets: CAPACITY_TARGETS,
        placement: { pinned, note },
        topologies: projects.map((p) => p.label),
        projectEnv: { LOG_LEVEL: process.env.BENCH_SERVER_LOG ?? 'silent', WIRE_ACCOUNTING: 'on' },
      },
      rows,
      clock,
      measuredFromMs: {
        project: Math.round(warmupAt - first.spawnedAt),
        baseline: Math.round(warmupAt - baseline.spawnedAt),
      },
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    for (const server of servers) await server.stop();
    if (canPin) pinProcess(process.pid, `0-${cores - 1}`);
  }
}

// ── The table ───────────────────────────────────────────────────────────────────────────────────────

const mark = (ok: boolean) => (ok ? '✓' : '✗');
export const ms = (v: number) =>
  Number.isNaN(v) ? 'n/a' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
const pair = (p: Percentiles, limit: number) => `${ms(p.p50)} / ${ms(p.p99)} ${mark(p.p99 <= limit)}`;

/** The server's CPU per event by part, where it has more than one: node (every instance and the
 *  cluster's launcher; in a cluster, each instance's in brackets), nginx, redis. */
const byPart = (r: CapacityRow) => {
  const entries = Object.entries(r.cpuUsPerEventByPart);
  if (entries.length < 2) return '—';
  const node = entries.filter(([part]) => !NON_NODE_PARTS.has(part));
  const instances = node.filter(([part]) => /^i\d+$/.test(part));
  const nodeSum = node.reduce((sum, [, v]) => sum + v, 0);
  const each =
    instances.length > 1 ? ` (${instances.map(([p, v]) => `${p} ${v.toFixed(0)}`).join(', ')})` : '';
  const of = (part: string) => r.cpuUsPerEventByPart[part]?.toFixed(1) ?? '—';
  return `${nodeSum.toFixed(1)}${each} / ${of('nginx')} / ${of('redis')}`;
};

export function capacityTable(result: CapacityResult): string {
  const t = CAPACITY_TARGETS;
  // With rounds, each block's row by N, then round; the rounds' medians follow the tables.
  const multi = result.settings.rounds > 1;
  const rows = [...result.rows].sort((a, b) => a.n - b.n || a.round - b.round);
  const whoHeader = multi ? ['N', 'round', 'server'] : ['N', 'server'];
  const who = (r: CapacityRow) => (multi ? [String(r.n), String(r.round), r.label] : [String(r.n), r.label]);
  const header = [
    ...whoHeader,
    'events',
    `lag p50/p99 ms (≤${t.lagP99Ms})`,
    `lateness p50/p99 ms (≤${t.latenessP99Ms})`,
    `POST p50/p99 ms (≤${t.postP99Ms})`,
    `ws connect p50/p99 ms (≤${t.connectP99Ms})`,
    'server CPU µs/event',
    'of which node / nginx / redis',
    `× baseline (≤${t.cpuRatio})`,
    'peak RSS MiB',
    'failures',
    'dropped',
  ];
  const body = rows.map((r) => [
    ...who(r),
    `${r.events}/${r.expectedEvents}`,
    pair(r.lagMs, t.lagP99Ms),
    pair(r.latenessMs, t.latenessP99Ms),
    pair(r.postMs, t.postP99Ms),
    pair(r.connectMs, t.connectP99Ms),
    r.cpuUsPerEvent.toFixed(1),
    byPart(r),
    r.cpuRatio === undefined ? '—' : `${r.cpuRatio.toFixed(2)}× ${mark(r.cpuRatio <= t.cpuRatio)}`,
    r.peakRssMiB.toFixed(1),
    `${r.failures} ${mark(r.failures === 0)}`,
    `${r.dropped} ${mark(r.dropped === 0)}`,
  ]);
  const diagnostics = textTable(
    [
      ...whoHeader,
      'wall ms',
      'server CPU ms',
      'before: server ms, others %, waited s',
      'requests / HTTP conns',
      'bench CPU %',
      'bench loop delay p99/max ms',
      'phone start late max ms',
      'others on server/bench core %',
      'listen overflows/drops',
      'load 1 min',
    ],
    rows.map((r) => [
      ...who(r),
      String(r.wallMs),
      r.serverCpuMs.toFixed(0),
      `${r.before.serverCpuMs.toFixed(0)}, ${r.before.othersPercent}, ${(r.before.waitedMs / 1000).toFixed(1)}`,
      `${r.requests} / ${r.httpConnections}`,
      r.bench.cpuPercent.toFixed(1),
      `${r.bench.loopDelayP99Ms.toFixed(1)} / ${r.bench.loopDelayMaxMs.toFixed(1)}`,
      r.bench.phoneStartLateMaxMs.toFixed(1),
      `${r.othersCpuPercent.serverCore.toFixed(0)} / ${r.othersCpuPercent.benchCore.toFixed(0)}`,
      `${r.listen.overflows}/${r.listen.drops}`,
      r.loadAverage1m.toFixed(2),
    ]),
  );
  const byLane = textTable(
    [...whoHeader, ...HALL_LANES.map((lane) => `${lane} p50/p99`)],
    rows.map((r) => [
      ...who(r),
      ...HALL_LANES.map((lane) => `${ms(r.lagByLaneMs[lane].p50)} / ${ms(r.lagByLaneMs[lane].p99)}`),
    ]),
  );
  const lateTypes = ['started', 'progress', 'succeeded'] as const;
  const lateness = textTable(
    [...whoHeader, ...lateTypes.map((type) => `${type} p50/p99`)],
    rows.map((r) => [
      ...who(r),
      ...lateTypes.map((type) => {
        const p = r.latenessByTypeMs[type];
        return p ? `${ms(p.p50)} / ${ms(p.p99)}` : 'n/a';
      }),
    ]),
  );
  const failures = rows.flatMap((r) =>
    r.failureReasons
      .slice(0, 5)
      .map(
        (f) =>
          `  N = ${r.n}${multi ? ` round ${r.round}` : ''} ${r.label} ${f.lane}: ${f.count} × ${f.reason}${f.dropped ? ' (dropped connection)' : ''}`,
      ),
  );
  const offsets = (estimates: ClockEstimate[]) =>
    estimates.map((e) => `${e.offsetMs.toFixed(3)} ± ${e.uncertaintyMs.toFixed(3)}`).join(', then ');
  return [
    ...textTable(header, body),
    '',
    `✓/✗: issue 10's target for 200 phones on one core. lag: receipt − \`at\` of events received as events ` +
      `(long polling, SSE, websocket); lateness: \`at − dueAt\` of the same events; POST: POST /api/tasks → 202 ` +
      `headers; ws connect: io() / new WebSocket() → connect / open; events: delivered to phones, each task's ` +
      `once per lane (as events or inside a state), of N × ${HALL_LANES.length} × ${CAPACITY_SPEC.steps + 3}. ` +
      `Peak RSS: VmHWM over the block${result.rows.some((r) => r.peakRssScope === 'process') ? ' (or, where it could not be reset, since the process started)' : ''}.`,
    `${result.settings.placement.note}; children's clocks minus the bench's, ms: ` +
      `${Object.entries(result.clock)
        .map(([label, estimates]) => `${label} ${offsets(estimates)}`)
        .join('; ')}; section ${result.wallSeconds} s. server: baseline, or the lab as one instance ` +
      `(sqlite), one on Redis (redis: the instance and Redis), or N instances on Redis behind nginx ` +
      `(clusterN), every process of it on the server's core.`,
    '',
    ...diagnostics,
    '',
    'Lag by lane, ms (request/response and short polling: receipt − the state’s updatedAt, for answers with news):',
    ...byLane,
    '',
    'Schedule lateness by event, ms (`started` is due when its task was accepted: it also waits behind the ' +
      'start burst; a step is due on its task’s own schedule):',
    ...lateness,
    ...(failures.length > 0 ? ['', 'Failures (most frequent reasons):', ...failures] : []),
    ...(multi
      ? [
          '',
          `Over the ${result.settings.rounds} rounds: the median round's p99 (the lower middle of an even count), ` +
            'the range, ✓/✗ for the median, and in how many rounds the target held:',
          ...roundsTable(summariseRounds(result.rows)),
        ]
      : []),
  ].join('\n');
}
