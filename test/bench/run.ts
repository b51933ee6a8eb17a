// `npm run bench [-- --runs N] [--duration-ms D] [--warmup N] [--json FILE]`
//                 `[--cost-blocks N] [--cost-races N] [--cost-concurrency N] [--cost-lanes a,b]`
//                 `[--cpu-prof DIR] [--cost-control on|off] [--frame-races N]`
//                 `[--fanout-n N] [--fanout-seconds S] [--capacity-n 25,50,100]`
//                 `[--capacity-topology sqlite,redis,cluster:2] [--capacity-rounds K]`
//                 `[--start-races N] [--start-slowdown K]`
//                 `[--skip-latency] [--skip-cost] [--skip-frames] [--skip-fanout] [--skip-capacity]`
//                 `[--skip-race-start]`
//
// Six questions, all in one run. The sixth: how fast does a race start on the page, and what does the
// page's own work add (issue 10, item 5)? The real page in Chromium races every lane; each race's own
// export gives first feedback, the websocket's connect and each pushed event's receive delay, then
// the same under Chromium's K× CPU slowdown, a phone (raceStart.ts).
//
// 1. How much latency does each lane add beyond the task's own duration, and how does that compare with
// the bare transport underneath it? Four cases, all in this one process, on loopback:
//   websocket lane         socket.io-client (websocket only, one connected socket): emit `task:start`
//                          {durationMs: D, steps: 1} → receipt of the terminal `task:event`
//   ws baseline            raw `ws` client → raw `ws` server that echoes after setTimeout(D)
//   request/response lane  fetch POST /api/tasks/run → the full response body
//   http baseline          fetch POST → raw `node:http` server that answers after setTimeout(D)
// Each figure is (elapsed − D). The rounds are interleaved (each round runs every case once, in a rotated
// order), so that whatever else the machine does hits all four alike. Percentiles come from HDR
// histograms recorded in microseconds.
//
// 2. What does the lab's own measurement cost (issue 4: under 3 % extra CPU, under 20 µs per event)?
//   server  two child servers, WIRE_ACCOUNTING=on and off, the same tagged race load against each in
//           alternating blocks; CPU from /proc/<pid>/stat per block (serverCost.ts)
//   page    the client's per-event measurement path run in Node against the same events applied with
//           no measurement, in alternating blocks (pageCost.ts)
//
// 3. Does the page stay smooth (issue 4: no frame over 50 ms with seven lanes at 20 events per second)?
// The real page in Chromium races every lane on 100 steps over 5 s; its frame lengths against the same
// page left idle for as long, in the same run (pageFrames.ts).
//
// 4. How fast does a board change reach a whole room (issue 6: N socket.io participants at 10 Hz, last-receiver
// p50 and p99 for N = 1 000 against a raw `ws` broadcast to the same N)? The real server and a raw `ws`
// broadcast server, each in a child process, N clients each in this process; their blocks alternate
// (fanout.ts).
//
// 5. How many phones can the lab serve (issue 10)? N simulated phones, each running five lanes
// (request/response, short polling, long polling, SSE, websocket) on a 3 s, 20-step task, all N starting
// within 1 s; against the real server and a raw node:http + ws server doing the same connections and
// events, each a child process on core 0, this process on core 1 (taskset). Per N: delivery lag, schedule
// lateness, POST and websocket connect times, server CPU per delivered event and its ratio to the
// baseline, peak RSS, failures and dropped connections, each beside issue 10's target (capacity.ts).
// With --cpu-prof DIR, both servers' profiles go to DIR/capacity-project and DIR/capacity-baseline.
// --capacity-topology measures the lab as one instance on SQLite (sqlite, the default), one on a Redis
// of the bench's own (redis), or N instances on it behind nginx (cluster:N), each beside the same
// baseline, every process of it (Redis and nginx too) on core 0 (issue 14, item 6: capacityServers.ts).
// --capacity-rounds K measures each N K times, rounds interleaved in time, and adds the rounds' medians,
// ranges and how many rounds met each target (capacityRounds.ts): one block is one sample of a shared host.
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  API_PATHS,
  type ClientToServerEvents,
  isTerminalEvent,
  RunResponse,
  type ServerToClientEvents,
  SOCKET_EVENTS,
  type TaskEvent,
  type TaskSpec,
} from '@transport-lab/shared';
import * as hdr from 'hdr-histogram-js';
import { io, type Socket } from 'socket.io-client';
import { WebSocket, WebSocketServer } from 'ws';
import { type RunningServer, startServer } from '../fixtures/server.ts';
import { type CapacityResult, capacityTable, measureCapacity } from './capacity.ts';
import { parseTopology } from './capacityServers.ts';
import { type FanoutResult, fanoutTable, measureFanout } from './fanout.ts';
import { measurePageCost, type PageCostResult } from './pageCost.ts';
import { type FrameStats, measurePageFrames, type PageFramesResult } from './pageFrames.ts';
import { type ProfileDiff, profileDiff } from './profileDiff.ts';
import { type ProfileTop, profileTop } from './profileTop.ts';
import { measureRaceStart, type RaceStartResult, raceStartHeader, raceStartRows } from './raceStart.ts';
import { COST_LANES, measureServerCost, type ServerCostResult, type Spread } from './serverCost.ts';
import { textTable } from './textTable.ts';

const USAGE = `usage: npm run bench -- [--runs N (default 200)] [--duration-ms D (default 20)] [--warmup N (default 20)]
    [--cost-blocks N off blocks, N+1 on (default 8)] [--cost-races N (default 80)] [--cost-concurrency N (default 6)]
    [--cost-lanes ${COST_LANES.join(',')} (default: all four)] [--cpu-prof DIR] [--cost-control on|off]
    [--frame-races N (default 3)] [--fanout-n N receivers (default 1000)] [--fanout-seconds S (default 10)]
    [--capacity-n N,N,… phones (default 25,50,100)] [--capacity-topology sqlite,redis,cluster:N (default sqlite)] [--capacity-rounds K (default 1)] [--start-races N (default 6)] [--start-slowdown K (default 4)]
    [--skip-latency] [--skip-cost] [--skip-frames] [--skip-fanout] [--skip-capacity] [--skip-race-start]
    [--json FILE]`;

// ── Settings ────────────────────────────────────────────────────────────────────────────────────────

// pnpm hands the script a literal `--` when it is called as `npm run bench -- …`.
const argv = process.argv.slice(2).filter((arg) => arg !== '--');
const { values } = parseArgs({
  args: argv,
  options: {
    runs: { type: 'string', default: '200' },
    'duration-ms': { type: 'string', default: '20' },
    warmup: { type: 'string', default: '20' },
    'cost-blocks': { type: 'string', default: '8' },
    'cost-races': { type: 'string', default: '80' },
    'cost-concurrency': { type: 'string', default: '6' },
    'cost-lanes': { type: 'string', default: COST_LANES.join(',') },
    'cpu-prof': { type: 'string' },
    'cost-control': { type: 'string' },
    'skip-latency': { type: 'boolean', default: false },
    'skip-cost': { type: 'boolean', default: false },
    'frame-races': { type: 'string', default: '3' },
    'skip-frames': { type: 'boolean', default: false },
    'fanout-n': { type: 'string', default: '1000' },
    'fanout-seconds': { type: 'string', default: '10' },
    'skip-fanout': { type: 'boolean', default: false },
    'capacity-n': { type: 'string', default: '25,50,100' },
    'capacity-topology': { type: 'string', default: 'sqlite' },
    'capacity-rounds': { type: 'string', default: '1' },
    'skip-capacity': { type: 'boolean', default: false },
    'start-races': { type: 'string', default: '6' },
    'start-slowdown': { type: 'string', default: '4' },
    'skip-race-start': { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(
      `--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}\n${USAGE}`,
    );
    process.exit(2);
  }
  return value;
}

const RUNS = wholeNumber('runs', values.runs, 1, 1_000_000);
const WARMUP = wholeNumber('warmup', values.warmup, 0, 1_000_000);
// 60 s at most: longer tasks would only measure patience.
const DURATION_MS = wholeNumber('duration-ms', values['duration-ms'], 0, 60_000);
const SPEC: TaskSpec = { durationMs: DURATION_MS, steps: 1 };
/** A case that has not answered by then has failed; this bounds a hang, it synchronises nothing. */
const CASE_TIMEOUT_MS = DURATION_MS + 10_000;
// pnpm runs the script in test/; a relative --json FILE means relative to where the command was typed.
const typedPath = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);
const jsonFile = values.json ? typedPath(values.json) : undefined;

/** Issue 4's targets for the instrumentation's own cost. */
const TARGETS = { extraCpuPercent: 3, usPerEvent: 20 } as const;
/** Off blocks, each between two on blocks (on, off, on, …, off, on); each block is COST_RACES races. */
const COST_BLOCKS = wholeNumber('cost-blocks', values['cost-blocks'], 1, 1_000);
const COST_RACES = wholeNumber('cost-races', values['cost-races'], 1, 100_000);
const COST_CONCURRENCY = wholeNumber('cost-concurrency', values['cost-concurrency'], 1, 200);
const costLanes = values['cost-lanes'].split(',').map((lane) => lane.trim());
const unknownLane = costLanes.find((lane) => !(COST_LANES as readonly string[]).includes(lane));
if (unknownLane !== undefined || costLanes.length === 0) {
  console.error(
    `--cost-lanes takes some of ${COST_LANES.join(',')}, not ${JSON.stringify(values['cost-lanes'])}\n${USAGE}`,
  );
  process.exit(2);
}
const COST_LANE_LIST = COST_LANES.filter((lane) => costLanes.includes(lane));
const control = values['cost-control'];
if (control !== undefined && control !== 'on' && control !== 'off') {
  console.error(`--cost-control takes on or off, not ${JSON.stringify(control)}\n${USAGE}`);
  process.exit(2);
}
/** An A/A control run: both servers with this WIRE_ACCOUNTING (the noise floor of the comparison). */
const COST_CONTROL: 'on' | 'off' | undefined = control;
/** The server race's task: 20 steps, one every 10 ms, so that a block is seconds of server CPU. */
const COST_SPEC: TaskSpec = { durationMs: 200, steps: 20 };
/** The short-polling lane's interval in the server race, ms. */
const COST_POLL_INTERVAL_MS = 50;
/** The smoothness race: 7 lanes × 100 steps over 5 s = 20 events per second per lane. */
const FRAME_RACES = wholeNumber('frame-races', values['frame-races'], 1, 100);
const FRAME_SPEC = { durationMs: 5_000, steps: 100 } as const;
/** The issue's limit on one frame, ms. */
const FRAME_LIMIT_MS = 50;
/** The page side: 10 pairs of blocks of 100 races of 7 lanes × 23 events (16 100 events a block). */
const PAGE_COST = { blocks: 10, racesPerBlock: 100, warmupRaces: 100, steps: 20, eventsPerFrame: 2 } as const;
/** The fan-out: receivers per side, and recorded seconds per side at 10 Hz (10 s: 100 changes each). */
const FANOUT_N = wholeNumber('fanout-n', values['fanout-n'], 1, 10_000);
const FANOUT_SECONDS = wholeNumber('fanout-seconds', values['fanout-seconds'], 1, 120);
/** Races per CPU setting for the race start (the first is the first after the server's start). */
const START_RACES = wholeNumber('start-races', values['start-races'], 2, 100);
/** Chromium's CPU slowdown for the phone-like races: DevTools' "mid-range phone" is 4. */
const START_SLOWDOWN = wholeNumber('start-slowdown', values['start-slowdown'], 1, 20);
/** A task long enough for every lane to show progress, short enough for many races. */
const START_SPEC = { durationMs: 1_000, steps: 10 };

/** The capacity's phone counts, run in ascending order (each phone: 5 lanes, 5 connections). */
const CAPACITY_NS = [
  ...new Set(values['capacity-n'].split(',').map((raw) => wholeNumber('capacity-n', raw.trim(), 1, 1_000))),
].sort((a, b) => a - b);
/** Each capacity N measured this many times, the rounds interleaved (capacityRounds.ts). */
const CAPACITY_ROUNDS = wholeNumber('capacity-rounds', values['capacity-rounds'], 1, 20);
/** The lab's topologies the capacity measures, in this order (capacityServers.ts). */
const CAPACITY_TOPOLOGIES = (() => {
  try {
    return values['capacity-topology'].split(',').map((raw) => parseTopology(raw.trim()));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
})();

// ── The baselines: the bare transports, answering after D ms ───────────────────────────────────────

async function startBaselines(): Promise<{ url: string; wsUrl: string; close(): Promise<void> }> {
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      setTimeout(() => {
        const body = JSON.stringify({ echo: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, DURATION_MS);
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      setTimeout(() => socket.send(data, { binary: isBinary }), DURATION_MS);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((done) => wss.close(() => done()));
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

// ── One run of each case; each resolves with the elapsed time in ms ─────────────────────────────────

function withTimeout<T>(label: string, work: (settle: (value: T) => void, fail: (e: Error) => void) => void) {
  return new Promise<T>((resolvePromise, rejectPromise) => {
    const timer = setTimeout(
      () => rejectPromise(new Error(`${label}: no answer in ${CASE_TIMEOUT_MS} ms`)),
      CASE_TIMEOUT_MS,
    );
    work(
      (value) => {
        clearTimeout(timer);
        resolvePromise(value);
      },
      (error) => {
        clearTimeout(timer);
        rejectPromise(error);
      },
    );
  });
}

type LabSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function connected(socket: LabSocket): Promise<void> {
  return new Promise((resolveConnect, rejectConnect) => {
    socket.once('connect', () => resolveConnect());
    socket.once('connect_error', rejectConnect);
  });
}

function websocketLane(socket: LabSocket): Promise<number> {
  return withTimeout('websocket lane', (settle, fail) => {
    let taskId: string | undefined;
    // A terminal event could in principle overtake the ack; keep it until the ack names the task.
    const early = new Map<string, { event: TaskEvent; at: number }>();
    const finish = (event: TaskEvent, at: number) => {
      socket.off(SOCKET_EVENTS.event, onEvent);
      if (event.type !== 'succeeded') fail(new Error(`websocket lane: task ended ${event.type}`));
      else settle(at - started);
    };
    const onEvent = (event: TaskEvent) => {
      const at = performance.now();
      if (!isTerminalEvent(event)) return;
      if (taskId === undefined) early.set(event.taskId, { event, at });
      else if (event.taskId === taskId) finish(event, at);
    };
    socket.on(SOCKET_EVENTS.event, onEvent);
    const started = performance.now();
    socket.emit(SOCKET_EVENTS.start, SPEC, (ack) => {
      if (!ack.ok) {
        socket.off(SOCKET_EVENTS.event, onEvent);
        fail(new Error(`websocket lane: start refused: ${ack.error.code} ${ack.error.message}`));
        return;
      }
      taskId = ack.task.id;
      const seen = early.get(taskId);
      if (seen) finish(seen.event, seen.at);
    });
  });
}

function wsBaseline(client: WebSocket, seq: number): Promise<number> {
  return withTimeout('ws baseline', (settle, fail) => {
    const message = JSON.stringify({ seq, spec: SPEC });
    const onMessage = (data: Buffer) => {
      const at = performance.now();
      client.off('message', onMessage);
      if (data.toString('utf8') === message) settle(at - started);
      else fail(new Error('ws baseline: the echo does not match what was sent'));
    };
    client.on('message', onMessage);
    const started = performance.now();
    client.send(message);
  });
}

async function requestResponseLane(baseUrl: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}${API_PATHS.run}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SPEC),
    signal: AbortSignal.timeout(CASE_TIMEOUT_MS),
  });
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`request/response lane: ${response.status} ${body}`);
  const { task } = RunResponse.parse(JSON.parse(body));
  if (task.status !== 'succeeded') throw new Error(`request/response lane: task ended ${task.status}`);
  return elapsed;
}

async function httpBaseline(baseUrl: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SPEC),
    signal: AbortSignal.timeout(CASE_TIMEOUT_MS),
  });
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`http baseline: ${response.status} ${body}`);
  return elapsed;
}

// ── Running and reporting ───────────────────────────────────────────────────────────────────────────

type CaseId = 'websocket' | 'ws-baseline' | 'request-response' | 'http-baseline';

interface Case {
  id: CaseId;
  label: string;
  /** The bare transport this lane is compared with; none for a baseline. */
  baseline?: CaseId;
  run(round: number): Promise<number>;
  histogram: hdr.Histogram;
}

export interface CaseResult {
  id: CaseId;
  label: string;
  runs: number;
  /** Added latency beyond the task's duration, ms, with microsecond precision. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  baseline?: CaseId;
  /** Lane ÷ its baseline, on the added latency; undefined for a baseline itself. */
  ratioP50?: number;
  ratioP99?: number;
}

function newHistogram(): hdr.Histogram {
  // Microseconds from 1 µs to 10 min, 3 significant digits.
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Added latency in ms from a histogram of elapsed µs: percentiles shift with the constant D. */
function addedMs(elapsedUs: number): number {
  return Math.round(elapsedUs - DURATION_MS * 1_000) / 1_000;
}

function results(cases: Case[]): CaseResult[] {
  const base = cases.map((c) => ({
    id: c.id,
    label: c.label,
    runs: c.histogram.totalCount,
    // An HDR percentile is the top of its bucket, which can lie a few µs above the largest value seen.
    p50Ms: addedMs(Math.min(c.histogram.getValueAtPercentile(50), c.histogram.maxValue)),
    p99Ms: addedMs(Math.min(c.histogram.getValueAtPercentile(99), c.histogram.maxValue)),
    maxMs: addedMs(c.histogram.maxValue),
    meanMs: addedMs(c.histogram.mean),
    baseline: c.baseline,
  }));
  return base.map((row) => {
    const reference = base.find((other) => other.id === row.baseline);
    if (!reference) return row;
    return {
      ...row,
      ratioP50: ratio(row.p50Ms, reference.p50Ms),
      ratioP99: ratio(row.p99Ms, reference.p99Ms),
    };
  });
}

function ratio(lane: number, baseline: number): number | undefined {
  // A baseline that adds nothing measurable (timer granularity can even make it negative) has no ratio.
  return baseline > 0 ? Math.round((lane / baseline) * 100) / 100 : undefined;
}

function table(rows: CaseResult[]): string {
  const header = ['case', 'runs', 'p50 ms', 'p99 ms', '× baseline p50', '× baseline p99'];
  const body = rows.map((row) => [
    row.label,
    String(row.runs),
    row.p50Ms.toFixed(3),
    row.p99Ms.toFixed(3),
    row.baseline ? formatRatio(row.ratioP50) : '—',
    row.baseline ? formatRatio(row.ratioP99) : '—',
  ]);
  const rendered = textTable(header, body);
  return rendered.join('\n');
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function formatRatio(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(2)}×`;
}

/** The latency cases: the lab's server in this process, the baselines beside it. */
async function latency(): Promise<{ rows: CaseResult[]; loadBefore: number; loadAfter: number }> {
  let lab: RunningServer | undefined;
  let baselines: Awaited<ReturnType<typeof startBaselines>> | undefined;
  let socket: LabSocket | undefined;
  let wsClient: WebSocket | undefined;
  try {
    lab = await startServer({ requireClient: false });
    baselines = await startBaselines();
    const labUrl = lab.url;
    const baselineUrl = baselines.url;

    socket = io(labUrl, { transports: ['websocket'], reconnection: false, forceNew: true });
    await connected(socket);
    wsClient = new WebSocket(baselines.wsUrl);
    await once(wsClient, 'open');
    const labSocket = socket;
    const rawSocket = wsClient;

    const cases: Case[] = [
      {
        id: 'websocket',
        label: 'websocket lane (socket.io)',
        baseline: 'ws-baseline',
        run: () => websocketLane(labSocket),
        histogram: newHistogram(),
      },
      {
        id: 'ws-baseline',
        label: 'ws baseline',
        run: (round) => wsBaseline(rawSocket, round),
        histogram: newHistogram(),
      },
      {
        id: 'request-response',
        label: 'request/response lane (HTTP)',
        baseline: 'http-baseline',
        run: () => requestResponseLane(labUrl),
        histogram: newHistogram(),
      },
      {
        id: 'http-baseline',
        label: 'http baseline',
        run: () => httpBaseline(baselineUrl),
        histogram: newHistogram(),
      },
    ];

    console.log(
      `latency: ${RUNS} runs per case after ${WARMUP} warm-up rounds, task ${DURATION_MS} ms × 1 step`,
    );
    // Other work on the machine shows up in every case alike, but it widens the tails: record it.
    const loadBefore = loadavg()[0] ?? 0;
    const rounds = WARMUP + RUNS;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < cases.length; i++) {
        // Rotate the order each round: no case always runs first, right after a quiet moment.
        const c = cases[(round + i) % cases.length] as Case;
        const elapsedMs = await c.run(round);
        if (round >= WARMUP) c.histogram.recordValue(Math.round(elapsedMs * 1_000));
      }
    }
    return { rows: results(cases), loadBefore, loadAfter: loadavg()[0] ?? 0 };
  } finally {
    socket?.disconnect();
    wsClient?.terminate();
    await baselines?.close();
    await lab?.close();
  }
}

// ── The instrumentation's own cost ──────────────────────────────────────────────────────────────────

interface Verdict {
  target: string;
  /** The median over the off blocks (each against the on blocks either side), compared with the target. */
  value: number;
  met: boolean;
  /** How far over the target, in its unit; 0 when met. */
  overBy: number;
}

function verdict(value: number, limit: number, unit: '%' | 'µs'): Verdict {
  const target = unit === '%' ? `< ${limit} % extra CPU` : `< ${limit} µs per event`;
  return { target, value: round2(value), met: value < limit, overBy: round2(Math.max(0, value - limit)) };
}

export interface CostReport {
  targets: typeof TARGETS;
  server: ServerCostResult;
  page: PageCostResult;
  /** With --cpu-prof: the two servers' profiles compared. */
  profile?: ProfileDiff;
  verdicts: {
    serverExtraCpu: Verdict;
    serverPerEvent: Verdict;
    pagePerEvent: Verdict;
  };
}

async function cost(): Promise<CostReport> {
  const log = (line: string) => console.log(line);
  const server = await measureServerCost({
    blocks: COST_BLOCKS,
    racesPerBlock: COST_RACES,
    warmupRaces: COST_RACES,
    concurrency: COST_CONCURRENCY,
    spec: COST_SPEC,
    lanes: COST_LANE_LIST,
    pollIntervalMs: COST_POLL_INTERVAL_MS,
    ...(values['cpu-prof'] ? { cpuProfDir: typedPath(values['cpu-prof']) } : {}),
    ...(COST_CONTROL ? { control: COST_CONTROL } : {}),
    log,
  });
  const page = measurePageCost({ ...PAGE_COST, log });
  const profileDir = values['cpu-prof'] ? typedPath(values['cpu-prof']) : undefined;
  return {
    targets: TARGETS,
    server,
    page,
    ...(profileDir ? { profile: profileDiff(profileDir, server.eventsWithWarmup) } : {}),
    verdicts: {
      serverExtraCpu: verdict(server.pairs.extraCpuPercent.median, TARGETS.extraCpuPercent, '%'),
      serverPerEvent: verdict(server.pairs.differenceUsPerEvent.median, TARGETS.usPerEvent, 'µs'),
      pagePerEvent: verdict(page.differenceUsPerEvent.median, TARGETS.usPerEvent, 'µs'),
    },
  };
}

const fmt = (value: number, digits = 1) => value.toFixed(digits);
const withSpread = (s: Spread, digits = 1) =>
  `${fmt(s.median, digits)} [${fmt(s.min, digits)}, ${fmt(s.max, digits)}]`;
const judged = (v: Verdict, unit: string) => (v.met ? 'met' : `MISSED by ${fmt(v.overBy)} ${unit}`);

function costTable(report: CostReport): string {
  const { server, page, verdicts } = report;
  const header = ['side', 'on µs/event', 'off µs/event', 'on − off µs/event', 'extra CPU %', 'verdict'];
  const serverEvents = server.totals.on.events + server.totals.off.events;
  const body = [
    [
      'server CPU',
      withSpread(server.pairs.onUsPerEvent),
      withSpread(server.pairs.offUsPerEvent),
      withSpread(server.pairs.differenceUsPerEvent),
      withSpread(server.pairs.extraCpuPercent),
      `${judged(verdicts.serverExtraCpu, '%')} (< 3 %); ${judged(verdicts.serverPerEvent, 'µs')} (< 20 µs)`,
    ],
    [
      'page (Node)',
      withSpread(page.onUsPerEvent, 2),
      withSpread(page.offUsPerEvent, 2),
      withSpread(page.differenceUsPerEvent, 2),
      'n/a',
      `${judged(verdicts.pagePerEvent, 'µs')} (< 20 µs)`,
    ],
  ];
  const rendered = textTable(header, body, new Set([5]));
  return [
    ...(server.control
      ? [
          `A/A CONTROL: both servers ran WIRE_ACCOUNTING=${server.control}; the server row is the noise floor, ` +
            'not a cost, and its verdict means nothing\n',
        ]
      : []),
    ...rendered,
    '',
    `median [min, max]; server: each of ${COST_BLOCKS} off blocks against the mean of the on blocks either side, ` +
      `${serverEvents} events over ${server.blocks.length} blocks; overall (all on vs all off) ` +
      `${fmt(server.overall.differenceUsPerEvent)} µs/event = ${fmt(server.overall.extraCpuPercent)} % extra; ` +
      `idle server's CPU per block ${withSpread(server.idleCpuMs, 0)} ms (clock tick ${1000 / server.clockTicksPerSecond} ms)`,
    `page: ${page.lanes} lanes × ${page.eventsPerRace / page.lanes} events per race, ${page.eventsPerFrame} events per frame; ` +
      `extra CPU % is not given for the page: its CPU is mostly the browser's, which is not run here`,
  ].join('\n');
}

function framesTable(result: PageFramesResult): string {
  const header = [
    'page',
    'frames',
    'p50 ms',
    'p99 ms',
    'max ms',
    `over ${FRAME_LIMIT_MS} ms`,
    'long animation frames',
    '× idle p99',
  ];
  const row = (name: string, s: FrameStats, ratio: string) => [
    name,
    String(s.frames),
    fmt(s.p50Ms),
    fmt(s.p99Ms),
    fmt(s.maxMs),
    String(s.over50),
    String(s.longAnimationFrames),
    ratio,
  ];
  const body = [
    row('racing', result.race, formatRatio(ratio(result.race.p99Ms, result.idle.p99Ms))),
    row('idle (baseline)', result.idle, '—'),
    ...result.perRace.map((s, k) => row(`  race ${k + 1}`, s, '')),
  ];
  const rendered = textTable(header, body);
  return [
    ...rendered,
    '',
    'A frame is the time between two requestAnimationFrame callbacks on the page; a long animation frame is',
    "Chromium's own report of a frame whose main-thread work took over 50 ms (the page's fault, not the machine's)." +
      (result.race.worstScript ? ` Longest script: ${result.race.worstScript}.` : ''),
  ].join('\n');
}

async function main(): Promise<void> {
  console.log(
    `bench: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ` +
      `load average (1 min) ${round2(loadavg()[0] ?? 0)}`,
  );
  const latencyResult = values['skip-latency'] ? undefined : await latency();
  const loadBeforeCost = loadavg()[0] ?? 0;
  const costResult = values['skip-cost'] ? undefined : await cost();
  const loadAfterCost = loadavg()[0] ?? 0;
  const framesResult = values['skip-frames']
    ? undefined
    : await measurePageFrames({ races: FRAME_RACES, ...FRAME_SPEC });
  const raceStartResult: RaceStartResult | undefined = values['skip-race-start']
    ? undefined
    : await measureRaceStart({ races: START_RACES, slowdown: START_SLOWDOWN, ...START_SPEC });
  const fanoutResult: FanoutResult | undefined = values['skip-fanout']
    ? undefined
    : await measureFanout({
        participants: FANOUT_N,
        seconds: FANOUT_SECONDS,
        log: (line) => console.log(line),
      });
  const loadBeforeCapacity = loadavg()[0] ?? 0;
  const capacityResult: CapacityResult | undefined = values['skip-capacity']
    ? undefined
    : await measureCapacity({
        ns: CAPACITY_NS,
        rounds: CAPACITY_ROUNDS,
        topologies: CAPACITY_TOPOLOGIES,
        ...(values['cpu-prof'] ? { cpuProfDir: typedPath(values['cpu-prof']) } : {}),
        log: (line) => console.log(line),
      });
  const loadAfterCapacity = loadavg()[0] ?? 0;
  const capacityProfile: Record<'project' | 'baseline', ProfileTop> | undefined =
    capacityResult && values['cpu-prof'] && capacityResult.settings.topologies[0] === 'sqlite'
      ? {
          // Less 200 ms: a profile begins a little after its process was asked to start.
          project: profileTop(join(typedPath(values['cpu-prof']), 'capacity-project'), {
            fromMs: capacityResult.measuredFromMs.project - 200,
          }),
          baseline: profileTop(join(typedPath(values['cpu-prof']), 'capacity-baseline'), {
            fromMs: capacityResult.measuredFromMs.baseline - 200,
          }),
        }
      : undefined;

  if (latencyResult) {
    console.log(`\nadded latency beyond the task's ${DURATION_MS} ms (lower is better)\n`);
    console.log(table(latencyResult.rows));
    console.log(
      `\nload average (1 min): ${round2(latencyResult.loadBefore)} before, ${round2(latencyResult.loadAfter)} after`,
    );
  }
  if (costResult) {
    console.log(
      `\ninstrumentation's own cost: measurement on vs off ` +
        `(targets: < ${TARGETS.extraCpuPercent} % extra CPU, < ${TARGETS.usPerEvent} µs per event)\n`,
    );
    console.log(costTable(costResult));
    if (costResult.profile) {
      const { busyMs, groups } = costResult.profile;
      console.log(
        `\nCPU profiles (main thread, profiled: figures run high), busy ${busyMs.on} ms on, ${busyMs.off} ms off; ` +
          `largest differences:\n`,
      );
      for (const g of groups.slice(0, 12)) {
        console.log(
          `  ${g.differenceUsPerEvent.toFixed(2).padStart(7)} µs/event  ${String(g.onMs).padStart(6)} ms on  ` +
            `${String(g.offMs).padStart(6)} ms off  ${g.group}`,
        );
      }
    }
    console.log(`\nload average (1 min): ${round2(loadBeforeCost)} before, ${round2(loadAfterCost)} after`);
  }

  if (framesResult) {
    console.log(
      `\npage smoothness: ${framesResult.settings.lanes} lanes, ${FRAME_SPEC.steps} steps over ${FRAME_SPEC.durationMs} ms ` +
        `(${framesResult.settings.eventsPerSecond} events/s), ${FRAME_RACES} races; target: no frame over ${FRAME_LIMIT_MS} ms\n`,
    );
    console.log(framesTable(framesResult));
  }

  if (fanoutResult) {
    console.log(
      `\nfan-out to a room: ${FANOUT_N} receivers of a board change at ${fanoutResult.settings.rateHz} Hz, ` +
        `last-receiver delay (lower is better)\n`,
    );
    console.log(fanoutTable(fanoutResult));
  }

  if (raceStartResult) {
    console.log(
      `\nrace start: ${raceStartResult.settings.lanes} lanes, ${START_SPEC.steps} steps over ${START_SPEC.durationMs} ms, ` +
        `${START_RACES} races at 1× CPU (the first right after the server's start) and ${START_RACES} at ${START_SLOWDOWN}×; ` +
        `medians over races\n`,
    );
    console.log(textTable(raceStartHeader(START_SLOWDOWN), raceStartRows(raceStartResult)).join('\n'));
  }
  if (capacityResult) {
    console.log(
      `\ncapacity: a hall of phones, N phones × 5 lanes against the lab and a raw node:http + ws baseline ` +
        `(load average (1 min) ${round2(loadBeforeCapacity)} before, ${round2(loadAfterCapacity)} after)\n`,
    );
    console.log(capacityTable(capacityResult));
  }
  if (capacityProfile) {
    const { project, baseline } = capacityProfile;
    const list = (
      entries: ProfileTop['bySelf'],
      key: 'selfMs' | 'totalMs',
      pct: 'selfPercent' | 'totalPercent',
    ) =>
      entries.map((e) => `  ${String(e[key]).padStart(7)} ms ${e[pct].toFixed(1).padStart(5)} %  ${e.name}`);
    console.log(
      `\nCPU profile of the capacity's project server (main thread, the warm-up and every block, start-up left ` +
        `out; sampled on wall time, so a busy machine inflates it): busy ${project.busyMs} ms ` +
        `(baseline server: ${baseline.busyMs} ms)\n\nby self time:`,
    );
    console.log(list(project.bySelf, 'selfMs', 'selfPercent').join('\n'));
    console.log("\nby inclusive time (the server's code and packages; Node's internals left out):");
    console.log(list(project.byTotal, 'totalMs', 'totalPercent').join('\n'));
    console.log('\nself time by package or file:');
    console.log(
      project.groups
        .map(
          (g) => `  ${String(g.selfMs).padStart(7)} ms ${g.selfPercent.toFixed(1).padStart(5)} %  ${g.group}`,
        )
        .join('\n'),
    );
  }

  if (jsonFile) {
    const report = {
      date: new Date().toISOString(),
      command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
      machine: {
        cores: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        platform: `${platform()} ${release()}`,
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        loadAverage1m: {
          ...(latencyResult
            ? {
                latencyBefore: round2(latencyResult.loadBefore),
                latencyAfter: round2(latencyResult.loadAfter),
              }
            : {}),
          ...(costResult ? { costBefore: round2(loadBeforeCost), costAfter: round2(loadAfterCost) } : {}),
          ...(fanoutResult
            ? {
                fanoutBefore: fanoutResult.loadAverage1m.before,
                fanoutAfter: fanoutResult.loadAverage1m.after,
              }
            : {}),
          ...(capacityResult
            ? { capacityBefore: round2(loadBeforeCapacity), capacityAfter: round2(loadAfterCapacity) }
            : {}),
        },
      },
      ...(latencyResult
        ? {
            latency: {
              settings: { runs: RUNS, warmupRounds: WARMUP, durationMs: DURATION_MS, steps: SPEC.steps },
              unit: 'ms added beyond durationMs',
              cases: latencyResult.rows,
            },
          }
        : {}),
      ...(costResult
        ? {
            instrumentationCost: {
              settings: {
                server: {
                  offBlocks: COST_BLOCKS,
                  onBlocks: COST_BLOCKS + 1,
                  racesPerBlock: COST_RACES,
                  warmupRaces: COST_RACES,
                  concurrency: COST_CONCURRENCY,
                  spec: COST_SPEC,
                  lanes: COST_LANE_LIST,
                  pollIntervalMs: COST_POLL_INTERVAL_MS,
                },
                page: PAGE_COST,
              },
              unit: 'µs per event of CPU time: the server process (server), the bench process (page)',
              ...costResult,
            },
          }
        : {}),
      ...(framesResult
        ? { pageFrames: { unit: 'ms between animation frames', limitMs: FRAME_LIMIT_MS, ...framesResult } }
        : {}),
      ...(raceStartResult
        ? {
            raceStart: {
              unit: 'ms on the page clock (server times through its offset estimate)',
              ...raceStartResult,
            },
          }
        : {}),
      ...(fanoutResult
        ? {
            fanout: {
              unit: "ms from the change's server time to its last (first) receiver",
              ...fanoutResult,
            },
          }
        : {}),
      ...(capacityResult
        ? {
            capacity: {
              unit: 'ms (lag, lateness, POST, connect), µs of server CPU per delivered event, MiB',
              ...capacityResult,
              ...(capacityProfile ? { profile: capacityProfile } : {}),
            },
          }
        : {}),
    };
    writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${jsonFile}`);
  }
}

await main();
