import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type ClientToServerEvents,
  isTerminalEvent,
  type ServerToClientEvents,
  SOCKET_EVENTS,
  type TaskEvent,
} from '@transport-lab/shared';
import { io as connect, type Socket } from 'socket.io-client';
import { type AppHandle, createServer, listen } from '../src/app.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { deleteTestKeys, TEST_REDIS_URL } from './redisForTests.ts';

export type LabClient = Socket<ServerToClientEvents, ClientToServerEvents>;

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'transport-lab-test-'));
}

export interface TestServer {
  app: AppHandle;
  baseUrl: string;
  /** Origin of the built-in webhook receiver; its delivery URL is app.receiver.urls().webhookUrl. */
  receiverUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

let serversOnRedis = false;
/**
 * From now on in this test file, startTestServer's servers keep their tasks and keys on Redis
 * (redisForTests.ts), not SQLite alone: for a suite run again on Redis (laneContract.redis.test.ts).
 * Each under a prefix named after its DATA_DIR, so that a server started again on that folder finds
 * its tasks; the keys go with the folder (a caller that brings its own DATA_DIR deletes neither).
 */
export function testServersOnRedis(): void {
  serversOnRedis = true;
}

/** A real server in this process on a free port, with its own SQLite file; `deps` as createServer's. */
export async function startTestServer(
  env: Partial<Record<keyof Config, string>> = {},
  deps: Parameters<typeof createServer>[2] = {},
): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? tempDataDir();
  const redisPrefix =
    serversOnRedis && !env.REDIS_URL ? `transport-lab-test:${basename(dataDir)}:` : undefined;
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    STATIC_DIR: join(dataDir, 'no-client'),
    // The event-loop guard (MAX_EVENT_LOOP_DELAY_MS, 200 ms by default) refuses new tasks while the
    // loop runs late; on a loaded 2-core CI machine a test's own server crossed it and a websocket
    // task:start was refused (lanes.test.ts, 1 run in a loaded one). Tests of the guard set it
    // (overload.test.ts); the others test lanes, not admission, and leave it out of the way.
    MAX_EVENT_LOOP_DELAY_MS: '60000',
    ...(redisPrefix ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redisPrefix } : {}),
    ...env,
    DATA_DIR: dataDir,
    PORT: '0',
  });
  const app = await createServer(config, undefined, deps);
  const { port, receiverPort } = await listen(app, { port: 0, receiverPort: 0, host: '127.0.0.1' });
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    receiverUrl: `http://127.0.0.1:${receiverPort}`,
    dataDir,
    async close() {
      await app.close();
      if (env.DATA_DIR) return;
      rmSync(dataDir, { recursive: true, force: true });
      if (redisPrefix) await deleteTestKeys(redisPrefix);
    },
  };
}

/** A socket.io client on the websocket transport alone, connected; `query`: its handshake's (the
 *  lane's tags, `labTagQuery`). */
export async function connectClient(
  baseUrl: string,
  reconnectionDelayMs = 50,
  query?: Record<string, string>,
): Promise<LabClient> {
  const socket: LabClient = connect(baseUrl, {
    transports: ['websocket'],
    ...(query ? { query, forceNew: true } : {}),
    reconnectionDelay: reconnectionDelayMs,
    reconnectionDelayMax: reconnectionDelayMs * 4,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Collects `task:event`s per task in arrival order; `until` resolves once a condition holds. */
export class EventCollector {
  readonly byTask = new Map<string, TaskEvent[]>();
  private readonly watchers = new Set<() => void>();

  constructor(socket: LabClient) {
    socket.on(SOCKET_EVENTS.event, (event) => this.add(event));
  }

  add(event: TaskEvent): void {
    const list = this.byTask.get(event.taskId) ?? [];
    list.push(event);
    this.byTask.set(event.taskId, list);
    for (const watcher of [...this.watchers]) watcher();
  }

  events(taskId: string): TaskEvent[] {
    return this.byTask.get(taskId) ?? [];
  }

  /** Resolves once `predicate` holds for the task's events, checked now and on each arrival. */
  until(taskId: string, predicate: (events: TaskEvent[]) => boolean): Promise<TaskEvent[]> {
    return new Promise((resolve) => {
      const watcher = () => {
        const list = this.events(taskId);
        if (!predicate(list)) return;
        this.watchers.delete(watcher);
        resolve(list);
      };
      this.watchers.add(watcher);
      watcher();
    });
  }

  terminal(taskId: string): Promise<TaskEvent[]> {
    return this.until(taskId, (events) => events.some(isTerminalEvent));
  }
}

export function emitAck<E extends keyof ClientToServerEvents>(
  socket: LabClient,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
): Promise<Parameters<Parameters<ClientToServerEvents[E]>[1]>[0]> {
  // socket.io's typed emit cannot see through the generic E; the shape is fixed by the parameters above.
  const untyped = socket as unknown as { emit: (e: string, p: unknown, ack: (res: unknown) => void) => void };
  return new Promise((resolve) => untyped.emit(event, payload, (res) => resolve(res as never)));
}

/** Checks the promises every lane makes about one task's event stream; returns a list of breaches. */
export function streamBreaches(events: TaskEvent[], steps: number): string[] {
  const breaches: string[] = [];
  events.forEach((event, index) => {
    if (event.seq !== index + 1) breaches.push(`event ${index} has seq ${event.seq}, expected ${index + 1}`);
  });
  const terminals = events.filter(isTerminalEvent);
  if (terminals.length !== 1) breaches.push(`${terminals.length} terminal events`);
  if (terminals[0] && events.at(-1) !== terminals[0]) breaches.push('terminal event is not the last');
  if (events[0]?.type !== 'queued') breaches.push('first event is not queued');
  if (events[1]?.type !== 'started') breaches.push('second event is not started');
  const progress = events.filter((e) => e.type === 'progress');
  progress.forEach((event, index) => {
    if (event.step !== index + 1) breaches.push(`progress ${index} is step ${event.step}`);
    if (event.steps !== steps) breaches.push(`progress ${index} says ${event.steps} steps`);
  });
  for (let i = 1; i < events.length; i++) {
    const [prev, next] = [events[i - 1], events[i]];
    if (prev && next && next.at < prev.at) breaches.push(`event ${i} is stamped before event ${i - 1}`);
  }
  return breaches;
}

/** `npm start`'s entry point, main.ts (the supervisor), in a child process. */
export interface Supervised {
  child: ChildProcess;
  /** The n-th start's app and receiver origins (1-based), once printed; rejects if the supervisor
   *  exits first, or after 30 s. */
  started(n: number): Promise<{ baseUrl: string; receiverOrigin: string }>;
  /** How the supervisor ended, once it has. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it has printed so far. */
  stdout(): string;
  stderr(): string;
}

export function spawnSupervisor(dataDir: string, env: Record<string, string> = {}): Supervised {
  return spawnEntry('src/main.ts', dataDir, env);
}

/** The server itself (`serve.ts`, no supervisor) in a child process: one instance, which a `kill -9`
 *  ends for good (nothing starts it again). Its `started(1)` says where it listens. */
export function spawnInstance(dataDir: string, env: Record<string, string> = {}): Supervised {
  return spawnEntry('src/serve.ts', dataDir, env);
}

function spawnEntry(entry: string, dataDir: string, env: Record<string, string>): Supervised {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: serverDir,
    env: {
      ...process.env,
      // On SQLite whatever the shell says (CI exports REDIS_URL for the Redis tests): a test that
      // wants Redis passes it in `env`.
      REDIS_URL: '',
      PORT: '0',
      RECEIVER_PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      STATIC_DIR: join(dataDir, 'no-client'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const urls: string[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    stdout += `${line}\n`;
    const app = /listening on (http:\/\/\S+)/.exec(line);
    const receiver = /"your backend"\) at (http:\/\/[^/\s]+)/.exec(line);
    if (app?.[1]) urls.push(app[1].replace('localhost', '127.0.0.1'));
    if (receiver?.[1]) urls.push(receiver[1]);
    wake();
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      wake();
    }),
  );
  const started = (n: number) =>
    new Promise<{ baseUrl: string; receiverOrigin: string }>((resolve, reject) => {
      const done = () => {
        waiters.delete(check);
        clearTimeout(timer);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`start ${n}: no listening lines within 30 s\n${stdout}${stderr}`));
      }, 30_000);
      const check = () => {
        const [baseUrl, receiverOrigin] = urls.slice((n - 1) * 2, n * 2);
        if (baseUrl && receiverOrigin) {
          done();
          resolve({ baseUrl, receiverOrigin });
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          const how = child.signalCode ?? child.exitCode;
          reject(new Error(`start ${n}: the supervisor ended (${how}) before listening\n${stdout}${stderr}`));
        }
      };
      waiters.add(check);
      check();
    });
  return { child, started, ended, stdout: () => stdout, stderr: () => stderr };
}

/** The real entry point in a child process, so that it can be killed like a crashing server. */
export async function spawnServer(dataDir: string): Promise<{ child: ChildProcess; baseUrl: string }> {
  const supervised = spawnSupervisor(dataDir);
  const { baseUrl } = await supervised.started(1);
  return { child: supervised.child, baseUrl };
}

export function killed(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
