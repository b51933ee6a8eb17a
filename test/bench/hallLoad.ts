// A hall of simulated phones, to drive a CPU profile of the server (issue 10):
//
//   taskset -c 1 npx tsx test/bench/hallLoad.ts --phones 100 [--cpu-prof DIR] [--server-core 0]
//                                              [--server-env NAME=VALUE …] [--server-dir DIR]
//                                              [--lanes websocket,sse,…]
//
// Starts the real server (`src/serve.ts`, logs silent, WIRE_ACCOUNTING and the rest at their defaults)
// in a child pinned to one core with `taskset`, optionally under `node --cpu-prof`. Each phone starts
// within the first `--spread-ms` and runs five lanes at once on one task each (3 s, 20 steps: 23
// events): request/response (`POST /api/tasks/run`), short polling (`POST /api/tasks`, then `GET` with
// `If-None-Match` at the server's Retry-After), long polling (`GET …/events`, held up to 25 s), SSE
// (`GET …/stream`) and websocket (socket.io, `task:start`). Every request is tagged with the lane and
// the phone's run id, as the page tags them. Each phone has its own keep-alive connections, as a
// browser would. A warm-up hall of `--warmup-phones` runs first (not counted; the profile holds it).
// A task the server refuses (503, or the socket's UNAVAILABLE: it is past what it can serve) is
// counted as refused, and its lane ends there; `--server-env MAX_EVENT_LOOP_DELAY_MS=60000` turns the
// delay-based refusal off, to price the same work with and without a change; `--server-dir` runs
// another checkout's server folder (an export of an older commit) against the same load.
//
// Printed: the server's CPU per delivered event (`utime + stime` of the child from /proc, all its
// threads, over the measured hall), the create latency (POST /api/tasks and the socket's start ack),
// the server's schedule lateness (`at − dueAt` of every event received) and the delivery lag (receipt
// − `at`, one machine, one clock). A delivered event is one that reached a client: every socket, SSE
// and long-poll event, and for short polling and request/response the events a new state covered.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  API_PATHS,
  type ClientToServerEvents,
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
import { send } from './httpSend.ts';
import { threadCpuMs } from './processes.ts';

/** A lane that has not ended this long after its phone started has failed. */
const LANE_TIMEOUT_MS = 60_000;
const LONG_POLL_WAIT_MS = 25_000;

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    phones: { type: 'string', default: '100' },
    'warmup-phones': { type: 'string', default: '10' },
    'spread-ms': { type: 'string', default: '1000' },
    'duration-ms': { type: 'string', default: '3000' },
    steps: { type: 'string', default: '20' },
    'server-core': { type: 'string', default: '0' },
    'server-env': { type: 'string', multiple: true, default: [] },
    'server-dir': { type: 'string', default: fileURLToPath(new URL('../../server', import.meta.url)) },
    /** A comma-separated subset of the five lanes, to price one lane's events alone. */
    lanes: { type: 'string' },
    'cpu-prof': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const phones = Number(values.phones);
const serverEnv = Object.fromEntries(
  values['server-env'].map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const warmupPhones = Number(values['warmup-phones']);
const spreadMs = Number(values['spread-ms']);
const spec: TaskSpec = { durationMs: Number(values['duration-ms']), steps: Number(values.steps) };

const epochNow = () => performance.timeOrigin + performance.now();
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of the process (every thread), ms. */
function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

// ── The server ───────────────────────────────────────────────────────────────────────────────────────

interface Child {
  child: ChildProcess;
  /** performance.now() when it was spawned: its --cpu-prof profile starts then, within a few ms. */
  spawnedAt: number;
  url: string;
  stop(): Promise<void>;
}

async function startServer(core: string, cpuProfDir: string | undefined): Promise<Child> {
  const dataDir = mkdtempSync(join(tmpdir(), 'transport-lab-hall-'));
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const spawnedAt = performance.now();
  // taskset execs node: the child's pid is the server's.
  // HALL_NODE_ARGS: node flags for the server (e.g. a V8 heap setting to compare).
  const nodeArgs = (process.env.HALL_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    'taskset',
    ['-c', core, process.execPath, ...nodeArgs, '--import', 'tsx', ...profile, 'src/serve.ts'],
    {
      cwd: values['server-dir'],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        RECEIVER_PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: process.env.HALL_SERVER_LOG ?? 'silent',
        STATIC_DIR: join(dataDir, 'no-client'),
        ...serverEnv,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match?.[1]) resolve(match[1].replace('localhost', '127.0.0.1'));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return {
    child,
    spawnedAt,
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM'); // serve.ts closes cleanly and --cpu-prof writes its profile
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ── What the hall records ────────────────────────────────────────────────────────────────────────────

interface Tally {
  events: number;
  /** POST /api/tasks answer times and the socket's start ack, ms. */
  createMs: number[];
  /** at − dueAt of every event a client received as an event, ms. */
  latenessMs: number[];
  /** Receipt − at, ms. */
  lagMs: number[];
  /** New tasks the server refused as overloaded, by lane. */
  refused: Partial<Record<LaneId, number>>;
  failures: string[];
}

const newTally = (): Tally => ({
  events: 0,
  createMs: [],
  latenessMs: [],
  lagMs: [],
  refused: {},
  failures: [],
});

/** The server refused the task as overloaded (503 UNAVAILABLE, or the socket ack's error). */
class Refused extends Error {}

function received(tally: Tally, event: TaskEvent, receivedAt: number): void {
  tally.events += 1;
  if (event.dueAt !== undefined) tally.latenessMs.push(event.at - event.dueAt);
  tally.lagMs.push(receivedAt - event.at);
}

// ── HTTP on node:http, a keep-alive agent per phone ──────────────────────────────────────────────────

interface Phone {
  url: string;
  agent: Agent;
  runId: string;
  tally: Tally;
}

const tagged = (phone: Phone, lane: LaneId): Record<string, string> =>
  labTagHeaders({ lane, runId: phone.runId } satisfies LabTag);

async function createTask(phone: Phone, lane: LaneId): Promise<{ id: string; retryAfterMs: number }> {
  const started = performance.now();
  const answer = await send(phone.agent, `${phone.url}${API_PATHS.tasks}`, 'POST', tagged(phone, lane), {
    spec,
  });
  phone.tally.createMs.push(performance.now() - started);
  if (answer.status === 503) throw new Refused(lane);
  if (answer.status !== 202) throw new Error(`${lane}: POST /api/tasks answered ${answer.status}`);
  const { task } = TaskResponse.parse(JSON.parse(answer.body));
  const retryAfterS = Number(answer.headers[HTTP_HEADERS.retryAfter.toLowerCase()] ?? 1);
  return { id: task.id, retryAfterMs: retryAfterS * 1000 };
}

// ── The five lanes ───────────────────────────────────────────────────────────────────────────────────

async function requestResponse(phone: Phone): Promise<void> {
  const answer = await send(
    phone.agent,
    `${phone.url}${API_PATHS.run}`,
    'POST',
    tagged(phone, 'request-response'),
    spec,
  );
  if (answer.status === 503) throw new Refused('request-response');
  if (answer.status !== 200) throw new Error(`request-response answered ${answer.status}`);
  phone.tally.events += TaskResponse.parse(JSON.parse(answer.body)).task.lastSeq;
}

async function shortPolling(phone: Phone): Promise<void> {
  const { id, retryAfterMs } = await createTask(phone, 'short-polling');
  let etag: string | undefined;
  let seen = 1;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    const answer = await send(phone.agent, `${phone.url}${API_PATHS.task(id)}`, 'GET', {
      ...tagged(phone, 'short-polling'),
      ...(etag ? { [HTTP_HEADERS.ifNoneMatch]: etag } : {}),
    });
    if (answer.status === 304) continue;
    if (answer.status !== 200) throw new Error(`short-polling GET answered ${answer.status}`);
    etag = String(answer.headers.etag);
    const { task } = TaskResponse.parse(JSON.parse(answer.body));
    phone.tally.events += task.lastSeq - seen;
    seen = task.lastSeq;
    if (TERMINAL_STATUSES.has(task.status)) return;
  }
}

async function longPolling(phone: Phone): Promise<void> {
  const { id } = await createTask(phone, 'long-polling');
  let after = 0;
  for (;;) {
    const answer = await send(
      phone.agent,
      `${phone.url}${API_PATHS.events(id)}?after=${after}&waitMs=${LONG_POLL_WAIT_MS}`,
      'GET',
      tagged(phone, 'long-polling'),
    );
    const at = epochNow();
    if (answer.status !== 200) throw new Error(`long-polling answered ${answer.status}`);
    const { events, nextAfter } = EventsResponse.parse(JSON.parse(answer.body));
    for (const event of events) received(phone.tally, event, at);
    after = nextAfter;
    if (events.some(isTerminalEvent)) return;
  }
}

function sse(phone: Phone): Promise<void> {
  return createTask(phone, 'sse').then(
    ({ id }) =>
      new Promise<void>((resolve, reject) => {
        const query = new URLSearchParams({
          after: '0',
          ...labTagQuery({ lane: 'sse', runId: phone.runId }),
        });
        const req = request(`${phone.url}${API_PATHS.stream(id)}?${query}`, { agent: phone.agent }, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`sse answered ${res.statusCode}`));
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            const at = epochNow();
            buffer += chunk;
            let end = buffer.indexOf('\n\n');
            while (end !== -1) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              end = buffer.indexOf('\n\n');
              // Only `message` events carry task events; the `wire` event and comments do not.
              const type = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
              if (type !== 'message') continue;
              const data = block
                .split('\n')
                .filter((line) => line.startsWith('data:'))
                .map((line) => line.slice(5).trimStart())
                .join('\n');
              if (data) received(phone.tally, TaskEvent.parse(JSON.parse(data)), at);
            }
          });
          res.on('end', () => resolve());
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
  );
}

type LabSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function websocket(phone: Phone): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: LabSocket = io(phone.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      query: labTagQuery({ lane: 'websocket', runId: phone.runId }),
    });
    const finish = (error?: Error) => {
      socket.disconnect();
      if (error) reject(error);
      else resolve();
    };
    socket.on(SOCKET_EVENTS.event, (event) => {
      received(phone.tally, event, epochNow());
      if (isTerminalEvent(event)) finish();
    });
    socket.once('connect_error', (error) => finish(error));
    const started = performance.now();
    socket.emit(SOCKET_EVENTS.start, spec, (raw) => {
      phone.tally.createMs.push(performance.now() - started);
      const ack = StartAck.parse(raw);
      if (!ack.ok) {
        finish(
          ack.error.code === 'UNAVAILABLE'
            ? new Refused('websocket')
            : new Error(`websocket: ${ack.error.code} ${ack.error.message}`),
        );
      }
    });
  });
}

const LANES: Array<[LaneId, (phone: Phone) => Promise<void>]> = [
  ['request-response', requestResponse],
  ['short-polling', shortPolling],
  ['long-polling', longPolling],
  ['sse', sse],
  ['websocket', websocket],
];

const chosen = values.lanes?.split(',');
const lanes = chosen ? LANES.filter(([lane]) => chosen.includes(lane)) : LANES;

// ── A hall ───────────────────────────────────────────────────────────────────────────────────────────

async function hall(url: string, count: number, label: string): Promise<Tally> {
  const tally = newTally();
  const runs: Array<Promise<void>> = [];
  for (let n = 0; n < count; n++) {
    const phone: Phone = {
      url,
      // A browser's six connections per origin, kept alive.
      agent: new Agent({ keepAlive: true, maxSockets: 6 }),
      runId: `hall_${label}_${process.pid}_${n}`,
      tally,
    };
    const startAt = (n / count) * spreadMs;
    runs.push(
      new Promise<void>((resolve) => setTimeout(resolve, startAt))
        .then(() =>
          Promise.all(
            lanes.map(([lane, run]) => {
              let timer: NodeJS.Timeout | undefined;
              const timeout = new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`${lane}: no end in time`)), LANE_TIMEOUT_MS);
              });
              return Promise.race([run(phone), timeout])
                .catch((error: unknown) => {
                  if (error instanceof Refused) {
                    tally.refused[lane] = (tally.refused[lane] ?? 0) + 1;
                    return;
                  }
                  tally.failures.push(`${lane}: ${error instanceof Error ? error.message : String(error)}`);
                })
                .finally(() => clearTimeout(timer));
            }),
          ),
        )
        .then(() => phone.agent.destroy()),
    );
  }
  await Promise.all(runs);
  return tally;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const server = await startServer(values['server-core'], values['cpu-prof']);
  const pid = server.child.pid as number;
  try {
    if (warmupPhones > 0) await hall(server.url, warmupPhones, 'warmup');
    const fromMs = performance.now() - server.spawnedAt;
    const cpuBefore = cpuTimeMs(pid);
    const threadsBefore = threadCpuMs(pid);
    const loadCpuBefore = process.cpuUsage();
    const wallStart = performance.now();
    const tally = await hall(server.url, phones, 'hall');
    const wallMs = performance.now() - wallStart;
    const cpuMs = cpuTimeMs(pid) - cpuBefore;
    const threadsAfter = threadCpuMs(pid);
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const toMs = performance.now() - server.spawnedAt;
    const summary = {
      phones,
      lanes: lanes.map(([lane]) => lane),
      spec,
      spreadMs,
      wallMs: Math.round(wallMs),
      serverCpuMs: Math.round(cpuMs),
      // Where it went: the main thread and the others (V8's GC helpers, libuv's pool, the WAL
      // checkpointer's worker), processes.ts; threads that ended during the hall are in serverCpuMs only.
      serverCpuByThreadMs: Object.fromEntries(
        [...threadsAfter]
          .map(([name, ms]) => [name, Math.round(ms - (threadsBefore.get(name) ?? 0))] as const)
          .filter(([, ms]) => ms > 0)
          .sort((a, b) => b[1] - a[1]),
      ),
      events: tally.events,
      serverCpuUsPerEvent: round((cpuMs * 1000) / tally.events),
      // The phones' own CPU: near wallMs, the load itself was the bottleneck.
      loadCpuMs: Math.round((loadCpu.user + loadCpu.system) / 1000),
      createMs: {
        n: tally.createMs.length,
        p50: round(percentile(tally.createMs, 50)),
        p99: round(percentile(tally.createMs, 99)),
        max: round(percentile(tally.createMs, 100)),
      },
      latenessMs: {
        p50: round(percentile(tally.latenessMs, 50), 2),
        p99: round(percentile(tally.latenessMs, 99), 2),
        max: round(percentile(tally.latenessMs, 100), 2),
      },
      lagMs: {
        p50: round(percentile(tally.lagMs, 50), 2),
        p99: round(percentile(tally.lagMs, 99), 2),
        max: round(percentile(tally.lagMs, 100), 2),
      },
      // The measured hall since the server was spawned, for `profileCli.ts --from-ms --to-ms`.
      profileWindowMs: { from: Math.round(fromMs), to: Math.round(toMs) },
      refused: tally.refused,
      failures: tally.failures.length,
      firstFailures: tally.failures.slice(0, 5),
    };
    console.log(JSON.stringify(summary, null, values.json ? 0 : 2));
  } finally {
    await server.stop();
  }
}

await main();
