// Fan-out to a room (issue 6): N participants receiving the shared board's changes at 10 Hz, against a
// raw `ws` broadcast to the same N, in the same run.
//
//   socket.io    the real server in a child process (serverCost's startChild). The presenter creates a
//                room on `/room`; N socket.io clients (forceNew, websocket only) connect to `/board` and
//                `board:subscribe` to the room's board; the bench POSTs one `slider.set` edit to
//                `/api/boards/{code}/edits` every 100 ms and the server broadcasts each change
//   ws baseline  a raw `ws` server in a child process of its own (wsBroadcastServer.ts); N raw `ws`
//                clients; a publisher asks it every 100 ms to broadcast one text message as long as the
//                socket.io frame of a board change
//
// The figure is each change's last-receiver delay: the latest receipt among the N clients minus the
// change's server time `at`. Both servers stamp `at` with `performance.timeOrigin + performance.now()`
// just before their broadcast (the board service stamps it, then emits to the room in the same turn),
// and the bench reads receipts the same way, on the same machine's system clock: no offset is applied,
// and each child's offset from the bench is measured NTP-style and reported, as a check that it is ~0.
// The N clients of both sides live in this one process, so their reading is part of both figures.
//
// The sides alternate in blocks of 10 changes (1 s), in the order AB BA AB …, so that whatever else
// the machine does falls on both; a block starts only once the other side's last change has reached
// everyone (or its bound has passed). A change that some client has not received within
// RECEIPT_BOUND_MS of its `at` is a failure: counted and reported, never left out silently.

import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  API_PATHS,
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  BOARD_PATHS,
  BOARD_ROUTES,
  BoardChange,
  type BoardClientToServerEvents,
  BoardEditResponse,
  type BoardServerToClientEvents,
  BoardSubscribeAck,
  type ClockEstimate,
  type ClockSample,
  CreateRoomAck,
  estimateClockOffset,
  nearestRank,
  ROOM_EVENTS,
  ROOM_NAMESPACE,
  type RoomClientToServerEvents,
  type RoomServerToClientEvents,
  TimeResponse,
} from '@transport-lab/shared';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { cpuTimeMs, startChildProcess } from './processes.ts';
import { type ChildServer, startChild } from './serverCost.ts';
import { textTable } from './textTable.ts';

export interface FanoutOptions {
  /** Receivers on each side. */
  participants: number;
  /** Recorded seconds per side at RATE_HZ (10 s: 100 changes each), after WARMUP_CHANGES each. */
  seconds: number;
  log(line: string): void;
}

/** The issue's rate: one change every 100 ms. */
export const FANOUT_RATE_HZ = 10;
const INTERVAL_MS = 1_000 / FANOUT_RATE_HZ;
/** Changes per block: one second of either side before the other takes over. */
const BLOCK_CHANGES = 10;
/** Not recorded, per side: JIT, buffers, the first broadcasts to a cold room. */
const WARMUP_CHANGES = 10;
/** A change not received by every client this long after its `at` has failed. */
const RECEIPT_BOUND_MS = 5_000;
/** Clients connecting at once: keeps the handshakes a bounded burst, not N at a time. */
const CONNECT_BATCH = 50;
/** One connection, its subscription, one POST: each answers within this or the section fails. */
const STEP_TIMEOUT_MS = 15_000;
/** Clock samples against each child (the one with the shortest round trip wins). */
const CLOCK_SAMPLES = 10;
/**
 * The lab server runs with its defaults (logs silent, WIRE_ACCOUNTING=on). None of its limits meets
 * N = 1 000: a board's receivers need only the room's code (`board:subscribe` is open to whoever holds
 * it, as joining is), so they are not room members and ROOM_MAX_PARTICIPANTS (default 500) does not
 * count them; the presenter sends two room messages, far under ROOM_MESSAGES_PER_SECOND; nothing
 * rate-limits the board's edits or its namespace's connections; a board keeps its followers in a Set,
 * not on an EventEmitter, so there is no listener limit to pass.
 */
const LAB_SERVER_ENV = { WIRE_ACCOUNTING: 'on' } as const;

type SideId = 'socket.io' | 'ws-baseline';

export interface FanoutFailure {
  side: SideId;
  /** The board version, or the baseline's sequence number. */
  id: number;
  /** Clients that had it within the bound, of `participants`. */
  received: number;
  error?: string;
}

export interface FanoutSide {
  id: SideId;
  label: string;
  /** Recorded changes sent (warm-up excluded). */
  changes: number;
  /** Of those, received by all N within the bound: the figures below are over these. */
  complete: number;
  failed: number;
  /** Last-receiver delay, ms (exact nearest-rank). */
  lastP50Ms: number;
  lastP99Ms: number;
  lastMaxMs: number;
  lastMeanMs: number;
  /** First-receiver delay, ms: the server's way to its first client. */
  firstP50Ms: number;
  firstP99Ms: number;
  /** CPU per recorded change over its blocks, ms: the side's server process, and this one (the N
   *  clients' receipts, plus the POST or publish). /proc ticks of 10 ms, summed over every block. */
  serverCpuMsPerChange: number;
  benchCpuMsPerChange: number;
  /** Duplicate or out-of-order receipts, and clients that disconnected while measuring. */
  duplicates: number;
  disconnects: number;
  /** Every recorded change's last-receiver delay in the order sent, ms (null: failed): whether the
   *  slow ones come together (the machine) or alone. */
  lastMsInOrder: Array<number | null>;
  /** Socket.io side ÷ baseline at the same percentile; undefined for the baseline. */
  ratioP50?: number;
  ratioP99?: number;
}

export interface FanoutResult {
  settings: {
    participants: number;
    rateHz: number;
    changesPerSide: number;
    warmupChangesPerSide: number;
    blockChanges: number;
    receiptBoundMs: number;
    connectBatch: number;
    /** Bytes of one board change's websocket frame payload (socket.io's `42/board,[…]`), and of
     *  each baseline message, sized from it. */
    messageBytes: number;
    edit: string;
    serverEnv: Record<string, string>;
  };
  sides: FanoutSide[];
  failures: FanoutFailure[];
  /** Each child's clock minus the bench's, ms, before and after measuring (expected ~0 ± uncertainty). */
  clock: { lab: ClockEstimate[]; baseline: ClockEstimate[] };
  /** Time to connect (and subscribe) all N clients, ms. */
  connectMs: { lab: number; baseline: number };
  loadAverage1m: { before: number; after: number };
  wallSeconds: number;
}

// ── Receipts ────────────────────────────────────────────────────────────────────────────────────────

const epochNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface Change {
  id: number;
  warmup: boolean;
  /** The server's time of the change, epoch ms (from the first receipt or the POST's answer). */
  at?: number;
  received: number;
  firstAt?: number;
  lastAt?: number;
  error?: string;
  settle?: () => void;
  done: Promise<void>;
}

/** Every change of one side: who got it, and when the first and the last client did. */
class Tracker {
  readonly changes = new Map<number, Change>();
  /** The id each client last received: a change must arrive once, in order. */
  private readonly lastSeen: Int32Array;
  duplicates = 0;
  disconnects = 0;
  /** Set while warming up: the changes made meanwhile are not recorded. */
  warmup = true;

  constructor(
    readonly side: SideId,
    readonly n: number,
  ) {
    this.lastSeen = new Int32Array(n);
  }

  change(id: number): Change {
    let change = this.changes.get(id);
    if (!change) {
      let settle: (() => void) | undefined;
      const done = new Promise<void>((resolve) => {
        settle = resolve;
      });
      change = { id, warmup: this.warmup, received: 0, done, settle };
      this.changes.set(id, change);
    }
    return change;
  }

  /** Called first thing in each client's handler, with the time it was called. */
  receipt(client: number, id: number, at: number, now: number): void {
    if (id <= (this.lastSeen[client] ?? 0)) {
      this.duplicates += 1;
      return;
    }
    this.lastSeen[client] = id;
    const change = this.change(id);
    change.at ??= at;
    change.received += 1;
    change.firstAt ??= now;
    change.lastAt = now;
    if (change.received === this.n) change.settle?.();
  }

  /** Waits until each change has reached every client, or its bound has passed. */
  async settle(ids: number[]): Promise<void> {
    await Promise.all(
      ids.map((id) => {
        const change = this.change(id);
        const deadline = (change.at ?? epochNow()) + RECEIPT_BOUND_MS - epochNow();
        let timer: NodeJS.Timeout | undefined;
        return Promise.race([
          change.done,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, Math.max(0, deadline));
          }),
        ]).finally(() => clearTimeout(timer));
      }),
    );
  }

  complete(change: Change): boolean {
    return (
      change.error === undefined &&
      change.received === this.n &&
      change.at !== undefined &&
      change.lastAt !== undefined &&
      change.lastAt - change.at <= RECEIPT_BOUND_MS
    );
  }
}

function round3(value: number): number {
  return Math.round(value * 1_000) / 1_000;
}

function summarise(
  tracker: Tracker,
  label: string,
  cpu: { server: number; bench: number },
): { side: FanoutSide; failures: FanoutFailure[] } {
  const recorded = [...tracker.changes.values()].filter((c) => !c.warmup);
  const complete = recorded.filter((c) => tracker.complete(c));
  const failures: FanoutFailure[] = recorded
    .filter((c) => !tracker.complete(c))
    .map((c) => ({
      side: tracker.side,
      id: c.id,
      received: c.received,
      ...(c.error ? { error: c.error } : {}),
    }));
  const last = complete.map((c) => (c.lastAt as number) - (c.at as number)).sort((a, b) => a - b);
  const first = complete.map((c) => (c.firstAt as number) - (c.at as number)).sort((a, b) => a - b);
  const mean = last.length > 0 ? last.reduce((s, v) => s + v, 0) / last.length : Number.NaN;
  const perChange = (ms: number) =>
    recorded.length > 0 ? Math.round((ms / recorded.length) * 100) / 100 : 0;
  return {
    side: {
      id: tracker.side,
      label,
      changes: recorded.length,
      complete: complete.length,
      failed: failures.length,
      lastP50Ms: round3(nearestRank(last, 50)),
      lastP99Ms: round3(nearestRank(last, 99)),
      lastMaxMs: round3(last.at(-1) ?? Number.NaN),
      lastMeanMs: round3(mean),
      firstP50Ms: round3(nearestRank(first, 50)),
      firstP99Ms: round3(nearestRank(first, 99)),
      serverCpuMsPerChange: perChange(cpu.server),
      benchCpuMsPerChange: perChange(cpu.bench),
      duplicates: tracker.duplicates,
      disconnects: tracker.disconnects,
      lastMsInOrder: recorded.map((c) =>
        tracker.complete(c) ? round3((c.lastAt as number) - (c.at as number)) : null,
      ),
    },
    failures,
  };
}

// ── The two sides ───────────────────────────────────────────────────────────────────────────────────

interface Side {
  tracker: Tracker;
  pid: number;
  /** Sends change number `k` of this side; resolves with its id once the server has taken it. */
  send(k: number): Promise<number>;
  cpu: { server: number; bench: number };
}

type BoardSocket = Socket<BoardServerToClientEvents, BoardClientToServerEvents>;
type RoomSocket = Socket<RoomServerToClientEvents, RoomClientToServerEvents>;

function timeout<T>(label: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${label}: no answer in ${STEP_TIMEOUT_MS} ms`)),
        STEP_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

/** Runs `make(i)` for i in 0..n-1, `batch` at a time. */
async function inBatches<T>(n: number, batch: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    out.push(...(await Promise.all(Array.from({ length: size }, (_, j) => make(start + j)))));
  }
  return out;
}

/** The child's clock against this process's, NTP-style: the sample with the shortest round trip wins. */
export async function clockOf(sample: () => Promise<ClockSample>): Promise<ClockEstimate> {
  const samples: ClockSample[] = [];
  for (let i = 0; i < CLOCK_SAMPLES; i++) samples.push(await sample());
  return estimateClockOffset(samples);
}

const wsBroadcastScript = fileURLToPath(new URL('./wsBroadcastServer.ts', import.meta.url));

async function startWsBroadcastServer(): Promise<{
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}> {
  const started = await startChildProcess({
    label: 'ws baseline server',
    nodeArgs: ['--import', 'tsx', wsBroadcastScript],
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    ready: (line) => {
      const match = /^listening (\d+)$/.exec(line);
      return match?.[1] ? Number(match[1]) : undefined;
    },
  });
  return {
    child: started.child,
    url: `ws://127.0.0.1:${started.ready}`,
    stop: () => started.stop(5_000),
  };
}

// ── The run ─────────────────────────────────────────────────────────────────────────────────────────

export async function measureFanout(options: FanoutOptions): Promise<FanoutResult> {
  const n = options.participants;
  const changesPerSide = options.seconds * FANOUT_RATE_HZ;
  const started = performance.now();
  const loadBefore = loadavg()[0] ?? 0;
  let lab: ChildServer | undefined;
  let baseline: Awaited<ReturnType<typeof startWsBroadcastServer>> | undefined;
  let presenter: RoomSocket | undefined;
  const boardSockets: BoardSocket[] = [];
  const wsClients: WebSocket[] = [];
  let publisher: WebSocket | undefined;
  try {
    options.log(
      `fan-out: ${n} receivers per side, ${changesPerSide} changes each at ${FANOUT_RATE_HZ} Hz after ` +
        `${WARMUP_CHANGES} warm-up changes, blocks of ${BLOCK_CHANGES} alternating`,
    );
    lab = await startChild('on', LAB_SERVER_ENV.WIRE_ACCOUNTING, undefined);
    baseline = await startWsBroadcastServer();
    const labUrl = lab.url;

    // The presenter: a room, and the credentials its edits are made with.
    presenter = io(`${labUrl}${ROOM_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await timeout('presenter connect', connected(presenter));
    const room = CreateRoomAck.parse(
      await timeout('room:create', presenter.emitWithAck(ROOM_EVENTS.create, { device: 'desktop' })),
    );
    if (!room.ok) throw new Error(`room:create refused: ${room.error.code} ${room.error.message}`);
    const code = room.room.code;
    const credentials = { participantId: room.self, token: room.participantToken };

    // The socket.io receivers, each with its handler before it subscribes.
    const labTracker = new Tracker('socket.io', n);
    // What the first client was sent, parsed with the shared schema after the measurement (a parse per
    // receipt would add the bench's own work to the socket.io side's figure only).
    const receivedByFirst: unknown[] = [];
    let messageBytes = 0;
    let connectStarted = performance.now();
    await inBatches(n, CONNECT_BATCH, async (i) => {
      const socket: BoardSocket = io(`${labUrl}${BOARD_NAMESPACE}`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      boardSockets.push(socket);
      socket.on(BOARD_EVENTS.change, (change) => {
        const now = epochNow();
        labTracker.receipt(i, change.version, change.at, now);
        if (i === 0) receivedByFirst.push(change);
      });
      await timeout(`board client ${i} connect`, connected(socket));
      socket.on('disconnect', () => {
        labTracker.disconnects += 1;
      });
      if (i === 0) {
        // The frame as it travels: engine.io's `4` (message) before socket.io's `2/board,[…]`.
        socket.io.engine.on('data', (data) => {
          if (typeof data === 'string' && data.includes(BOARD_EVENTS.change))
            messageBytes = Math.max(messageBytes, 1 + Buffer.byteLength(data));
        });
      }
      const ack = BoardSubscribeAck.parse(
        await timeout(
          `board client ${i} subscribe`,
          socket.emitWithAck(BOARD_EVENTS.subscribe, { code, after: 0 }),
        ),
      );
      if (!ack.ok) throw new Error(`board:subscribe refused: ${ack.error.code} ${ack.error.message}`);
    });
    const labConnectMs = performance.now() - connectStarted;

    // The baseline's receivers and its publisher.
    const baseTracker = new Tracker('ws-baseline', n);
    const baseUrl = baseline.url;
    connectStarted = performance.now();
    await inBatches(n, CONNECT_BATCH, async (i) => {
      const client = new WebSocket(baseUrl);
      wsClients.push(client);
      client.on('message', (data: Buffer) => {
        const now = epochNow();
        const message = JSON.parse(data.toString('utf8')) as { seq: number; at: number };
        baseTracker.receipt(i, message.seq, message.at, now);
      });
      await timeout(`ws client ${i} open`, once(client, 'open'));
      client.on('close', () => {
        baseTracker.disconnects += 1;
      });
    });
    const baseConnectMs = performance.now() - connectStarted;
    publisher = new WebSocket(`${baseUrl}/publish`);
    await timeout('publisher open', once(publisher, 'open'));
    const control = publisher;
    const pendingTimes: Array<(answer: { receivedAt: number; sentAt: number }) => void> = [];
    control.on('message', (data: Buffer) => {
      const answer = JSON.parse(data.toString('utf8')) as {
        type: string;
        receivedAt: number;
        sentAt: number;
      };
      if (answer.type === 'time') pendingTimes.shift()?.(answer);
    });

    const clocks = async () => ({
      lab: await clockOf(async () => {
        const t0 = epochNow();
        const res = await timeout('GET /api/time', fetch(`${labUrl}${API_PATHS.time}`));
        const { receivedAt, sentAt } = TimeResponse.parse(await res.json());
        return { t0, t1: receivedAt, t2: sentAt, t3: epochNow() };
      }),
      baseline: await clockOf(async () => {
        const t0 = epochNow();
        const answer = await timeout(
          'baseline time',
          new Promise<{ receivedAt: number; sentAt: number }>((resolve) => {
            pendingTimes.push(resolve);
            control.send(JSON.stringify({ type: 'time' }));
          }),
        );
        return { t0, t1: answer.receivedAt, t2: answer.sentAt, t3: epochNow() };
      }),
    });
    const clockBefore = await clocks();

    const labSide: Side = {
      tracker: labTracker,
      pid: lab.pid,
      cpu: { server: 0, bench: 0 },
      async send(k) {
        const editId = `fanout-${k}`;
        try {
          const res = await timeout(
            `POST edit ${k}`,
            fetch(`${labUrl}${BOARD_PATHS.edits(code)}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ ...credentials, editId, op: { type: 'slider.set', value: k % 101 } }),
            }),
          );
          if (res.status !== 200) throw new Error(`POST edit answered ${res.status} ${await res.text()}`);
          const { change } = BoardEditResponse.parse(await res.json());
          const tracked = labTracker.change(change.version);
          if (tracked.at !== undefined && tracked.at !== change.at)
            tracked.error = `its \`at\` is ${tracked.at} as received, ${change.at} in the POST's answer`;
          tracked.at ??= change.at;
          return change.version;
        } catch (error) {
          // A change that never was: recorded as a failure under an id of its own (below any version).
          const failed = labTracker.change(-1 - k);
          failed.error = error instanceof Error ? error.message : String(error);
          return failed.id;
        }
      },
    };
    const baseSide: Side = {
      tracker: baseTracker,
      pid: baseline.child.pid as number,
      cpu: { server: 0, bench: 0 },
      async send(k) {
        const seq = k + 1;
        baseTracker.change(seq);
        control.send(JSON.stringify({ type: 'broadcast', seq, bytes: messageBytes }));
        return seq;
      },
    };

    const sent = { lab: 0, base: 0 };
    /** `count` changes of one side, one every INTERVAL_MS; then waits until they have all arrived. */
    const block = async (side: Side, count: number, record: boolean) => {
      side.tracker.warmup = !record;
      const serverBefore = cpuTimeMs(side.pid);
      const benchBefore = process.cpuUsage();
      const first = performance.now();
      const answers: Promise<number>[] = [];
      for (let j = 0; j < count; j++) {
        // On an absolute schedule: a late timer does not push the next changes later.
        await sleep(first + j * INTERVAL_MS - performance.now());
        const k = side === labSide ? sent.lab++ : sent.base++;
        answers.push(side.send(k));
      }
      const ids = await Promise.all(answers);
      await side.tracker.settle(ids.filter((id) => id > 0));
      // The channel's last receipt is in: count this block's CPU before the other side starts.
      const bench = process.cpuUsage(benchBefore);
      if (record) {
        side.cpu.server += cpuTimeMs(side.pid) - serverBefore;
        side.cpu.bench += (bench.user + bench.system) / 1_000;
      }
      // The gap a change would have left before the next one.
      await sleep(first + count * INTERVAL_MS - performance.now());
    };

    await block(labSide, WARMUP_CHANGES, false);
    if (messageBytes === 0)
      throw new Error('no board change reached the first socket.io client in the warm-up');
    await block(baseSide, WARMUP_CHANGES, false);
    const blocks = Math.ceil(changesPerSide / BLOCK_CHANGES);
    for (let b = 0; b < blocks; b++) {
      const count = Math.min(BLOCK_CHANGES, changesPerSide - b * BLOCK_CHANGES);
      // AB BA AB …: neither side always goes first, right after a quiet moment.
      const order = b % 2 === 0 ? [labSide, baseSide] : [baseSide, labSide];
      for (const side of order) await block(side, count, true);
      const recorded = (t: Tracker) => [...t.changes.values()].filter((c) => !c.warmup).length;
      options.log(`  block ${b + 1}/${blocks}: ${recorded(labTracker)} changes recorded per side`);
    }
    const clockAfter = await clocks();
    for (const payload of receivedByFirst) {
      const change = BoardChange.parse(payload);
      if (labTracker.change(change.version).at !== change.at)
        throw new Error(
          `board change ${change.version}: its \`at\` differs between receipt and the POST's answer`,
        );
    }

    const labSummary = summarise(labTracker, `socket.io /board, ${n} clients`, labSide.cpu);
    const baseSummary = summarise(baseTracker, `ws baseline, ${n} clients`, baseSide.cpu);
    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : undefined);
    const labRow: FanoutSide = {
      ...labSummary.side,
      ratioP50: ratio(labSummary.side.lastP50Ms, baseSummary.side.lastP50Ms),
      ratioP99: ratio(labSummary.side.lastP99Ms, baseSummary.side.lastP99Ms),
    };
    return {
      settings: {
        participants: n,
        rateHz: FANOUT_RATE_HZ,
        changesPerSide,
        warmupChangesPerSide: WARMUP_CHANGES,
        blockChanges: BLOCK_CHANGES,
        receiptBoundMs: RECEIPT_BOUND_MS,
        connectBatch: CONNECT_BATCH,
        messageBytes,
        edit: `POST ${BOARD_ROUTES.edits} {op: {type: 'slider.set', value}} by the presenter`,
        serverEnv: { LOG_LEVEL: process.env.BENCH_SERVER_LOG ?? 'silent', ...LAB_SERVER_ENV },
      },
      sides: [labRow, baseSummary.side],
      failures: [...labSummary.failures, ...baseSummary.failures],
      clock: {
        lab: [clockBefore.lab, clockAfter.lab],
        baseline: [clockBefore.baseline, clockAfter.baseline],
      },
      connectMs: { lab: Math.round(labConnectMs), baseline: Math.round(baseConnectMs) },
      loadAverage1m: {
        before: Math.round(loadBefore * 100) / 100,
        after: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      },
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    for (const socket of boardSockets) socket.disconnect();
    presenter?.disconnect();
    for (const client of wsClients) client.terminate();
    publisher?.terminate();
    await baseline?.stop();
    await lab?.stop();
  }
}

// ── The table ───────────────────────────────────────────────────────────────────────────────────────

export function fanoutTable(result: FanoutResult): string {
  const fmt = (value: number) => value.toFixed(3);
  const times = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(2)}×`);
  const header = [
    'case',
    'changes',
    'failed',
    'last p50 ms',
    'last p99 ms',
    'last max ms',
    'first p50 ms',
    'server CPU ms/change',
    'bench CPU ms/change',
    '× baseline p50',
    '× baseline p99',
  ];
  const body = result.sides.map((side) => [
    side.label,
    String(side.changes),
    String(side.failed),
    fmt(side.lastP50Ms),
    fmt(side.lastP99Ms),
    fmt(side.lastMaxMs),
    fmt(side.firstP50Ms),
    side.serverCpuMsPerChange.toFixed(2),
    side.benchCpuMsPerChange.toFixed(2),
    side.id === 'ws-baseline' ? '—' : times(side.ratioP50),
    side.id === 'ws-baseline' ? '—' : times(side.ratioP99),
  ]);
  const rendered = textTable(header, body);
  const offsets = (estimates: ClockEstimate[]) =>
    estimates.map((e) => `${e.offsetMs.toFixed(3)} ± ${e.uncertaintyMs.toFixed(3)}`).join(', then ');
  const failures = result.failures.map(
    (f) =>
      `  FAILED ${f.side} change ${f.id}: ${f.received} of ${result.settings.participants} clients within ` +
      `${result.settings.receiptBoundMs} ms${f.error ? ` (${f.error})` : ''}`,
  );
  const anomalies = result.sides
    .filter((s) => s.duplicates > 0 || s.disconnects > 0)
    .map(
      (s) => `  ${s.id}: ${s.duplicates} duplicate or out-of-order receipts, ${s.disconnects} disconnects`,
    );
  return [
    ...rendered,
    '',
    `Delay = the change's server time \`at\` → its receipt by the last (first) of the ${result.settings.participants} ` +
      `clients, one system clock; ${result.settings.messageBytes}-byte frames; exact nearest-rank over the complete changes.`,
    `Children's clocks minus the bench's, ms: lab ${offsets(result.clock.lab)}; baseline ${offsets(result.clock.baseline)}.`,
    `Connecting ${result.settings.participants} clients: socket.io ${result.connectMs.lab} ms (with subscribe), ` +
      `ws ${result.connectMs.baseline} ms; section ${result.wallSeconds} s; load average (1 min) ` +
      `${result.loadAverage1m.before} before, ${result.loadAverage1m.after} after.`,
    ...failures,
    ...anomalies,
  ].join('\n');
}
