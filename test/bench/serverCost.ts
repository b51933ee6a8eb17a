// What the server's own measurement costs it: two real servers in child processes, one with
// WIRE_ACCOUNTING=on and one with it off, and the same race load against each in alternating blocks.
// Each block's CPU is the child's utime + stime from /proc/<pid>/stat (all its threads), read before
// the block starts and after its last connection has closed. BENCH_SERVER_LOG=warn (a LOG_LEVEL) shows the
// servers' own logs on stderr, for a run that goes wrong.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  API_PATHS,
  type ClientToServerEvents,
  CreateTaskResponse,
  EventsResponse,
  HTTP_HEADERS,
  isTerminalEvent,
  type LabTag,
  type LaneId,
  labTagHeaders,
  labTagQuery,
  type ServerToClientEvents,
  SOCKET_EVENTS,
  StartAck,
  TaskEvent,
  TaskResponse,
  type TaskSpec,
  TERMINAL_STATUSES,
} from '@transport-lab/shared';
import { io, type Socket } from 'socket.io-client';
import { CLOCK_TICKS, cpuTimeMs, startChildProcess, threadCpuMs } from './processes.ts';

const serverDir = fileURLToPath(new URL('../../server', import.meta.url));

export type Accounting = 'on' | 'off';

export interface ServerCostOptions {
  /** Recorded off blocks; on blocks are one more (on, off, on, …, off, on), after a warm-up each. */
  blocks: number;
  /** Races per block: the same work against either server, whatever else the machine does. */
  racesPerBlock: number;
  /** Races against each server before the first recorded block (JIT, caches, first connections). */
  warmupRaces: number;
  /** Races in flight at once against the server (each race: every lane below at once). */
  concurrency: number;
  spec: TaskSpec;
  /** The lanes of each race, all at once. */
  lanes: readonly CostLane[];
  /** How often the short-polling lane asks, ms. */
  pollIntervalMs: number;
  /** Write V8 CPU profiles of both servers into `<dir>/on` and `<dir>/off` (profiling adds its own
   *  cost: a profiled run's figures are for comparing the two profiles, not for the record). */
  cpuProfDir?: string;
  /** An A/A control: both servers run with this WIRE_ACCOUNTING, so that the "on" and "off" figures
   *  differ by chance alone. It shows how far apart the two can come on this machine for no reason. */
  control?: Accounting;
  log(line: string): void;
}

/** The lanes a race can have, each tagged as the page tags them. */
export const COST_LANES = ['websocket', 'sse', 'long-polling', 'short-polling'] as const satisfies LaneId[];
export type CostLane = (typeof COST_LANES)[number];

export interface BlockResult {
  accounting: Accounting;
  cpuMs: number;
  wallMs: number;
  races: number;
  /** Task events that reached the client (short polling: the events its new states covered). */
  events: number;
  requests: number;
  /** Events and requests (WebSocket: its connection; SSE: the POST and the stream) per lane. */
  byLane: Partial<Record<CostLane, LaneTally>>;
  /** Of those, sent again after a reset keep-alive connection (see labFetch). */
  resent: number;
  cpuUsPerEvent: number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface ServerCostResult {
  clockTicksPerSecond: number;
  /** Set when this was an A/A control run (both servers with this setting). */
  control?: Accounting;
  lanes: readonly CostLane[];
  blocks: BlockResult[];
  totals: Record<Accounting, { cpuMs: number; events: number; cpuUsPerEvent: number }>;
  /** Per off block, against the on blocks just before and after it. */
  pairs: {
    onUsPerEvent: Spread;
    offUsPerEvent: Spread;
    differenceUsPerEvent: Spread;
    extraCpuPercent: Spread;
  };
  /** The same from the totals over all blocks. */
  overall: { differenceUsPerEvent: number; extraCpuPercent: number };
  /** CPU the idle server used while the other one was loaded, per block, ms (should be near 0). */
  idleCpuMs: Spread;
  /** CPU ms per thread name over the recorded blocks (idle time included), for where it goes. */
  threads: Record<Accounting, Record<string, number>>;
  /** Every event each server delivered, warm-up included (what a CPU profile of it covers). */
  eventsWithWarmup: Record<Accounting, number>;
}

// ── The child servers ───────────────────────────────────────────────────────────────────────────────

export interface ChildServer {
  accounting: Accounting;
  child: ChildProcess;
  pid: number;
  url: string;
  receiverUrl: string;
  /** Whether it runs on the core asked for (`options.pinCore`). */
  pinned: boolean;
  dataDir: string;
  stop(): Promise<void>;
}

function threadDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ms] of after) {
    const delta = ms - (before.get(name) ?? 0);
    if (delta > 0) out[name] = delta;
  }
  return out;
}

export interface ChildServerOptions {
  /** Run the server on this core alone (`taskset -c`), where taskset exists. */
  pinCore?: number;
  /** The --cpu-prof subfolder of `cpuProfDir` (default: `accounting`). */
  profileName?: string;
  /** More settings of the server's (REDIS_URL, REDIS_PREFIX for the capacity's Redis topology). */
  env?: Record<string, string>;
}

/** `setting` is the server's WIRE_ACCOUNTING: `accounting` itself, except in an A/A control.
 *  Also the fan-out and capacity benches' server (fanout.ts, capacity.ts). */
export async function startChild(
  accounting: Accounting,
  setting: Accounting,
  cpuProfDir: string | undefined,
  options: ChildServerOptions = {},
): Promise<ChildServer> {
  const dataDir = mkdtempSync(join(tmpdir(), `transport-lab-bench-${accounting}-`));
  const profile = cpuProfDir
    ? ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, options.profileName ?? accounting)}`]
    : [];
  let url: string | undefined;
  // serve.ts, the server itself: main.ts is now a supervisor that forks it, and /proc/<pid>/stat (and
  // --cpu-prof) of the supervisor would see none of the server's work.
  const started = await startChildProcess({
    label: `${accounting} server`,
    nodeArgs: ['--import', 'tsx', ...profile, 'src/serve.ts'],
    cwd: serverDir,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      RECEIVER_PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.BENCH_SERVER_LOG ?? 'silent',
      STATIC_DIR: join(dataDir, 'no-client'),
      WIRE_ACCOUNTING: setting,
      ...options.env,
    },
    ...(options.pinCore !== undefined ? { pinCore: options.pinCore } : {}),
    onStderr(chunk) {
      if (process.env.BENCH_SERVER_LOG) process.stderr.write(`[${accounting}] ${chunk}`);
    },
    ready(line) {
      // serve.ts prints "Transport Lab listening on http://localhost:PORT", then the receiver's URL.
      const app = /listening on (http:\/\/\S+)/.exec(line);
      if (app?.[1]) url = app[1].replace('localhost', '127.0.0.1');
      const receiver = /receiver .* at (http:\/\/\S+)/.exec(line);
      return receiver?.[1] && url ? { url, receiverUrl: new URL(receiver[1]).origin } : undefined;
    },
  });
  return {
    accounting,
    child: started.child,
    pid: started.pid,
    pinned: started.pinned,
    ...started.ready,
    dataDir,
    async stop() {
      await started.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ── One race: every lane at once, each tagged with the lane and the race's run id ────────────────────

export interface LaneTally {
  events: number;
  requests: number;
}

const LANE_TIMEOUT_MS = 30_000;
const json = { 'content-type': 'application/json' };
let runCounter = 0;

function newRunId(): string {
  runCounter += 1;
  return `bench_${process.pid}_${runCounter}`;
}

type LabSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function websocketLane(url: string, tag: LabTag, spec: TaskSpec): Promise<LaneTally> {
  return new Promise((resolve, reject) => {
    // A socket of its own per run, as the page opens one (its handshake is part of the lane's cost).
    const socket: LabSocket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      query: labTagQuery(tag),
    });
    let taskId: string | undefined;
    const early: TaskEvent[] = [];
    let events = 0;
    const timer = setTimeout(() => finish(new Error('websocket lane: no end in time')), LANE_TIMEOUT_MS);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.disconnect();
      if (error) reject(error);
      else resolve({ events, requests: 1 });
    };
    const offer = (event: TaskEvent) => {
      if (event.taskId !== taskId) return;
      events += 1;
      if (isTerminalEvent(event)) {
        if (event.type === 'succeeded') finish();
        else finish(new Error(`websocket lane: task ended ${event.type}`));
      }
    };
    socket.on(SOCKET_EVENTS.event, (event) => {
      if (taskId === undefined) early.push(event);
      else offer(event);
    });
    socket.once('connect_error', (error) => finish(error));
    socket.emit(SOCKET_EVENTS.start, spec, (raw) => {
      const ack = StartAck.parse(raw);
      if (!ack.ok) return finish(new Error(`websocket lane: ${ack.error.code} ${ack.error.message}`));
      taskId = ack.task.id;
      for (const event of early.splice(0)) offer(event);
    });
  });
}

/** Requests sent again after their reused keep-alive connection was reset before any answer came. */
let resent = 0;

/**
 * fetch, sent once more when the connection is reset before any answer: a keep-alive connection the
 * server closed just as it was reused. Browsers resend such a request themselves (Chromium:
 * HttpNetworkTransaction::ShouldResendRequest), so the page's lane would not see the failure either.
 */
async function labFetch(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (!(error instanceof TypeError) || !['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(code ?? ''))
      throw error;
    resent += 1;
    return fetch(url, init);
  }
}

async function createTask(url: string, tag: LabTag, spec: TaskSpec, signal: AbortSignal): Promise<string> {
  const res = await labFetch(`${url}${API_PATHS.tasks}`, {
    method: 'POST',
    headers: { ...json, ...labTagHeaders(tag) },
    body: JSON.stringify({ spec }),
    signal,
  });
  if (res.status !== 202) throw new Error(`${tag.lane}: POST /api/tasks answered ${res.status}`);
  return CreateTaskResponse.parse(await res.json()).task.id;
}

/** Reads the event stream as EventSource would ask for it (tags in the query) to the server's end. */
async function sseLane(url: string, tag: LabTag, spec: TaskSpec): Promise<LaneTally> {
  const signal = AbortSignal.timeout(LANE_TIMEOUT_MS);
  const taskId = await createTask(url, tag, spec, signal);
  const query = new URLSearchParams({ after: '0', ...labTagQuery(tag) });
  const res = await labFetch(`${url}${API_PATHS.stream(taskId)}?${query}`, { signal });
  if (res.status !== 200 || !res.body) throw new Error(`sse lane: stream answered ${res.status}`);
  let events = 0;
  let ended: string | undefined;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    // One message per blank-line-terminated block; only `message`s are task events (not `wire`).
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      const type =
        lines
          .find((l) => l.startsWith('event:'))
          ?.slice(6)
          .trim() ?? 'message';
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart());
      if (type !== 'message' || data.length === 0) continue;
      const event = TaskEvent.parse(JSON.parse(data.join('\n')));
      events += 1;
      if (isTerminalEvent(event)) ended = event.type;
    }
  }
  if (ended !== 'succeeded') throw new Error(`sse lane: stream ended with ${ended ?? 'no terminal event'}`);
  return { events, requests: 2 };
}

async function longPollingLane(url: string, tag: LabTag, spec: TaskSpec): Promise<LaneTally> {
  const signal = AbortSignal.timeout(LANE_TIMEOUT_MS);
  const taskId = await createTask(url, tag, spec, signal);
  let requests = 1;
  let events = 0;
  let after = 0;
  for (;;) {
    const res = await labFetch(`${url}${API_PATHS.events(taskId)}?after=${after}&waitMs=10000`, {
      headers: labTagHeaders(tag),
      signal,
    });
    requests += 1;
    const answer = EventsResponse.parse(await res.json());
    events += answer.events.length;
    after = answer.nextAfter;
    const terminal = answer.events.find(isTerminalEvent);
    if (terminal) {
      if (terminal.type !== 'succeeded') throw new Error(`long-polling lane: task ended ${terminal.type}`);
      return { events, requests };
    }
  }
}

async function shortPollingLane(
  url: string,
  tag: LabTag,
  spec: TaskSpec,
  intervalMs: number,
): Promise<LaneTally> {
  const signal = AbortSignal.timeout(LANE_TIMEOUT_MS);
  const taskId = await createTask(url, tag, spec, signal);
  let requests = 1;
  let etag: string | null = null;
  let seen = 0;
  for (;;) {
    // The interval is the lane itself (the page polls on a timer), not a wait for synchronisation.
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const res: Response = await labFetch(`${url}${API_PATHS.task(taskId)}`, {
      headers: { ...labTagHeaders(tag), ...(etag ? { [HTTP_HEADERS.ifNoneMatch]: etag } : {}) },
      signal,
    });
    requests += 1;
    if (res.status === 304) {
      await res.arrayBuffer();
      continue;
    }
    etag = res.headers.get(HTTP_HEADERS.etag);
    const { task } = TaskResponse.parse(await res.json());
    seen = Math.max(seen, task.lastSeq);
    if (TERMINAL_STATUSES.has(task.status)) {
      if (task.status !== 'succeeded') throw new Error(`short-polling lane: task ended ${task.status}`);
      return { events: seen, requests };
    }
  }
}

async function race(server: ChildServer, options: ServerCostOptions): Promise<Array<[CostLane, LaneTally]>> {
  const runId = newRunId();
  const tag = (lane: CostLane): LabTag => ({ lane, runId });
  const { spec } = options;
  const drivers: Record<CostLane, () => Promise<LaneTally>> = {
    websocket: () => websocketLane(server.url, tag('websocket'), spec),
    sse: () => sseLane(server.url, tag('sse'), spec),
    'long-polling': () => longPollingLane(server.url, tag('long-polling'), spec),
    'short-polling': () => shortPollingLane(server.url, tag('short-polling'), spec, options.pollIntervalMs),
  };
  return Promise.all(
    options.lanes.map(async (lane) => [lane, await drivers[lane]()] as [CostLane, LaneTally]),
  );
}

/** Runs `racesPerBlock` races, `concurrency` at a time, and waits for the last to end. */
async function block(
  server: ChildServer,
  options: ServerCostOptions,
  racesPerBlock = options.racesPerBlock,
): Promise<BlockResult> {
  const cpuBefore = cpuTimeMs(server.pid);
  const resentBefore = resent;
  const started = performance.now();
  let races = 0;
  let startedRaces = 0;
  let events = 0;
  let requests = 0;
  const byLane: Partial<Record<CostLane, LaneTally>> = {};
  const racer = async () => {
    while (startedRaces < racesPerBlock) {
      startedRaces += 1;
      const tallies = await race(server, options);
      races += 1;
      for (const [lane, tally] of tallies) {
        events += tally.events;
        requests += tally.requests;
        const sum = byLane[lane] ?? { events: 0, requests: 0 };
        byLane[lane] = { events: sum.events + tally.events, requests: sum.requests + tally.requests };
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, racer));
  // The last sockets' closes are handled by the server after the client has let go: let them land
  // in this block. The idle keep-alive connections of fetch's pool stay open (as a page's would).
  await new Promise((resolve) => setTimeout(resolve, 250));
  const wallMs = performance.now() - started;
  const cpuMs = cpuTimeMs(server.pid) - cpuBefore;
  return {
    accounting: server.accounting,
    cpuMs,
    wallMs,
    races,
    events,
    requests,
    byLane,
    resent: resent - resentBefore,
    cpuUsPerEvent: events > 0 ? (cpuMs * 1000) / events : Number.NaN,
  };
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median =
    sorted.length === 0
      ? Number.NaN
      : sorted.length % 2 === 1
        ? (sorted[Math.floor(mid)] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

export async function measureServerCost(options: ServerCostOptions): Promise<ServerCostResult> {
  const servers: ChildServer[] = [];
  try {
    const on = await startChild('on', options.control ?? 'on', options.cpuProfDir);
    servers.push(on);
    const off = await startChild('off', options.control ?? 'off', options.cpuProfDir);
    servers.push(off);
    const byAccounting = { on, off };

    options.log(
      `server cost${options.control ? ` (A/A CONTROL: both servers WIRE_ACCOUNTING=${options.control})` : ''}: ` +
        `${options.lanes.join(' + ')} per race, ${options.concurrency} races at once, ` +
        `${options.blocks} blocks of ${options.racesPerBlock} races per server after ${options.warmupRaces} warm-up races each, ` +
        `task ${options.spec.durationMs} ms × ${options.spec.steps} steps`,
    );
    // Warm-up: JIT, SQLite's page cache, socket.io's first connections. Not recorded.
    const warmup = {
      on: await block(on, options, options.warmupRaces),
      off: await block(off, options, options.warmupRaces),
    };

    const threadsBefore = { on: threadCpuMs(on.pid), off: threadCpuMs(off.pid) };
    const recorded: BlockResult[] = [];
    const idle: number[] = [];
    // Strictly alternating, on first and last: on, off, on, …, off, on. Every block follows one block
    // of the other server, so each starts from the same idle gap (a server idle for two blocks starts
    // its next one measurably dearer: its keep-alive connections and V8's heap have cooled meanwhile),
    // and each off block is set against the mean of the on blocks either side of it, which cancels a
    // steady drift of the machine.
    for (let i = 0; i < 2 * options.blocks + 1; i++) {
      const accounting: Accounting = i % 2 === 0 ? 'on' : 'off';
      const loaded = byAccounting[accounting];
      const other = byAccounting[accounting === 'on' ? 'off' : 'on'];
      const otherBefore = cpuTimeMs(other.pid);
      const result = await block(loaded, options);
      idle.push(cpuTimeMs(other.pid) - otherBefore);
      recorded.push(result);
      options.log(
        `  block ${recorded.length}: ${accounting.padEnd(3)} ${result.cpuMs.toFixed(0).padStart(5)} ms CPU, ` +
          `${result.events} events, ${result.races} races, ${result.cpuUsPerEvent.toFixed(1)} µs/event`,
      );
    }

    const threads = {
      on: threadDelta(threadsBefore.on, threadCpuMs(on.pid)),
      off: threadDelta(threadsBefore.off, threadCpuMs(off.pid)),
    };
    /** Each off block with the on blocks before and after it, as one on figure. */
    const perPair = recorded.flatMap((off, i) => {
      if (off.accounting !== 'off') return [];
      const before = recorded[i - 1] as BlockResult;
      const after = recorded[i + 1] as BlockResult;
      const onCpuUsPerEvent = ((before.cpuMs + after.cpuMs) * 1000) / (before.events + after.events);
      return [{ on: onCpuUsPerEvent, off: off.cpuUsPerEvent }];
    });
    const total = (accounting: Accounting) => {
      const blocks = recorded.filter((b) => b.accounting === accounting);
      const cpuMs = blocks.reduce((s, b) => s + b.cpuMs, 0);
      const events = blocks.reduce((s, b) => s + b.events, 0);
      return { cpuMs, events, cpuUsPerEvent: (cpuMs * 1000) / events };
    };
    const totals = { on: total('on'), off: total('off') };
    return {
      clockTicksPerSecond: CLOCK_TICKS,
      ...(options.control ? { control: options.control } : {}),
      lanes: options.lanes,
      blocks: recorded,
      totals,
      pairs: {
        onUsPerEvent: spread(perPair.map((p) => p.on)),
        offUsPerEvent: spread(perPair.map((p) => p.off)),
        differenceUsPerEvent: spread(perPair.map((p) => p.on - p.off)),
        extraCpuPercent: spread(perPair.map((p) => ((p.on - p.off) / p.off) * 100)),
      },
      overall: {
        differenceUsPerEvent: totals.on.cpuUsPerEvent - totals.off.cpuUsPerEvent,
        extraCpuPercent:
          ((totals.on.cpuUsPerEvent - totals.off.cpuUsPerEvent) / totals.off.cpuUsPerEvent) * 100,
      },
      idleCpuMs: spread(idle),
      threads,
      eventsWithWarmup: {
        on: totals.on.events + warmup.on.events,
        off: totals.off.events + warmup.off.events,
      },
    };
  } finally {
    for (const server of servers) await server.stop();
  }
}
